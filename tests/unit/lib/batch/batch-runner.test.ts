/**
 * "Later, half price" end to end in the background's engine: the batch runner against the local
 * Claude server's batch endpoints, on a clock the test moves (the runner asks to be woken; the test
 * ticks it at that time, as the alarm would). A new runner on the same database stands for a
 * restarted worker.
 */
import { NotFoundError, RateLimitError } from '@anthropic-ai/sdk/core/error';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBatchRunner, type BatchRunnerDeps } from '@/lib/batch/batch-runner';
import { createCachedAnswers } from '@/lib/cache/cached-answers';
import { openBatch, recoverBatches } from '@/lib/batch/batch-store';
import { NO_BUDGET } from '@/lib/limits/budget';
import { reservedIds, saveBudget } from '@/lib/limits/budget-store';
import { cacheKey } from '@/lib/cache/cache-key';
import { storeAnswer } from '@/lib/cache/response-cache';
import { addExchange, conversationMessages, deleteConversations } from '@/lib/chat/conversation-store';
import { createClaudeClient, type ClaudeClient } from '@/lib/claude/client';
import { cacheableRequest, messageRequest } from '@/lib/claude/request';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_BATCH_PREFS, type BatchPrefs } from '@/lib/settings/batch-prefs';
import { DEFAULT_SETTINGS, type Settings } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { batchCostBreakdown, costBreakdown } from '@/lib/usage/prices';
import { BATCHED } from '@/lib/usage/totals';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';

let server: ClaudeServer;
useClaudeServer((s) => (server = s), {
  batches: {
    inProgressPolls: 2,
    outcome: ({ params }) => {
      const text = JSON.stringify(params);
      if (text.includes('EXPIRE')) return { type: 'expired' };
      // A gateway that echoes the key in a result's error.
      if (text.includes('LEAK'))
        return { type: 'errored', errorType: 'authentication_error', message: `bad key ${TEST_KEY}` };
      if (text.includes('FAIL'))
        return { type: 'errored', errorType: 'invalid_request_error', message: 'messages: bad' };
      return { type: 'succeeded' };
    },
  },
});

const T0 = Date.UTC(2026, 10, 16, 12, 0, 0);
/** The gathering window's end for questions asked at T0 (an answer is stamped 1 ms after its question). */
const GO = T0 + 1 + 120_000;
const SETTINGS: Settings = { ...DEFAULT_SETTINGS, model: 'claude-haiku-4-5', maxTokens: 100 };
const PREFS: BatchPrefs = { ...DEFAULT_BATCH_PREFS, gatherSeconds: 120, firstPollSeconds: 60, maxPollSeconds: 600 };

let db: PaceDB;
let clock: number;
let ids: number;
beforeEach(() => {
  db = new PaceDB(`batches-${Math.random()}`);
  clock = T0;
  ids = 0;
});
afterEach(() => db.close());

interface Harness {
  runner: ReturnType<typeof createBatchRunner>;
  wakes: (number | null)[];
  notices: { title: string; message: string }[];
}

/** A runner (a worker's life): its wakes and notifications recorded. */
function runner(overrides: Partial<BatchRunnerDeps> = {}): Harness {
  const wakes: (number | null)[] = [];
  const notices: { title: string; message: string }[] = [];
  const credentials = async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false });
  return {
    runner: createBatchRunner({
      db,
      now: () => clock,
      credentials,
      settings: async () => SETTINGS,
      prefs: async () => PREFS,
      createClient: createClaudeClient,
      answerFromCache: createCachedAnswers({
        db,
        credentials,
        settings: async () => SETTINGS,
        usagePrefs: async () => ({ cacheHours: 24 }),
        now: () => clock,
      }),
      notify: async (_id, title, message) => void notices.push({ title, message }),
      wakeAt: (at) => void wakes.push(at),
      changed: () => undefined,
      newId: () => `b${++ids}`,
      random: () => 0.5,
      ...overrides,
    }),
    wakes,
    notices,
  };
}

/** Asks `text` "later" in `conversationId` (null: a new conversation); the answer's id and its conversation. */
async function askLater(conversationId: string | null, text: string) {
  const e = await addExchange(db, {
    conversationId,
    text,
    now: clock,
    newId: () => `id${++ids}`,
    model: SETTINGS.model,
    later: true,
  });
  return { answer: e.assistantMessageId, conversation: e.conversationId };
}

const batchCalls = () =>
  server.requests
    .filter((r) => r.path.startsWith('/v1/messages/batches'))
    .map((r) => `${r.method} ${r.path.replace(/msgbatch_\w+/, 'ID')}`);
