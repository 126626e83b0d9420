import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addExchange } from '@/lib/chat/conversation-store';
import { WINDOW_MS } from '@/lib/limits/admission';
import { NO_BUDGET } from '@/lib/limits/budget';
import { saveBudget } from '@/lib/limits/budget-store';
import { readWindowState, saveLimits } from '@/lib/limits/limiter-store';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import type { PaceError } from '@/lib/storage/rows';
import { nextCandidates, ordinal, waitingOrder } from '@/lib/queue/job-states';
import { createScheduler, type SchedulerDeps } from '@/lib/queue/scheduler';
import { PaceDB, type Job } from '@/lib/storage/db';
import { settleUsage } from '@/lib/usage/ledger-store';

let db: PaceDB;
let clock: number;
let started: string[];
let wakes: (number | null)[];
let release: Map<string, () => void>;

beforeEach(() => {
  db = new PaceDB(`sched-${Math.random()}`);
  clock = Date.UTC(2026, 10, 27, 12);
  started = [];
  wakes = [];
  release = new Map();
});
afterEach(async () => {
  await db.delete();
});

let n = 0;
const ask = (text: string, conversationId: string | null = null) =>
  addExchange(db, { conversationId, text, now: clock++, newId: () => `id${String(++n).padStart(4, '0')}`, model: 'm' });

function scheduler(overrides: Partial<SchedulerDeps> = {}) {
  return createScheduler({
    db,
    now: () => clock,
    blocker: async () => null,
    // Each started job stays in flight until the test releases it, then ends as done.
    startJob: (job) =>
      new Promise<void>((resolve) => {
        started.push(job.id);
        release.set(job.id, () => {
          void db.jobs.update(job.id, { state: 'done' }).then(() => resolve());
        });
      }),
    failJob: async (job, error: PaceError) => {
      await db.jobs.update(job.id, { state: 'failed' });
      await db.messages.update(job.id, { status: 'error', error });
    },
    wakeAt: (at) => wakes.push(at),
    changed: () => {
      for (const ran of onChanged.splice(0)) ran();
    },
    log: () => undefined,
    ...overrides,
  });
}

/** Resolvers waiting for the scheduler's next run to end (it calls `changed` last). */
const onChanged: (() => void)[] = [];

/** Ends a started job and waits for the queue run that its end sets off, however slow the machine. */
const finish = async (id: string) => {
  const ran = new Promise<void>((resolve) => onChanged.push(resolve));
  release.get(id)!();
  await ran;
};

describe('job states', () => {
  const job = (id: string, conversationId: string, state: Job['state'], createdAt: number): Job => ({
    id,
    conversationId,
    state,
    createdAt,
    attempts: 0,
  });

  it('offers the head of each idle conversation, oldest first, up to the concurrency cap', () => {
    const jobs = [
      job('a2', 'A', 'queued', 3),
      job('a1', 'A', 'queued', 1),
      job('b1', 'B', 'waiting', 2),
      job('c1', 'C', 'queued', 4),
    ];
    expect(nextCandidates(jobs, 2).map((j) => j.id)).toEqual(['a1', 'b1']);
    expect(nextCandidates(jobs, 5).map((j) => j.id)).toEqual(['a1', 'b1', 'c1']);
  });

  it('holds a conversation back while its earlier message is in flight', () => {
    const jobs = [job('a1', 'A', 'streaming', 1), job('a2', 'A', 'queued', 2), job('b1', 'B', 'queued', 3)];
    expect(nextCandidates(jobs, 2).map((j) => j.id)).toEqual(['b1']);
    expect(nextCandidates(jobs, 1)).toEqual([]);
  });

  it('orders the waiting jobs and names positions', () => {
    const jobs = [job('x', 'A', 'queued', 5), job('y', 'B', 'waiting', 2), job('z', 'C', 'done', 1)];
    expect(waitingOrder(jobs).map((j) => j.id)).toEqual(['y', 'x']);
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal)).toEqual([
      '1st',
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '101st',
    ]);
  });
});

