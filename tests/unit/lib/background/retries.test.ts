import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addExchange } from '@/lib/chat/conversation-store';
import { readPause, readServerLimits, readWindowState, saveLimits } from '@/lib/limits/limiter-store';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { MAX_ATTEMPTS } from '@/lib/queue/retry-policy';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB, type Job } from '@/lib/storage/db';
import { settingsItem } from '@/lib/settings/settings-items';
import type { Behaviour, ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { realWakeTimers, testBackground } from './background-app';

let server: ClaudeServer;
let db: PaceDB;
let online: boolean;
let wake: ReturnType<typeof realWakeTimers>;

useClaudeServer((s) => (server = s));
beforeEach(async () => {
  db = new PaceDB(`retries-${Math.random()}`);
  online = true;
  wake = realWakeTimers();
  await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: server.url, model: 'claude-haiku-4-5', maxTokens: 100 });
  await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 100, perMonth: 1000 });
});
afterEach(async () => {
  wake.clear();
  await db.delete();
});

/** The background as the entrypoint wires it (createBackgroundApp), with fast backoff, a short stall limit and real wake timers. */
function queue() {
  const { setTimer, clearTimer } = wake;
  return testBackground(db, server.url, {
    online: () => online,
    // Backoff waits 30% of its ceiling: 300 ms, 600 ms, 1.2 s...
    random: () => 0.3,
    stallMs: 300,
    setTimer,
    clearTimer,
  }).app;
}

let n = 0;
const ask = (text: string) =>
  addExchange(db, { conversationId: null, text, now: Date.now(), newId: () => `r${++n}`, model: 'm' });