const monthCount = async () => (await db.counters.get(monthWindow(clock, 'utc').key))?.count ?? 0;
const stateOf = async (id: string) => (await db.jobs.get(id))?.state;

/** Ticks at each wake the runner asked for until `done`, as the alarm would; at most `max` ticks. */
async function runUntil(h: Harness, done: () => Promise<boolean>, max = 10): Promise<void> {
  for (let i = 0; i < max && !(await done()); i++) {
    const at = h.wakes.at(-1);
    if (at === null || at === undefined) throw new Error('the runner asked for no wake, and is not done');
    clock = Math.max(clock, at);
    await h.runner.tick();
  }
  expect(await done()).toBe(true);
}

describe('gathering, creation, polling and results', () => {
  it("the queue's nudge runs it only while the last run found questions gathering or batches open", async () => {
    // A run reads the prefs in its first step, synchronously: `reads` tells at once whether one started.
    let reads = 0;
    const { runner: r } = runner({ prefs: async () => (reads++, PREFS) });
    // Before any run it does not know: the nudge looks.
    r.nudge();
    expect(reads).toBe(1);
    await r.tick();
    const afterFirst = reads;
    // Nothing gathering, nothing open: a nudge starts no run.
    r.nudge();
    expect(reads).toBe(afterFirst);
    // A question sent later: the send's own tick finds it, and a nudge runs again.
    await askLater(null, 'Later, please');
    await r.tick();
    r.nudge();
    expect(reads).toBe(afterFirst + 2);
    await r.tick();
  });

  it('gathers for the window, sends every question as one batch, backs off its polls, and places each answer at half price with one notification', async () => {
    const h = runner();
    const a = await askLater(null, 'alpha');
    const b = await askLater(a.conversation, 'beta');
    const c = await askLater(null, 'gamma');

    await h.runner.tick();
    expect(batchCalls()).toEqual([]);
    expect(h.wakes.at(-1)).toBe(GO);

    clock = T0 + 60_000;
    await h.runner.tick();
    expect(batchCalls()).toEqual([]);

    clock = GO;
    await h.runner.tick();
    expect(batchCalls()).toEqual(['POST /v1/messages/batches']);
    const created = server.requests.find((r) => r.method === 'POST')!.body as {
      requests: { custom_id: string; params: { messages: unknown[] } }[];
    };
    expect(created.requests.map((r) => r.custom_id).sort()).toEqual([a.answer, b.answer, c.answer].sort());
    // Each carries its conversation as it stands: beta's has alpha's question out, as it has no answer yet.
    expect(created.requests.find((r) => r.custom_id === b.answer)!.params.messages).toEqual([
      { role: 'user', content: 'beta' },
    ]);
    for (const id of [a.answer, b.answer, c.answer]) expect(await stateOf(id)).toBe('batched');
    expect(await monthCount()).toBe(3);
    expect(await db.usage.where('outcome').equals(BATCHED).count()).toBe(3);
    expect(h.wakes.at(-1)).toBe(clock + 60_000);

    // Polls: after 1 minute, then 2, then 4 (backing off towards 10).
    const polls: number[] = [];
    await runUntil(h, async () => {
      polls.push(clock);
      return (await stateOf(a.answer)) === 'done';
    });
    const pollTimes = polls.slice(1, -1);
    expect(pollTimes.map((t, i) => t - (i === 0 ? GO : pollTimes[i - 1]!))).toEqual([60_000, 120_000, 240_000]);
    expect(batchCalls()).toEqual([
      'POST /v1/messages/batches',
      'GET /v1/messages/batches/ID',
      'GET /v1/messages/batches/ID',
      'GET /v1/messages/batches/ID',
      'GET /v1/messages/batches/ID/results',
    ]);
    expect(server.requests.filter((r) => r.path === '/v1/messages')).toEqual([]);

    const answers = await conversationMessages(db, a.conversation);
    expect(answers.filter((m) => m.role === 'assistant').map((m) => [m.text, m.status, m.batch])).toEqual([
      ['You said: "alpha"', 'done', true],
      ['You said: "beta"', 'done', true],
    ]);
    const rows = await db.usage.toArray();
    expect(rows.map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok']);
    for (const r of rows) {
      expect(r.batch).toBe(true);
      expect(r.costUsd).toBeCloseTo(batchCostBreakdown(r.model, r.usage)!.total, 12);
      expect(r.costUsd).toBeCloseTo(costBreakdown(r.model, r.usage)!.total / 2, 12);
    }
    expect(await monthCount()).toBe(3);
    expect(h.notices).toHaveLength(1);
    expect(h.notices[0]!.title).toBe('3 answers arrived from your batch');
    expect(h.notices[0]!.message).toMatch(/^Sent later at half price: saved \$/);
    expect(await db.batches.toArray()).toMatchObject([{ state: 'ended' }]);
  });

  it('errored and expired questions say why and offer Send now; an expired one is released: its month count and ledger row are given back', async () => {
    const h = runner();
    const ok = await askLater(null, 'fine');
    const expired = await askLater(null, 'please EXPIRE');
    const failed = await askLater(null, 'please FAIL');
    clock = GO;
    await h.runner.tick();
    expect(await monthCount()).toBe(3);
    await runUntil(h, async () => (await db.batches.toArray())[0]?.state === 'ended');

    expect(await monthCount()).toBe(2);
    expect(await db.messages.get(ok.answer)).toMatchObject({ status: 'done', batch: true });
    expect(await db.messages.get(expired.answer)).toMatchObject({
      status: 'error',
      batch: true,
      error: { action: 'retry', message: expect.stringContaining('expired') as string },
    });
    expect(await db.messages.get(failed.answer)).toMatchObject({
      status: 'error',
      batch: true,
      error: { action: 'retry', message: expect.stringContaining('messages: bad') as string },
    });
    expect((await db.usage.toArray()).map((r) => [r.messageId, r.outcome]).sort()).toEqual(
      [
        [failed.answer, 'batch_errored'],
        [ok.answer, 'ok'],
      ].sort(),
    );
    const month = await db.usageMonths.get(monthWindow(T0, 'utc').key);
    expect(month?.requests).toBe(2);
    expect(h.notices.map((n) => n.title)).toEqual(['1 answer arrived from your batch']);
    expect(h.notices[0]!.message).toContain('2 questions did not get an answer');
  });

  it('answers from the response cache at once a gathered question it holds, and never batches it', async () => {
    const h = runner();
    const key = await cacheKey(
      cacheableRequest(messageRequest(SETTINGS, [{ role: 'user', content: 'cached?' }]), server.url),
    );
    await storeAnswer(db, {
      key,
      createdAt: T0,
      model: SETTINGS.model,
      text: 'from the cache',
      stopReason: 'end_turn',
      usage: { inputTokens: 3, outputTokens: 3, cacheReadTokens: 0, cacheCreationTokens: 0 },
    });
    const q = await askLater(null, 'cached?');
    await h.runner.tick();
    expect(await db.messages.get(q.answer)).toMatchObject({ status: 'done', text: 'from the cache', fromCache: true });
    clock = T0 + 600_000;
    await h.runner.tick();
    expect(batchCalls()).toEqual([]);
    expect(await monthCount()).toBe(0);
  });

  it("a 429 on the create goes through the messages' retry rules: nothing stays counted, and the questions go again at the server's time", async () => {
    let refused = 0;
    const h = runner({
      createClient: (c, headers) => {
        const client: ClaudeClient = createClaudeClient(c, headers);
        const create = client.messages.batches.create;
        client.messages.batches.create = async (...args) => {
          if (refused++ === 0)
            throw new RateLimitError(
              429,
              { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } },
              'slow down',
              new Headers({ 'retry-after': '30' }),
            );
          return create(...args);
        };
        return client;
      },
    });
    const q = await askLater(null, 'patience');
    clock = GO;
    await h.runner.tick();
    expect(await stateOf(q.answer)).toBe('gathering');
    expect(await db.jobs.get(q.answer)).toMatchObject({ waitReason: 'backoff', waitUntil: clock + 30_000 });
    expect(await monthCount()).toBe(0);
    expect(await db.usage.count()).toBe(0);
    expect(h.wakes.at(-1)).toBe(clock + 30_000);
    clock += 30_000;
    await h.runner.tick();
    expect(await stateOf(q.answer)).toBe('batched');
    expect(await monthCount()).toBe(1);
  });

  it('cancels a gathered question before its batch is sent: nothing counted, nothing sent', async () => {
    const h = runner();
    const q = await askLater(null, 'never mind');
    const { cancel } = await import('@/lib/queue/job-store');
    expect(await cancel(db, q.answer)).toBe(true);
    clock = T0 + 600_000;
    await h.runner.tick();
    expect(batchCalls()).toEqual([]);
    expect(await monthCount()).toBe(0);
    expect(await db.messages.get(q.answer)).toMatchObject({ status: 'stopped' });
  });
});

