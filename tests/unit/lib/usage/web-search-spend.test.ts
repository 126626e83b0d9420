/**
 * Issue 24, the money side: a web search costs $0.01 (dated data beside the model prices), in the
 * ledger's cost, the day and month totals and the export; a batch halves tokens, never searches;
 * thinking is priced as output because the API counts it in output_tokens; a send reserves its
 * `max_uses` searches, and a budget too small for them refuses with the figures; a search count
 * that is not one never reaches the month's spend. Real admission and ledger transactions on
 * fake-indexeddb.
 */
import { readFileSync } from 'node:fs';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyStreamEvent, emptyAnswer } from '@/lib/claude/stream';
import { admit } from '@/lib/limits/admit';
import { decideBudget, maxWebSearches, NO_BUDGET, worstCaseUsd, type RequestCost } from '@/lib/limits/budget';
import { readBudgetView, saveBudget } from '@/lib/limits/budget-store';
import { saveLimits } from '@/lib/limits/limiter-store';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { PaceDB, type TokenUsage, type UsageRow } from '@/lib/storage/db';
import { recordAttempt, tokensOf } from '@/lib/usage/attempt-ledger';
import { settleUsage } from '@/lib/usage/ledger-store';
import {
  batchCostBreakdown,
  costBreakdown,
  PRICES_AS_OF,
  priceFor,
  WEB_SEARCH_PRICE_AS_OF,
  WEB_SEARCH_USD,
} from '@/lib/usage/prices';
import { summarize } from '@/lib/usage/summary';
import { addRow, dayKey, emptyTotals, removeRow } from '@/lib/usage/totals';
import { usageToCsv } from '@/lib/usage/usage-export';
import { row } from './fixtures';

let db: PaceDB;
beforeEach(async () => {
  db = new PaceDB(`searches-${Math.random()}`);
  await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 100_000, perMonth: 1_000_000 });
});
afterEach(async () => {
  await db.delete();
});

const NOW = Date.UTC(2026, 10, 20, 12);
const MODEL = 'claude-sonnet-4-6'; // $3 / $15 per million
const log = () => undefined;
const usage = (inputTokens: number, outputTokens: number, webSearches?: number): TokenUsage => ({
  inputTokens,
  outputTokens,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  ...(webSearches === undefined ? {} : { webSearches }),
});
const monthSpend = async () => (await readBudgetView(db, NOW))!.periods[0]!;
const month = async () => (await db.usageMonths.get(monthWindow(NOW, 'utc').key))!;

async function admitted(id: string, cost: RequestCost): Promise<number> {
  await db.jobs.add({ id, conversationId: 'c', state: 'queued', createdAt: NOW, attempts: 0 });
  const a = await admit(db, NOW, id, { cost });
  if (!a.ok || a.usageId === undefined) throw new Error(`not admitted: ${JSON.stringify(a)}`);
  return a.usageId;
}

function attemptRow(u: TokenUsage, extra: Partial<UsageRow> = {}): Omit<UsageRow, 'id' | 'costUsd'> {
  return {
    at: NOW,
    model: MODEL,
    conversationId: 'c',
    messageId: 'j1',
    outcome: 'ok',
    usage: u,
    ttftMs: 1,
    totalMs: 2,
    attempt: 1,
    fromCache: false,
    ...extra,
  };
}

describe('the price of a web search', () => {
  it('is $10 per 1,000 searches, dated like the model prices', () => {
    expect(WEB_SEARCH_USD).toBe(0.01);
    expect(WEB_SEARCH_PRICE_AS_OF).toBe(PRICES_AS_OF);
  });

  it('adds $0.01 a search to the cost, apart from input and output', () => {
    const c = costBreakdown(MODEL, usage(1_000, 500, 3))!;
    expect(c.webSearch).toBeCloseTo(0.03, 12);
    expect(c.input).toBeCloseTo(0.003, 12);
    expect(c.output).toBeCloseTo(0.0075, 12);
    expect(c.total).toBeCloseTo(0.003 + 0.0075 + 0.03, 12);
    expect(costBreakdown(MODEL, usage(1_000, 500))!.webSearch).toBe(0);
    // An unknown model's searches do not make its cost known.
    expect(costBreakdown('some-unknown-model', usage(1_000, 500, 3))).toBeNull();
  });

  it('is full price in a Message Batch, which halves the tokens only', () => {
    const full = costBreakdown(MODEL, usage(1_000, 500, 2))!;
    const batch = batchCostBreakdown(MODEL, usage(1_000, 500, 2))!;
    expect(batch.webSearch).toBeCloseTo(0.02, 12);
    expect(batch.input).toBeCloseTo(full.input / 2, 12);
    expect(batch.output).toBeCloseTo(full.output / 2, 12);
    expect(batch.total).toBeCloseTo((full.input + full.output) / 2 + 0.02, 12);
  });

  it('prices thinking as output: the API counts it in output_tokens, once', () => {
    const text = readFileSync(new URL('../../../support/fixtures/thinking.sse', import.meta.url), 'utf8');
    const events = text
      .split('\n\n')
      .map((b) => b.split('\n').find((l) => l.startsWith('data: ')))
      .filter((l): l is string => !!l)
      .map((l) => JSON.parse(l.slice(6)) as RawMessageStreamEvent);
    const answer = events.reduce(applyStreamEvent, emptyAnswer());
    expect(answer.thinking).not.toBe('');
    expect(tokensOf(answer)).toEqual(usage(40, 96));
    expect(costBreakdown('claude-sonnet-4-6', tokensOf(answer))!.output).toBeCloseTo((96 * 15) / 1e6, 12);
  });
});

