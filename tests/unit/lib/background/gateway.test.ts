/**
 * A team gateway (the LiteLLM stand-in in tests/support) through the background app: its
 * rate-limit headers become the server's figures under its own name, its cost of each request goes
 * in the ledger, and its /key/info budget reaches the popup, asked at most once a minute and again
 * after answers; a gateway without /key/info, or with junk there, shows nothing.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGatewayBudget, keyInfoURL } from '@/lib/usage/gateway-key-info';
import { readServerLimits, saveLimits } from '@/lib/limits/limiter-store';
import { NO_BUDGET } from '@/lib/limits/budget';
import { readBudgetView, saveBudget } from '@/lib/limits/budget-store';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB, type Job } from '@/lib/storage/db';
import { settingsItem } from '@/lib/settings/settings-items';
import { estimateCost } from '@/lib/usage/prices';
import { readGatewayBudget } from '@/lib/usage/gateway-budget';
import { startLiteLLMStandIn, VIRTUAL_KEY, type LiteLLMStandIn } from '../../../support/litellm-standin';
import { startRedirectServer } from '../../../support/redirect-server';
import { testBackground } from './background-app';
import { handlerDeps } from './handler-deps';

let gateway: LiteLLMStandIn;
let db: PaceDB;
const HEADERS = 'X-Team: team-secret-value-42';

beforeAll(async () => {
  gateway = await startLiteLLMStandIn({
    rpmLimit: 100,
    tpmLimit: 50_000,
    maxBudget: 50,
    spend: 37.6,
    price: { input: 3, output: 15 },
  });
});
afterAll(async () => {
  await gateway.close();
});
beforeEach(async () => {
  db = new PaceDB(`gateway-${Math.random()}`);
  gateway.requests.length = 0;
  gateway.setKeyInfo('on');
  await settingsItem.setValue({
    ...DEFAULT_SETTINGS,
    baseURL: gateway.url,
    model: 'claude-sonnet-5-5',
    maxTokens: 100,
    extraHeaders: HEADERS,
  });
  await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 10, perMonth: 100 });
});
afterEach(async () => {
  vi.useRealTimers();
  db.close();
  await db.delete();
});

const creds = (baseURL: string) => async () => ({ apiKey: VIRTUAL_KEY, baseURL, demo: false });

/** The background with the team's virtual key saved and the stand-in confirmed as its gateway. */
function background() {
  const { keys } = handlerDeps(db, gateway.url);
  return testBackground(db, gateway.url, { keys: { ...keys, credentials: creds(gateway.url) } });
}