describe('a restart in every state', () => {
  it('gathering: a new worker sends what the old one gathered, when the window ends', async () => {
    const q = await askLater(null, 'kept');
    await runner().runner.tick();
    const after = runner();
    clock = GO;
    await after.runner.tick();
    expect(await stateOf(q.answer)).toBe('batched');
  });

  it('creating: a create cut off is taken as not made: the count is given back and the questions go again', async () => {
    const q = await askLater(null, 'cut off');
    clock = GO;
    const opened = await openBatch(db, 'lost', clock, [
      { job: (await db.jobs.get(q.answer))!, model: SETTINGS.model, cost: null },
    ]);
    expect(opened.ok).toBe(true);
    expect(await monthCount()).toBe(1);
    // The worker stops here, before the create answers; the next one starts:
    expect(await recoverBatches(db)).toEqual(['lost']);
    expect(await stateOf(q.answer)).toBe('gathering');
    expect(await monthCount()).toBe(0);
    expect(await db.usage.count()).toBe(0);
    const h = runner();
    await h.runner.tick();
    expect(await stateOf(q.answer)).toBe('batched');
    expect(await monthCount()).toBe(1);
    expect(batchCalls()).toEqual(['POST /v1/messages/batches']);
  });

  it('running and cancelling: a new worker polls, places the results once, and a cancelled batch releases what had not run', async () => {
    const first = await askLater(null, 'one');
    const second = await askLater(null, 'two');
    clock = GO;
    const h1 = runner();
    await h1.runner.tick();
    expect(await monthCount()).toBe(2);
    // Cancelled by the user while it runs (the server cancels what has not run).
    expect(await h1.runner.cancel(first.answer)).toBe(true);
    const h2 = runner();
    clock += 1;
    await h2.runner.tick();
    await runUntil(h2, async () => (await db.batches.toArray())[0]?.state === 'ended');
    for (const q of [first, second])
      expect(await db.messages.get(q.answer)).toMatchObject({
        status: 'stopped',
        error: { message: 'Cancelled with its batch before it ran: not billed, and not counted.' },
      });
    expect(await monthCount()).toBe(0);
    expect(await db.usage.count()).toBe(0);
    // Ended: another worker makes no call.
    const calls = batchCalls().length;
    await runner().runner.tick();
    expect(batchCalls().length).toBe(calls);
  });
});