describe('web searches in the ledger, the totals and the export', () => {
  it("puts the searches in the row's cost and its own figure, and in the day's and month's totals", async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 10 });
    const id = await admitted('j1', { model: MODEL, inputTokens: 2_000, maxTokens: 1_000, webSearches: 3 });
    await recordAttempt(db, id, attemptRow(usage(1_000, 500, 2)), { cacheTtl: '5m', gatewayCost: null }, log);
    const stored = (await db.usage.get(id))!;
    expect(stored.usage.webSearches).toBe(2);
    expect(stored.webSearchUsd).toBeCloseTo(0.02, 12);
    expect(stored.costUsd).toBeCloseTo(0.003 + 0.0075 + 0.02, 12);
    expect(await month()).toMatchObject({ webSearches: 2, webSearchUsd: expect.closeTo(0.02, 12) as number });
    expect(await db.usageDays.get(dayKey(NOW))).toMatchObject({
      webSearches: 2,
      webSearchUsd: expect.closeTo(0.02, 12) as number,
    });
    // The budget counts the searches as spent, and the reservation (3 searches) is gone.
    expect(await monthSpend()).toMatchObject({ settled: expect.closeTo(0.0305, 12) as number, reserved: 0 });
    const csv = usageToCsv([stored]).split('\r\n')[1]!.split(',');
    expect(csv.slice(-2)).toEqual(['2', '0.02']);
    const summary = summarize({ days: [], month: await month(), limits: DEFAULT_LIMITS, now: NOW });
    expect(summary.month).toMatchObject({ webSearches: 2, webSearchUsd: expect.closeTo(0.02, 12) as number });
  });

  it('takes a row out of the totals with its searches when it is replaced', () => {
    const searched = row({ usage: usage(10, 10, 4), costUsd: 0.05, webSearchUsd: 0.04 });
    const t = addRow(emptyTotals(), searched);
    expect(t).toMatchObject({ webSearches: 4, webSearchUsd: 0.04 });
    expect(removeRow(t, searched)).toMatchObject({ webSearches: 0, webSearchUsd: 0 });
    // Totals written before searches were counted have no such fields: they start from none.
    const old = { ...emptyTotals(), webSearches: undefined, webSearchUsd: undefined };
    expect(addRow(old, searched)).toMatchObject({ webSearches: 4, webSearchUsd: 0.04 });
  });

  it("keeps a gateway's own cost figure as the row's cost, and its list figure with the searches beside it", async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 10 });
    const id = await admitted('j1', { model: MODEL, inputTokens: 2_000, maxTokens: 1_000, webSearches: 3 });
    await recordAttempt(db, id, attemptRow(usage(1_000, 500, 3)), { cacheTtl: '5m', gatewayCost: 0.004 }, log);
    const stored = (await db.usage.get(id))!;
    expect(stored).toMatchObject({ costFrom: 'gateway', costUsd: 0.004 });
    expect(stored.listCostUsd).toBeCloseTo(0.0105 + 0.03, 12);
    expect(stored.webSearchUsd).toBeCloseTo(0.03, 12);
    // The budget never counts less than the list price, searches included.
    expect((await monthSpend()).settled).toBeCloseTo(0.0405, 12);
  });
});