describe('scheduler', () => {
  it('sends while the limiter allows, then waits with the time the next slot frees', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 2, perMonth: 100 });
    const asks = [];
    for (let i = 0; i < 4; i++) asks.push(await ask(`q${i}`));
    const t0 = clock;
    const s = scheduler({ maxActive: 10 });
    await s.pump();
    expect(started).toEqual([asks[0]!.assistantMessageId, asks[1]!.assistantMessageId]);
    expect(await db.jobs.get(asks[2]!.assistantMessageId)).toMatchObject({
      state: 'waiting',
      waitReason: 'minute',
      waitUntil: t0 + WINDOW_MS,
    });
    expect((await db.jobs.get(asks[3]!.assistantMessageId))?.state).toBe('queued');
    expect(wakes.at(-1)).toBe(t0 + WINDOW_MS);

    clock = t0 + WINDOW_MS;
    await s.pump();
    expect(started).toHaveLength(4);
    expect((await readWindowState(db, clock, DEFAULT_LIMITS)).monthCount).toBe(4);
    expect(wakes.at(-1)).toBe(null);
  });

  it('sends the messages of one conversation one after another', async () => {
    const a = await ask('first');
    const b = await ask('second', a.conversationId);
    const s = scheduler();
    await s.pump();
    expect(started).toEqual([a.assistantMessageId]);
    await finish(a.assistantMessageId);
    // The next run starts once the finished job is written: waited for, not guessed with a sleep.
    await expect.poll(() => started).toEqual([a.assistantMessageId, b.assistantMessageId]);
  });

  it('runs different conversations side by side up to the cap', async () => {
    const jobs = [await ask('a'), await ask('b'), await ask('c')];
    const s = scheduler({ maxActive: 2 });
    await s.pump();
    expect(started).toEqual([jobs[0]!.assistantMessageId, jobs[1]!.assistantMessageId]);
    await finish(jobs[1]!.assistantMessageId);
    await expect.poll(() => started).toHaveLength(3);
  });

  it('counts nothing and fails the job when nothing can be sent (no key)', async () => {
    const a = await ask('hello');
    await scheduler({ blocker: async () => ({ code: 'no_key', message: 'No key' }) }).pump();
    expect(started).toEqual([]);
    expect((await db.jobs.get(a.assistantMessageId))?.state).toBe('failed');
    expect((await readWindowState(db, clock, DEFAULT_LIMITS)).monthCount).toBe(0);
  });

  it('never starts a job twice when pumped from many places at once', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 50, perMonth: 100 });
    for (let i = 0; i < 6; i++) await ask(`q${i}`);
    const s = scheduler({ maxActive: 10 });
    await Promise.all(Array.from({ length: 20 }, () => s.pump()));
    expect(started).toHaveLength(6);
    expect(new Set(started).size).toBe(6);
    expect((await readWindowState(db, clock, DEFAULT_LIMITS)).monthCount).toBe(6);
  });

  it('a limit lowered below what the month used pauses sending until the month turns', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 10, perMonth: 10 });
    const first = [await ask('a'), await ask('b'), await ask('c')];
    const s = scheduler({ maxActive: 10 });
    await s.pump();
    for (const f of first) await finish(f.assistantMessageId);
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 2, perMonth: 2 });
    const late = await ask('d');
    await s.pump();
    expect(await db.jobs.get(late.assistantMessageId)).toMatchObject({
      state: 'waiting',
      waitReason: 'month',
      waitUntil: Date.UTC(2026, 11, 1),
    });
    clock = Date.UTC(2026, 11, 1);
    await s.pump();
    expect(started).toContain(late.assistantMessageId);
  });

  it('fails every waiting job when nothing can be sent, not only the first maxActive', async () => {
    const asked = [await ask('a'), await ask('b'), await ask('c'), await ask('d')];
    const noKey: PaceError = { code: 'no_key', message: 'No API key is set.' };
    await scheduler({ maxActive: 2, blocker: async () => noKey }).pump();
    await expect
      .poll(async () => (await db.jobs.toArray()).map((j) => j.state))
      .toEqual(['failed', 'failed', 'failed', 'failed']);
    for (const a of asked) expect((await db.messages.get(a.assistantMessageId))?.error).toEqual(noKey);
  });

  it('a job that could not start is failed with a message, not left sending', async () => {
    const a = await ask('a');
    await scheduler({ startJob: async () => Promise.reject(new Error('settings unreadable')) }).pump();
    await expect.poll(async () => (await db.jobs.get(a.assistantMessageId))?.state).toBe('failed');
    expect((await db.messages.get(a.assistantMessageId))?.error).toMatchObject({
      code: 'internal',
      message: 'Pace could not start this answer. Press Retry to send it again.',
      action: 'retry',
    });
    // It was counted: its ledger row is ended with it, not left in flight for good.
    await expect
      .poll(async () => (await db.usage.toArray()).map((r) => [r.messageId, r.outcome]))
      .toEqual([[a.assistantMessageId, 'internal']]);
  });
});