describe('a question held behind another message of its conversation', () => {
  it('goes once the batch ahead of it has placed its answer: the gathering is decided again after the results', async () => {
    const h = runner();
    const a = await askLater(null, 'first');
    clock = GO;
    await h.runner.tick();
    expect(await stateOf(a.answer)).toBe('batched');
    const b = await askLater(a.conversation, 'second');
    await h.runner.tick();
    expect(await stateOf(b.answer)).toBe('gathering');
    await runUntil(h, async () => (await stateOf(b.answer)) === 'batched', 20);
    expect(await stateOf(a.answer)).toBe('done');
  });

  it('is looked at again while a normal message ahead of it is on its way (nothing else would wake the runner)', async () => {
    const h = runner();
    const first = await addExchange(db, {
      conversationId: null,
      text: 'now',
      now: clock,
      newId: () => `id${++ids}`,
      model: SETTINGS.model,
    });
    const b = await askLater(first.conversationId, 'later');
    clock = GO;
    await h.runner.tick();
    expect(await stateOf(b.answer)).toBe('gathering');
    const at = h.wakes.at(-1);
    expect(at).toBeGreaterThan(clock);
    await db.jobs.update(first.assistantMessageId, { state: 'done' });
    clock = at!;
    await h.runner.tick();
    expect(await stateOf(b.answer)).toBe('batched');
  });

  it('a run that throws still asks to be woken', async () => {
    let fail = true;
    const h = runner({
      prefs: async () => (fail ? Promise.reject(new Error('storage broke')) : PREFS),
      log: () => undefined,
    });
    const q = await askLater(null, 'resilient');
    clock = GO;
    await h.runner.tick();
    expect(h.wakes.at(-1)).toBeGreaterThan(clock);
    fail = false;
    clock = h.wakes.at(-1)!;
    await h.runner.tick();
    expect(await stateOf(q.answer)).toBe('batched');
  });
});