describe('a search count that is not one', () => {
  it('settles as unknown usage: no cost, no searches counted, the worst case (searches included) kept as spent', async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 10 });
    const cost: RequestCost = { model: MODEL, inputTokens: 2_000, maxTokens: 1_000, webSearches: 3 };
    const worst = worstCaseUsd(priceFor(MODEL)!, cost)!;
    const bad = [-3, 'x', 1.5, Number.NaN, Number.POSITIVE_INFINITY] as unknown[];
    for (const [i, webSearches] of bad.entries()) {
      const id = await admitted(`j${i}`, cost);
      await settleUsage(db, id, {
        outcome: 'ok',
        usage: { ...usage(1_000, 500), webSearches: webSearches as number },
        costUsd: 0.5,
        webSearchUsd: -0.03,
      });
      expect(await db.usage.get(id), String(webSearches)).toMatchObject({
        usage: usage(0, 0),
        usageUnknown: true,
        costUsd: null,
        webSearchUsd: null,
      });
    }
    expect(await month()).toMatchObject({ webSearches: 0, webSearchUsd: 0, costUsd: 0, unknownCost: bad.length });
    expect((await monthSpend()).settled).toBeCloseTo(worst * bad.length, 12);
  });

  it("that the stream could not believe makes the attempt's usage unknown in the ledger", async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 10 });
    const cost: RequestCost = { model: MODEL, inputTokens: 2_000, maxTokens: 1_000, webSearches: 3 };
    const id = await admitted('j1', cost);
    const answer = [
      { type: 'message_start', message: { id: 'm', model: MODEL, usage: { input_tokens: 1_000, output_tokens: 1 } } },
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn' },
        usage: { output_tokens: 500, server_tool_use: { web_search_requests: -3 } },
      },
    ].reduce((a, e) => applyStreamEvent(a, e as unknown as RawMessageStreamEvent), emptyAnswer());
    expect(answer.webSearchesUnknown).toBe(true);
    await recordAttempt(
      db,
      id,
      attemptRow(tokensOf(answer), { usageUnknown: true }),
      { cacheTtl: '5m', gatewayCost: null },
      log,
    );
    expect(await db.usage.get(id)).toMatchObject({ costUsd: null, usageUnknown: true, webSearchUsd: null });
    expect((await monthSpend()).settled).toBeCloseTo(worstCaseUsd(priceFor(MODEL)!, cost)!, 12);
  });
});

describe("a send's worst case reserves its searches", () => {
  const cost: RequestCost = { model: MODEL, inputTokens: 1_000, maxTokens: 1_000, webSearches: 3 };

  it('adds max_uses x $0.01 to the tokens, at full price in a batch', () => {
    const tokens = worstCaseUsd(priceFor(MODEL)!, { ...cost, webSearches: undefined })!;
    expect(tokens).toBeCloseTo(0.003 + 0.015, 12);
    expect(worstCaseUsd(priceFor(MODEL)!, cost)).toBeCloseTo(tokens + 0.03, 12);
    expect(worstCaseUsd(priceFor(MODEL)!, { ...cost, batch: true })).toBeCloseTo(tokens / 2 + 0.03, 12);
  });

  it("reads the searches a request may run from its web_search tool's max_uses", () => {
    expect(maxWebSearches({ model: MODEL })).toBe(0);
    expect(maxWebSearches({ tools: [] })).toBe(0);
    expect(maxWebSearches({ tools: [{ type: 'web_search_20260209', name: 'web_search', max_uses: 3 }] })).toBe(3);
    expect(maxWebSearches({ tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 7 }] })).toBe(7);
    // A tool without a believable figure reserves the most Pace asks for.
    expect(maxWebSearches({ tools: [{ type: 'web_search_20260209', name: 'web_search' }] })).toBe(10);
    expect(
      maxWebSearches({
        tools: [
          { name: 'web_search', max_uses: -1 },
          { name: 'other', max_uses: 5 },
        ],
      }),
    ).toBe(10);
  });

  it('refuses a send whose searches do not fit the budget, naming them and their cost', () => {
    const tokens = worstCaseUsd(priceFor(MODEL)!, { ...cost, webSearches: undefined })!;
    const budget = { ...NO_BUDGET, monthlyUsd: 0.04 };
    const spend = { reserved: {}, extra: {} };
    // Without the searches it fits; with them it does not.
    expect(decideBudget(NOW, 'utc', budget, spend, { month: 0, day: 0 }, { ...cost, webSearches: 0 })).toMatchObject({
      ok: true,
      reserve: { usd: expect.closeTo(tokens, 12) as number },
    });
    const refused = decideBudget(NOW, 'utc', budget, spend, { month: 0, day: 0 }, cost);
    expect(refused).toMatchObject({ ok: false, reason: 'refused' });
    const message = refused.ok || refused.reason !== 'refused' ? '' : refused.error.message;
    expect(message).toMatch(
      /^Not sent: this request could cost up to \$0\.05, including up to 3 web searches \(\$0\.03\) at \$10 per 1,000; \$0\.04 of your \$0\.04 monthly budget is left; it resets /,
    );
    const one = decideBudget(
      NOW,
      'utc',
      { ...budget, monthlyUsd: 0.02 },
      spend,
      { month: 0, day: 0 },
      {
        ...cost,
        webSearches: 1,
      },
    );
    expect(one.ok || one.reason !== 'refused' ? '' : one.error.message).toContain('up to 1 web search ($0.01)');
  });

  it('holds the searches in the reservation while the send is on its way', async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 10 });
    await admitted('j1', cost);
    expect((await monthSpend()).reserved).toBeCloseTo(worstCaseUsd(priceFor(MODEL)!, cost)!, 12);
    expect((await monthSpend()).reserved).toBeCloseTo(0.018 + 0.03, 12);
  });
});