describe('scheduler with a spend budget', () => {
  // Sonnet 5.5 at $2 / $10 a million: 1,000 tokens in and 4,000 out are $0.042 at most.
  const measure = async () => ({
    ok: true as const,
    need: { inputTokens: 1_000, outputTokens: 4_000 },
    cost: { model: 'claude-sonnet-5-5', inputTokens: 1_000, maxTokens: 4_000 },
  });

  it('sends what fits, holds what fits once the requests on their way settle, and fails what never can, with the figures', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 100, perMonth: 1_000 });
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 0.05 });
    const first = await ask('q1');
    const second = await ask('q2');
    const s = scheduler({ maxActive: 10, measure });
    await s.pump();
    expect(started).toEqual([first.assistantMessageId]);
    expect(await db.jobs.get(second.assistantMessageId)).toMatchObject({
      state: 'waiting',
      waitReason: 'budget',
      waitUntil: Date.UTC(2026, 11, 1),
    });

    // The first answer cost $0.03 in the end: $0.02 is left, less than the second's worst case.
    const usageId = (await db.jobs.get(first.assistantMessageId))!.usageId!;
    await settleUsage(db, usageId, {
      outcome: 'ok',
      model: 'claude-sonnet-5-5',
      usage: { inputTokens: 1_000, outputTokens: 2_800, cacheReadTokens: 0, cacheCreationTokens: 0 },
      costUsd: 0.03,
    });
    await finish(first.assistantMessageId);
    expect(started).toEqual([first.assistantMessageId]);
    expect(await db.jobs.get(second.assistantMessageId)).toMatchObject({ state: 'failed' });
    expect((await db.messages.get(second.assistantMessageId))?.error).toEqual({
      code: 'budget',
      message:
        'Not sent: this request could cost up to $0.04; $0.02 of your $0.05 monthly budget is left; it resets 1 Dec, 00:00 UTC.',
      action: 'open_options',
    });
    // Refused, it was never counted.
    expect((await readWindowState(db, clock, DEFAULT_LIMITS)).monthCount).toBe(1);
  });
});

describe('the request of an attempt', () => {
  it('is built once: the request the queue measured is the one handed to the runner', async () => {
    const measuredRequest = {
      model: 'm',
      max_tokens: 100,
      messages: [{ role: 'user' as const, content: 'as measured' }],
    };
    const handed: unknown[] = [];
    const a = await ask('q1');
    const s = scheduler({
      measure: async () => ({
        ok: true as const,
        need: { inputTokens: 10, outputTokens: 100 },
        cost: null,
        request: measuredRequest,
      }),
      startJob: async (job, options) => {
        started.push(job.id);
        handed.push(options.request);
      },
    });
    await s.pump();
    expect(started).toEqual([a.assistantMessageId]);
    expect(handed).toEqual([measuredRequest]);
    expect(handed[0]).toBe(measuredRequest);
  });
});