describe('a chat deleted while its question is in a batch', () => {
  it("still ends the question's ledger row at the batch price when its answer arrives (Anthropic bills it), and drops its reservation", async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 100 });
    const h = runner();
    const q = await askLater(null, 'gone soon');
    clock = GO;
    await h.runner.tick();
    expect(await stateOf(q.answer)).toBe('batched');
    expect(await reservedIds(db)).toHaveLength(1);
    await deleteConversations(db, [q.conversation]);
    await runUntil(h, async () => (await db.batches.toArray())[0]?.state === 'ended');
    const [row] = await db.usage.toArray();
    expect(row).toMatchObject({ messageId: q.answer, outcome: 'ok' });
    expect(row!.costUsd).toBeGreaterThan(0);
    expect(await reservedIds(db)).toEqual([]);
    expect(await monthCount()).toBe(1);
  });
});

describe("an errored result's message", () => {
  it('is stored with the key taken out, as a gateway may echo it', async () => {
    const h = runner();
    const q = await askLater(null, 'please LEAK');
    clock = GO;
    await h.runner.tick();
    await runUntil(h, async () => (await db.messages.get(q.answer))?.status === 'error');
    const message = (await db.messages.get(q.answer))!.error!.message;
    expect(message).toContain('bad key [redacted]');
    expect(message).not.toContain(TEST_KEY);
  });
});

describe('start-up while this worker is creating a batch', () => {
  it('recovery leaves the batch being created alone, and the create that answers is kept', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let asked!: () => void;
    const called = new Promise<void>((resolve) => (asked = resolve));
    const h = runner({
      createClient: (c, headers) => {
        const client: ClaudeClient = createClaudeClient(c, headers);
        const create = client.messages.batches.create;
        client.messages.batches.create = async (...args: Parameters<typeof create>) => {
          asked();
          await gate;
          return create(...args);
        };
        return client;
      },
    });
    const q = await askLater(null, 'racing');
    clock = GO;
    const ticking = h.runner.tick();
    await called;
    expect(await h.runner.recover()).toEqual([]);
    open();
    await ticking;
    expect(await db.batches.toArray()).toMatchObject([{ state: 'running' }]);
    expect(await stateOf(q.answer)).toBe('batched');
    expect(await monthCount()).toBe(1);
  });
});

describe('a batch that can no longer be read', () => {
  it('is given up after failing for good 5 times in a row: its questions are given back and offer Send now', async () => {
    const h = runner({
      log: () => undefined,
      createClient: (c, headers) => {
        const client: ClaudeClient = createClaudeClient(c, headers);
        client.messages.batches.retrieve = async () => {
          throw new NotFoundError(
            404,
            { type: 'error', error: { type: 'not_found_error', message: 'no such batch' } },
            'no such batch',
            new Headers(),
          );
        };
        return client;
      },
    });
    const q = await askLater(null, 'lost');
    clock = GO;
    await h.runner.tick();
    expect(await monthCount()).toBe(1);
    await runUntil(h, async () => (await db.batches.toArray())[0]?.state === 'ended', 10);
    expect(await db.messages.get(q.answer)).toMatchObject({
      status: 'error',
      error: { action: 'retry', message: expect.stringContaining('Send now') as string },
    });
    expect(await monthCount()).toBe(0);
    expect(await db.usage.count()).toBe(0);
  });
});

describe('cancelling a batch still being created', () => {
  it('says it is busy, instead of answering that nothing was stopped', async () => {
    const h = runner();
    const q = await askLater(null, 'too soon');
    const opened = await openBatch(db, 'b-creating', clock, [
      { job: (await db.jobs.get(q.answer))!, model: SETTINGS.model, cost: null },
    ]);
    expect(opened.ok).toBe(true);
    await expect(h.runner.cancel(q.answer)).rejects.toMatchObject({
      error: { code: 'busy', message: expect.stringContaining('try cancelling again') as string },
    });
  });
});

describe('a gathered question that cannot be read', () => {
  it('fails alone, saying why, and the others go in the batch', async () => {
    const h = runner({ log: () => undefined });
    const broken = await askLater(null, 'orphan');
    const fine = await askLater(null, 'fine');
    // Its question is gone: its context cannot be built.
    await db.messages
      .where('conversationId')
      .equals(broken.conversation)
      .filter((m) => m.role === 'user')
      .delete();
    clock = GO;
    await h.runner.tick();
    expect(await stateOf(fine.answer)).toBe('batched');
    expect(await db.messages.get(broken.answer)).toMatchObject({
      status: 'error',
      error: { message: expect.stringContaining('could not be put in a batch') as string },
    });
  });
});