async function settled(id: string, timeout = 15_000): Promise<Job> {
  const start = Date.now();
  for (;;) {
    const job = (await db.jobs.get(id))!;
    if (job.state === 'done' || job.state === 'failed' || job.state === 'cancelled') return job;
    if (Date.now() - start > timeout) throw new Error(`job ${id} still ${job.state} (${job.waitReason ?? ''})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function localCount() {
  return (await readWindowState(db, Date.now(), DEFAULT_LIMITS)).monthCount;
}

describe('retries through the queue, against the local Claude server with the real SDK', () => {
  it.each<[string, Behaviour]>([
    ['529 overloaded', { kind: 'error', status: 529, type: 'overloaded_error' }],
    ['500', { kind: 'error', status: 500, type: 'api_error' }],
    ['504 timeout', { kind: 'error', status: 504, type: 'timeout_error' }],
    ['a dropped connection', { kind: 'drop', textBefore: 'Half an ' }],
    ['an error in the middle of the stream', { kind: 'midStreamError', textBefore: 'Half an ' }],
    ['a stall', { kind: 'stall', textBefore: 'Half an ' }],
  ])(
    '%s, then success: retried with backoff, answered once, every attempt counted and logged',
    async (_label, fault) => {
      server.script(fault, { kind: 'text', text: 'Whole answer.' });
      const ex = await ask('hello');
      await queue().pump();
      const job = await settled(ex.assistantMessageId);
      expect(job.state).toBe('done');
      expect(job.attempts).toBe(2);
      expect(job.log?.map((a) => a.outcome)).toEqual([expect.any(String), 'ok']);
      expect(job.log?.[0]?.waitMs).toBeGreaterThanOrEqual(300);
      expect(await db.messages.get(ex.assistantMessageId)).toMatchObject({ status: 'done', text: 'Whole answer.' });
      expect(server.messageRequests()).toHaveLength(2);
      expect(await localCount()).toBe(2);
    },
  );

  it(`gives up after ${MAX_ATTEMPTS} attempts, saying it was the server's side (the local server stands where a gateway would)`, async () => {
    server.setDefault({ kind: 'error', status: 529, type: 'overloaded_error' });
    const ex = await ask('hello');
    await queue().pump();
    const job = await settled(ex.assistantMessageId, 30_000);
    expect(job.state).toBe('failed');
    expect(server.messageRequests()).toHaveLength(MAX_ATTEMPTS);
    const m = await db.messages.get(ex.assistantMessageId);
    expect(m?.error?.message).toContain(`Pace tried ${MAX_ATTEMPTS} times`);
    expect(m?.error?.message).toContain(`this is on ${new URL(server.url).host}'s side or the network's`);
    // Each wait doubled the one before (full jitter at a fixed 30%: 300, 600, 1200, 2400 ms), and the
    // server saw each request no sooner than its wait: how much later depends on the machine's load.
    const planned = [300, 600, 1200, 2400];
    expect(job.log?.slice(0, -1).map((a) => a.waitMs)).toEqual(planned);
    const gaps = server
      .messageRequests()
      .map((r, i, all) => (i ? r.at - all[i - 1]!.at : 0))
      .slice(1);
    gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(planned[i]!));
    expect(gaps[3]! - gaps[2]!).toBeGreaterThan(600);
    expect(await localCount()).toBe(MAX_ATTEMPTS);
  }, 40_000);

  it.each<[string, Behaviour, string]>([
    ['401', { kind: 'error', status: 401, type: 'authentication_error' }, 'wrong_key'],
    ['400', { kind: 'error', status: 400, type: 'invalid_request_error' }, 'bad_request'],
    ['403', { kind: 'error', status: 403, type: 'permission_error' }, 'permission_denied'],
    ['404', { kind: 'error', status: 404, type: 'not_found_error' }, 'not_found'],
    ['413', { kind: 'error', status: 413, type: 'request_too_large' }, 'too_large'],
    ['402', { kind: 'error', status: 402, type: 'billing_error' }, 'billing'],
  ])('a %s is not retried', async (_label, fault, code) => {
    server.script(fault);
    const ex = await ask('hello');
    await queue().pump();
    const job = await settled(ex.assistantMessageId);
    expect(job.state).toBe('failed');
    expect((await db.messages.get(ex.assistantMessageId))?.error?.code).toBe(code);
    expect(server.messageRequests()).toHaveLength(1);
  });

  it('a 429 with retry-after pauses the whole queue until then, then both jobs go', async () => {
    server.script({ kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: 1 });
    const a = await ask('first');
    const q = queue();
    await q.pump();
    // The second question arrives once the first was refused and the pause recorded: it must wait too.
    await expect.poll(async () => (await readPause(db))?.reason).toBe('rate_limited');
    const b = await ask('second');
    await q.pump();
    await settled(a.assistantMessageId);
    await settled(b.assistantMessageId);
    const reqs = server.messageRequests();
    // The 429, then both jobs, neither before the retry-after.
    expect(reqs.length).toBeGreaterThanOrEqual(3);
    const refusedAt = reqs[0]!.at;
    for (const r of reqs.slice(1)) expect(r.at - refusedAt).toBeGreaterThanOrEqual(950);
    expect((await readPause(db))?.reason).toBe('rate_limited');
    expect(await localCount()).toBe(reqs.length);
  });

  it('a spend-cap 429 pauses sending until 00:00 UTC on the 1st and says so', async () => {
    server.script({ kind: 'error', status: 429, type: 'rate_limit_error', errorCode: 'enforced_spend_limit_reached' });
    const ex = await ask('hello');
    await queue().pump();
    await expect.poll(async () => (await db.jobs.get(ex.assistantMessageId))?.state).toBe('waiting');
    const first = new Date();
    const reset = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 1);
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ waitReason: 'server', waitUntil: reset });
    expect(await readPause(db)).toMatchObject({ reason: 'spend_limit', until: reset });
    expect((await db.messages.get(ex.assistantMessageId))?.error?.message).toMatch(/spend limit is reached.*00:00 UTC/);
    expect(server.messageRequests()).toHaveLength(1);
  });

  it("follows the server's figures when they are stricter than the local window", async () => {
    const reset = new Date(Date.now() + 1200).toISOString();
    server.script({
      kind: 'text',
      text: 'One.',
      headers: { 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': reset },
    });
    const a = await ask('first');
    const q = queue();
    await q.pump();
    await settled(a.assistantMessageId);
    expect(await readServerLimits(db)).toMatchObject({ remaining: 0, reset: Date.parse(reset) });
    const b = await ask('second');
    await q.pump();
    expect(await db.jobs.get(b.assistantMessageId)).toMatchObject({ state: 'waiting', waitReason: 'server' });
    await settled(b.assistantMessageId);
    expect(server.messageRequests()[1]!.at).toBeGreaterThanOrEqual(Date.parse(reset));
  });

  it('sends nothing while offline and goes when the network is back', async () => {
    online = false;
    const ex = await ask('hello');
    const q = queue();
    await q.pump();
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'waiting', waitReason: 'offline' });
    expect(server.messageRequests()).toHaveLength(0);
    online = true;
    await q.pump();
    expect((await settled(ex.assistantMessageId)).state).toBe('done');
    expect(await localCount()).toBe(1);
  });
});