async function until(id: string, ok: (job: Job) => boolean): Promise<Job> {
  const end = performance.now() + 10_000;
  for (;;) {
    const job = await db.jobs.get(id);
    if (job && ok(job)) return job;
    if (performance.now() > end) throw new Error(`job ${id} is ${job?.state ?? 'gone'}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const keyInfoRequests = () => gateway.requests.filter((r) => r.path === '/key/info' && r.method === 'GET');

describe('a team gateway through the background', () => {
  it('reads its headers: the figures under its name, its cost in the ledger, and its budget after the answer', async () => {
    const { client } = background();
    const before = await client.request('gateway.budget', {});
    expect(before).toEqual({
      ok: true,
      data: {
        baseURL: gateway.url,
        checkedAt: expect.any(Number) as unknown,
        budget: { spend: 37.6, maxBudget: 50, resetAt: Date.UTC(2026, 11, 1) },
      },
    });

    gateway.upstream.script({ kind: 'text', text: 'Hello from behind the gateway.' });
    const sent = await client.request('chat.send', { conversationId: null, text: 'hello' });
    if (!sent.ok) throw new Error(sent.error.message);
    await until(sent.data.assistantMessageId, (j) => j.state === 'done');

    const [row] = await db.usage.toArray();
    const charged = gateway.requests.find((r) => r.cost !== undefined)!.cost!;
    expect(row).toMatchObject({ outcome: 'ok', costUsd: charged, costFrom: 'gateway' });
    // The gateway's own price, not Pace's table.
    expect(charged).not.toBeCloseTo(estimateCost('claude-sonnet-5-5', row!.usage)!, 9);
    expect(row!.inputCostUsd).toBeGreaterThan(0);
    expect(row!.inputCostUsd).toBeLessThan(charged);

    const host = new URL(gateway.url).host;
    expect(await readServerLimits(db)).toMatchObject({
      limit: 100,
      remaining: 99,
      by: host,
      tokens: { limit: 50_000 },
    });

    // The answer moved the spend: the background asks /key/info again and the popup's row follows.
    await vi.waitFor(async () => expect((await readGatewayBudget(db))?.budget?.spend).toBeCloseTo(37.6 + charged, 12), {
      timeout: 5000,
      interval: 20,
    });
    expect(keyInfoRequests()).toHaveLength(2);
    for (const r of keyInfoRequests()) {
      expect(r.headers.authorization).toBe(`Bearer ${VIRTUAL_KEY}`);
      expect(r.headers['x-team']).toBe('team-secret-value-42');
    }
    // The stored row holds neither the key nor the gateway's header.
    expect(JSON.stringify(await db.meta.toArray())).not.toMatch(new RegExp(`${VIRTUAL_KEY}|team-secret-value-42`));
  });

  it('counts an answer in the spend budget at list prices even when the gateway says it cost nothing', async () => {
    const free = await startLiteLLMStandIn({ price: { input: 0, output: 0 } });
    try {
      await settingsItem.setValue({
        ...DEFAULT_SETTINGS,
        baseURL: free.url,
        model: 'claude-sonnet-5-5',
        maxTokens: 100,
        extraHeaders: HEADERS,
      });
      await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 5 });
      const { keys } = handlerDeps(db, free.url);
      const { client } = testBackground(db, free.url, { keys: { ...keys, credentials: creds(free.url) } });
      free.upstream.script({ kind: 'text', text: 'Free, says the gateway.' });
      const sent = await client.request('chat.send', { conversationId: null, text: 'hello' });
      if (!sent.ok) throw new Error(sent.error.message);
      await until(sent.data.assistantMessageId, (j) => j.state === 'done');

      const [row] = await db.usage.toArray();
      const list = estimateCost('claude-sonnet-5-5', row!.usage)!;
      expect(list).toBeGreaterThan(0);
      // The ledger shows the gateway's figure; the budget counts the list price.
      expect(row).toMatchObject({ outcome: 'ok', costUsd: 0, costFrom: 'gateway', listCostUsd: list });
      expect((await readBudgetView(db, Date.now()))?.periods[0]).toMatchObject({
        settled: expect.closeTo(list, 12) as number,
        reserved: 0,
      });
    } finally {
      await free.close();
    }
  });

  it('asks /key/info at most once a minute when the popup opens', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 10, 30, 12));
    const { client } = background();
    await client.request('gateway.budget', {});
    await client.request('gateway.budget', {});
    vi.setSystemTime(Date.UTC(2026, 10, 30, 12) + 59_000);
    expect((await client.request('gateway.budget', {})).ok).toBe(true);
    expect(keyInfoRequests()).toHaveLength(1);
    vi.setSystemTime(Date.UTC(2026, 10, 30, 12) + 61_000);
    await client.request('gateway.budget', {});
    expect(keyInfoRequests()).toHaveLength(2);
  });

  it('shows nothing, quietly, for a gateway without /key/info (404) or with junk there', async () => {
    const log = vi.fn();
    for (const mode of ['absent', 'junk'] as const) {
      gateway.setKeyInfo(mode);
      const budget = createGatewayBudget({
        db,
        credentials: creds(gateway.url),
        settings: async () => ({ extraHeaders: '' }),
        now: Date.now,
        log,
      });
      expect(await budget.refresh('asked'), mode).toMatchObject({ baseURL: gateway.url, budget: null });
      await db.meta.clear();
    }
    // A 404 is no failure; junk is logged once, quietly, without the answer's text.
    expect(log).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(log.mock.calls)).not.toContain('LiteLLM Admin UI');
    const { client } = background();
    gateway.setKeyInfo('absent');
    expect(await client.request('gateway.budget', {})).toMatchObject({ ok: true, data: { budget: null } });
  });

  it("sends nothing to Anthropic's API, nothing without confirmed credentials, and follows no redirect", async () => {
    const fetch = vi.fn(async () => new Response('{}'));
    const settings = async () => ({ extraHeaders: HEADERS });
    expect(
      await createGatewayBudget({
        db,
        credentials: creds('https://api.anthropic.com'),
        settings,
        now: Date.now,
        fetch,
      }).refresh('asked'),
    ).toBeNull();
    expect(
      await createGatewayBudget({ db, credentials: async () => null, settings, now: Date.now, fetch }).refresh('asked'),
    ).toBeNull();
    expect(fetch).not.toHaveBeenCalled();

    const moved = await startRedirectServer(gateway.url);
    try {
      const budget = createGatewayBudget({
        db,
        credentials: creds(moved.url),
        settings,
        now: Date.now,
        log: () => undefined,
      });
      expect(await budget.refresh('asked')).toMatchObject({ baseURL: moved.url, budget: null });
      // Nothing learned, and not asked again within the minute.
      expect(await budget.refresh('asked')).toMatchObject({ budget: null });
      expect(moved.requests.map((r) => r.path)).toEqual(['/key/info']);
      expect(keyInfoRequests()).toHaveLength(0);
    } finally {
      await moved.close();
    }
  });

  it('asks on the base URL origin, beside the pass-through prefix', () => {
    expect(keyInfoURL('https://litellm.example.com')).toBe('https://litellm.example.com/key/info');
    expect(keyInfoURL('https://litellm.example.com/anthropic/')).toBe('https://litellm.example.com/key/info');
    expect(keyInfoURL('https://example.com/team/litellm')).toBe('https://example.com/team/litellm/key/info');
  });
});
