/**
 * A new message the queue would send now is admitted in chat.send's own transaction and its request
 * leaves only once that transaction has committed (lib/queue/send-at-once.ts).
 */
import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { createChatRunner } from '@/lib/queue/chat-runner';
import { createHandlers, type HandlerDeps } from '@/lib/background/handlers';
import { createKeepAlive } from '@/lib/background/keep-alive';
import { createReadAhead, readForSend, type ReadAhead } from '@/lib/queue/read-ahead';
import { cacheKey } from '@/lib/cache/cache-key';
import { storeAnswer } from '@/lib/cache/response-cache';
import { createClaudeClient } from '@/lib/claude/client';
import { cacheableRequest, messageRequest } from '@/lib/claude/request';
import { RECENT_KEY, saveLimits } from '@/lib/limits/limiter-store';
import { admit } from '@/lib/limits/admit';
import { worstCaseUsd } from '@/lib/limits/budget';
import { saveBudget } from '@/lib/limits/budget-store';
import { inputBound } from '@/lib/limits/measure-request';
import { readTokenLog } from '@/lib/limits/token-store';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { wait } from '@/lib/queue/job-store';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { settingsItem, storedPromptCacheModes } from '@/lib/settings/settings-items';
import { priceFor } from '@/lib/usage/prices';
import { IN_FLIGHT } from '@/lib/usage/totals';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { testBackground } from '../background/background-app';
import { failure, handlerDeps, snapshot } from '../background/handler-deps';

let server: ClaudeServer;
let db: PaceDB;
useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`send-at-once-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

type Start = NonNullable<HandlerDeps['sendAtOnce']>['start'];

function handlers(start: Start, overrides: Omit<Partial<HandlerDeps>, 'settings'> = {}) {
  const pump = vi.fn(async () => undefined);
  const h = createHandlers(
    handlerDeps(db, server.url, {
      pump,
      sendAtOnce: { usagePrefs: async () => ({ cacheHours: 0 }), online: () => true, start },
      ...overrides,
    }),
  );
  return { h, pump };
}

const recentSends = async () => (await db.counters.get(RECENT_KEY))?.times?.length ?? 0;

/**
 * The background as the entrypoint wires it (createBackgroundApp), its settings saved where the options page saves them.
 * `queueRunsAtFetch` holds, for each request that left, how many queue runs had ended before it (each run ends by
 * setting or clearing the wake alarm); `onFetch` is called as each request leaves.
 */
async function background(on: PaceDB = db, onFetch: () => void = () => undefined) {
  await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: server.url });
  let queueRuns = 0;
  for (const method of ['clear', 'create'] as const) {
    const real = (fakeBrowser.alarms[method] as (...args: unknown[]) => Promise<unknown>).bind(fakeBrowser.alarms);
    vi.spyOn(fakeBrowser.alarms, method).mockImplementation(((...args: unknown[]) => {
      if (args[0] === 'pace-wake') queueRuns += 1;
      return real(...args);
    }) as never);
  }
  const queueRunsAtFetch: number[] = [];
  const createClient: typeof createClaudeClient = (creds, headers) => {
    const client = createClaudeClient(creds, headers);
    const inner = (client as unknown as { options: { fetch: typeof fetch } }).options;
    const real = inner.fetch;
    inner.fetch = (input, init) => {
      queueRunsAtFetch.push(queueRuns);
      onFetch();
      return real(input, init);
    };
    return client;
  };
  return { ...testBackground(on, server.url, { createClient }), queueRunsAtFetch };
}

/** Polls until the job is in one of `states` (the runner goes on after chat.send has answered). */
async function jobIn(on: PaceDB, id: string, states: string[]) {
  await expect
    .poll(async () => (await on.jobs.get(id))?.state, { timeout: 10_000, interval: 10 })
    .toSatisfy((state: string) => states.includes(state));
}

describe('a new message with nothing ahead of it', () => {
  it("is counted, claimed and marked streaming in the send's own transaction, and handed to the runner only after it committed", async () => {
    const seen: unknown[] = [];
    const inTransaction: unknown[] = [];
    const { h, pump } = handlers(({ job }) => {
      inTransaction.push(Dexie.currentTransaction);
      // A read in a transaction of its own: it waits for the send's to end, and sees what it committed.
      seen.push(
        db.transaction('r', [db.jobs, db.counters, db.usage, db.messages], async () => ({
          job: await db.jobs.get(job.id),
          sends: await recentSends(),
          ledger: (await db.usage.toArray()).filter((row) => row.messageId === job.id),
          message: await db.messages.get(job.id),
        })),
      );
    });
    const ex = await h['chat.send']({ conversationId: null, text: 'Hello?' });
    expect(seen).toHaveLength(1);
    expect(inTransaction).toEqual([null]);
    expect(await seen[0]).toMatchObject({
      job: { state: 'sending', attempts: 1 },
      sends: 1,
      ledger: [{ outcome: IN_FLIGHT, attempt: 1 }],
      message: { id: ex.assistantMessageId, status: 'streaming' },
    });
    // No queue run stands between the send and its request.
    expect(pump).not.toHaveBeenCalled();
  });

  it('sends nothing and counts nothing when the transaction fails after the admission: the request never leaves first', async () => {
    const start = vi.fn<Start>();
    const { h } = handlers(start);
    const update = db.messages.update.bind(db.messages);
    vi.spyOn(db.messages, 'update').mockImplementation((key, changes) =>
      (changes as { status?: string }).status === 'streaming'
        ? Dexie.Promise.reject(new Error('disk full'))
        : update(key, changes),
    );
    const before = await snapshot(db);
    await expect(h['chat.send']({ conversationId: null, text: 'Lost?' })).rejects.toThrow('disk full');
    expect(start).not.toHaveBeenCalled();
    // Nothing half-done: no message, no job, no count, no ledger row; the text is still in the composer to send again.
    expect(await snapshot(db)).toEqual(before);
  });

  it('goes to the server at once, exactly one request for one counted send, with no queue run', async () => {
    const { client, queueRunsAtFetch } = await background();
    const sent = await client.request('chat.send', { conversationId: null, text: 'Hello?' });
    if (!sent.ok) throw new Error(sent.error.message);
    const ex = sent.data;
    await jobIn(db, ex.assistantMessageId, ['done', 'failed']);
    expect(server.messageRequests()).toHaveLength(1);
    expect(await db.messages.get(ex.assistantMessageId)).toMatchObject({ status: 'done' });
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'done', attempts: 1 });
    expect(await recentSends()).toBe(1);
    expect(await db.usage.toArray()).toEqual([
      expect.objectContaining({ messageId: ex.assistantMessageId, outcome: 'ok' }),
    ]);
    // No queue run stood between the send and its request.
    expect(queueRunsAtFetch).toEqual([0]);
  });
});

describe("the send's reads, made once", () => {
  it('reads the limits, the windows and the budget once for both the check and the count', async () => {
    await saveBudget(db, {
      monthlyUsd: 5,
      dailyUsd: null,
      whenReached: 'pause',
      unknownPriceUsd: null,
      badge: 'requests',
    });
    const start = vi.fn<Start>();
    const { h } = handlers(start);
    // A first send, so the second finds a conversation, an answer and a ledger to read.
    await h['chat.send']({ conversationId: null, text: 'First?' });
    const keysRead: string[] = [];
    const bulkGet = db.meta.bulkGet.bind(db.meta);
    const get = db.meta.get.bind(db.meta);
    type Key = Parameters<typeof bulkGet>[0][number];
    vi.spyOn(db.meta, 'bulkGet').mockImplementation((keys: Key[]) => (keysRead.push(...keys), bulkGet(keys)));
    vi.spyOn(db.meta, 'get').mockImplementation(((key: Key) => (keysRead.push(key), get(key))) as typeof db.meta.get);
    await h['chat.send']({ conversationId: null, text: 'Second?' });
    expect(start).toHaveBeenCalledTimes(2);
    // Read once before the transaction (the room and the at-once decision, read-ahead.ts), then in it
    // the room check again and one read for the at-once check and admission together.
    expect(keysRead.filter((k) => k === 'limits')).toHaveLength(3);
    expect(keysRead.filter((k) => k === 'budget')).toHaveLength(2);
  });

  it('hands the runner the prompt cache mode read while the transaction ran: nothing is read between the commit and the request', async () => {
    const modes = vi.spyOn(storedPromptCacheModes, 'get').mockResolvedValue('explicit');
    let readsAtRequest = -1;
    const { client } = await background(db, () => (readsAtRequest = modes.mock.calls.length));
    const sent = await client.request('chat.send', { conversationId: null, text: 'Hello?' });
    if (!sent.ok) throw new Error(sent.error.message);
    await jobIn(db, sent.data.assistantMessageId, ['done', 'failed']);
    // Read once, before the commit; the request went with what it said (one explicit breakpoint, not the automatic one).
    expect(readsAtRequest).toBe(1);
    expect(modes).toHaveBeenCalledTimes(1);
    const body = server.messageRequests()[0]!.body as { cache_control?: unknown };
    expect(body.cache_control).toBeUndefined();
  });
});

describe('what the queue would measure, the short way measures too', () => {
  it('reserves the worst case against a spend budget, exactly what admission through the queue reserves for the same job', async () => {
    const budget = {
      monthlyUsd: 5,
      dailyUsd: null,
      whenReached: 'pause',
      unknownPriceUsd: null,
      badge: 'requests',
    } as const;
    const text = 'What does this cost? Ünïcödé 日本語 makes the estimate and the safe figure differ.';
    const reserved = async (d: PaceDB) => {
      const spend = await d.meta.get('spend');
      return spend?.key === 'spend' ? Object.values(spend.value.reserved).map((r) => r.usd) : [];
    };
    await saveBudget(db, budget);
    const start = vi.fn<Start>();
    const { h } = handlers(start);
    await h['chat.send']({ conversationId: null, text });
    expect(start).toHaveBeenCalledTimes(1);
    const atOnce = await reserved(db);

    // The same message in a second profile, sent through the queue (no short way), measured as the background measures it.
    const queued = new PaceDB(`send-at-once-queue-${Math.random()}`);
    try {
      await saveBudget(queued, budget);
      const ex = await createHandlers(handlerDeps(queued, server.url, { sendAtOnce: undefined }))['chat.send']({
        conversationId: null,
        text,
      });
      // The request stalls, so its reservation is still held when it is read.
      server.script({ kind: 'stall' });
      const { app, client } = await background(queued);
      await app.pump();
      await jobIn(queued, ex.assistantMessageId, ['streaming']);
      expect(await queued.jobs.get(ex.assistantMessageId)).toMatchObject({ attempts: 1 });
      expect(await reserved(queued)).toEqual(atOnce);
      await client.request('chat.stop', { messageId: ex.assistantMessageId });
      await jobIn(queued, ex.assistantMessageId, ['done', 'failed', 'cancelled']);
      // Both at the input's hard upper bound, never at the four-characters-a-token estimate.
      const { model, maxTokens, promptCache } = DEFAULT_SETTINGS;
      const bound = inputBound({ system: '', messages: [{ role: 'user', content: text }] });
      expect(atOnce).toEqual([
        worstCaseUsd(priceFor(model)!, {
          model,
          inputTokens: bound,
          maxTokens,
          promptCache: promptCache === 'off' ? undefined : promptCache,
          estimated: true,
        }),
      ]);
    } finally {
      await queued.delete();
    }
  });

  it('counts its estimated input against an input-token limit, and leaves one close to the limit to the queue (which asks for the exact count)', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, inputPerMinute: 1_000 });
    const start = vi.fn<Start>();
    const { h } = handlers(start);
    await h['chat.send']({ conversationId: null, text: 'Short question?' });
    expect(start).toHaveBeenCalledTimes(1);
    expect((await readTokenLog(db)).input.map((s) => s.tokens)).toEqual([expect.any(Number)]);
    const long = await h['chat.send']({ conversationId: null, text: 'x'.repeat(2_400) });
    expect(start).toHaveBeenCalledTimes(1);
    expect(await db.jobs.get(long.assistantMessageId)).toMatchObject({ state: 'queued', attempts: 0 });
  });
});

describe('a new message the queue would not send now stays queued for it, uncounted', () => {
  it('behind an older message the limiter holds back (first in, first out)', async () => {
    const start = vi.fn<Start>();
    const { h, pump } = handlers(start);
    const first = await handlers(vi.fn<Start>(), { sendAtOnce: undefined }).h['chat.send']({
      conversationId: null,
      text: 'First',
    });
    await wait(db, [first.assistantMessageId], { waitReason: 'minute', waitUntil: Date.now() + 60_000 });
    const second = await h['chat.send']({ conversationId: null, text: 'Second' });
    expect(start).not.toHaveBeenCalled();
    expect(pump).toHaveBeenCalled();
    expect(await db.jobs.get(second.assistantMessageId)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(await recentSends()).toBe(0);
  });

  it('when the limiter says not yet', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, perMinute: 1 });
    expect((await admit(db, Date.now(), null)).ok).toBe(true);
    const start = vi.fn<Start>();
    const { h } = handlers(start);
    const ex = await h['chat.send']({ conversationId: null, text: 'Too soon' });
    expect(start).not.toHaveBeenCalled();
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(await recentSends()).toBe(1);
    expect(await db.usage.count()).toBe(0);
  });

  it('when the response cache holds its answer (the queue serves it, uncounted)', async () => {
    const settings = { ...DEFAULT_SETTINGS, baseURL: server.url };
    const request = messageRequest(settings, [{ role: 'user', content: 'Asked before?' }]);
    const usage = { inputTokens: 5, outputTokens: 3, cacheReadTokens: 0, cacheCreationTokens: 0 };
    await storeAnswer(db, {
      key: await cacheKey(cacheableRequest(request, server.url)),
      createdAt: Date.now(),
      model: settings.model,
      text: 'Yes.',
      stopReason: 'end_turn',
      usage,
    });
    const start = vi.fn<Start>();
    const h = createHandlers(
      handlerDeps(db, server.url, {
        sendAtOnce: { usagePrefs: async () => ({ cacheHours: 1 }), online: () => true, start },
      }),
    );
    // A question not in the cache goes at once...
    await h['chat.send']({ conversationId: null, text: 'Something new?' });
    expect(start).toHaveBeenCalledTimes(1);
    // ...one it holds waits for the queue, which answers it from the cache.
    const ex = await h['chat.send']({ conversationId: null, text: 'Asked before?' });
    expect(start).toHaveBeenCalledTimes(1);
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'queued' });
    expect(await recentSends()).toBe(1);
  });

  it('goes at once when the cache holds only an expired copy of it, which is dropped', async () => {
    const settings = { ...DEFAULT_SETTINGS, baseURL: server.url };
    const request = messageRequest(settings, [{ role: 'user', content: 'Asked long ago?' }]);
    const usage = { inputTokens: 5, outputTokens: 3, cacheReadTokens: 0, cacheCreationTokens: 0 };
    const key = await cacheKey(cacheableRequest(request, server.url));
    await storeAnswer(db, {
      key,
      createdAt: Date.now() - 2 * 3600_000,
      model: settings.model,
      text: 'Stale.',
      stopReason: 'end_turn',
      usage,
    });
    const start = vi.fn<Start>();
    const h = createHandlers(
      handlerDeps(db, server.url, {
        sendAtOnce: { usagePrefs: async () => ({ cacheHours: 1 }), online: () => true, start },
      }),
    );
    const ex = await h['chat.send']({ conversationId: null, text: 'Asked long ago?' });
    expect(start).toHaveBeenCalledTimes(1);
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'sending' });
    expect(await db.cache.get(key)).toBeUndefined();
    expect(await recentSends()).toBe(1);
  });

  it('while the browser is offline', async () => {
    const start = vi.fn<Start>();
    const h = createHandlers(
      handlerDeps(db, server.url, {
        sendAtOnce: { usagePrefs: async () => ({ cacheHours: 0 }), online: () => false, start },
      }),
    );
    const ex = await h['chat.send']({ conversationId: null, text: 'Offline' });
    expect(start).not.toHaveBeenCalled();
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'queued' });
  });
});

it('a refusal is still a refusal: no key, nothing stored', async () => {
  const start = vi.fn<Start>();
  const { h } = handlers(start, { credentials: async () => null });
  const before = await snapshot(db);
  expect(await failure(h['chat.send']({ conversationId: null, text: 'Hi' }))).toMatchObject({ code: 'no_key' });
  expect(start).not.toHaveBeenCalled();
  expect(await snapshot(db)).toEqual(before);
});

describe('a send whose reads were made ahead (read-ahead.ts): its request leaves only once its transaction has committed', () => {
  /** The real runner and read-ahead; `events` notes each request's fetch and each write, in order. */
  function early(overrides: { cacheHours?: number; readAhead?: ReadAhead } = {}) {
    const events: string[] = [];
    db.writeWatchers.add((table) => events.push(`write ${table}`));
    const credentials = async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false });
    const settings = async () => ({ ...DEFAULT_SETTINGS, baseURL: server.url });
    const usagePrefs = async () => ({ cacheHours: overrides.cacheHours ?? 0 });
    const fetches = { aborted: 0 };
    const createClient: typeof createClaudeClient = (creds, headers) => {
      const client = createClaudeClient(creds, headers);
      const inner = (client as unknown as { options: { fetch: typeof fetch } }).options;
      const real = inner.fetch;
      inner.fetch = (input, init) => {
        events.push('fetch');
        init?.signal?.addEventListener('abort', () => (fetches.aborted += 1));
        return real(input, init);
      };
      return client;
    };
    const runner = createChatRunner({
      db,
      credentials,
      settings,
      createClient,
      publish: () => undefined,
      keepAlive: createKeepAlive(async () => undefined, 5),
      log: () => undefined,
    });
    const readAhead = overrides.readAhead ?? createReadAhead({ db, now: Date.now, credentials, settings, usagePrefs });
    const runs: Promise<void>[] = [];
    const pump = vi.fn(async () => undefined);
    const h = createHandlers(
      handlerDeps(db, server.url, {
        pump,
        createClient,
        sendAtOnce: {
          usagePrefs,
          online: () => true,
          start: ({ job, messages }, ready) => void runs.push(runner.start(job, { ...ready, messages })),
          readAhead,
        },
      }),
    );
    return { h, pump, events, fetches, readAhead, runs, done: () => Promise.all(runs) };
  }

  /** Where the request left among the writes: after the send's transaction wrote the count and the job. */
  const leftAfterCommit = (events: string[]) => {
    const fetchAt = events.indexOf('fetch');
    expect(fetchAt).toBeGreaterThan(-1);
    expect(events.slice(0, fetchAt)).toEqual(expect.arrayContaining(['write counters', 'write jobs', 'write usage']));
  };

  it('reaches the server only after the count, the job and the ledger row are written, and is counted once', async () => {
    const { h, pump, events, readAhead, done } = early();
    await readAhead.prepare(null);
    const ex = await h['chat.send']({ conversationId: null, text: 'Hello?' });
    await done();
    leftAfterCommit(events);
    expect(events.filter((e) => e === 'fetch')).toHaveLength(1);
    expect(server.messageRequests()).toHaveLength(1);
    expect(server.messageRequests()[0]!.body).toMatchObject({ messages: [{ role: 'user', content: 'Hello?' }] });
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'done', attempts: 1 });
    expect(await db.messages.get(ex.assistantMessageId)).toMatchObject({ status: 'done' });
    expect(await recentSends()).toBe(1);
    expect(await db.usage.toArray()).toEqual([
      expect.objectContaining({ messageId: ex.assistantMessageId, outcome: 'ok', attempt: 1 }),
    ]);
    expect(pump).not.toHaveBeenCalled();
  });

  it('goes with the conversation so far, and the reads of a conversation are current again by its next message', async () => {
    const { h, events, readAhead, done } = early();
    await readAhead.prepare(null);
    const first = await h['chat.send']({ conversationId: null, text: 'One?' });
    await done();
    await readAhead.prepare(first.conversationId);
    events.length = 0;
    await h['chat.send']({ conversationId: first.conversationId, text: 'Two?' });
    await done();
    leftAfterCommit(events);
    expect(server.messageRequests()[1]!.body).toMatchObject({
      messages: [{ role: 'user', content: 'One?' }, { role: 'assistant' }, { role: 'user', content: 'Two?' }],
    });
    expect(await recentSends()).toBe(2);
  });

  it('never reaches fetch when the transaction that admits it fails: nothing is stored or counted, and the text stays with the page', async () => {
    const { h, events, fetches, readAhead, done } = early();
    await readAhead.prepare(null);
    const update = db.messages.update.bind(db.messages);
    vi.spyOn(db.messages, 'update').mockImplementation((key, changes) =>
      (changes as { status?: string }).status === 'streaming'
        ? Dexie.Promise.reject(new Error('disk full'))
        : update(key, changes),
    );
    const before = await snapshot(db);
    await expect(h['chat.send']({ conversationId: null, text: 'Lost?' })).rejects.toThrow('disk full');
    await done();
    expect(events).not.toContain('fetch');
    expect(fetches.aborted).toBe(0);
    expect(server.messageRequests()).toHaveLength(0);
    expect(await snapshot(db)).toEqual(before);
  });

  it('never reaches fetch when the transaction does not admit it (reads another context made stale), and the message waits in the queue', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, perMinute: 1 });
    const credentials = async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false });
    const settings = async () => ({ ...DEFAULT_SETTINGS, baseURL: server.url });
    const stale = await readForSend({ db, now: Date.now, credentials, settings }, null);
    // Another context takes the minute's one request after these reads, unseen by them.
    expect((await admit(db, Date.now(), null)).ok).toBe(true);
    const { h, pump, events, fetches, done } = early({
      readAhead: {
        prepare: async () => undefined,
        take: () => ({ reads: Promise.resolve(stale), current: () => true }),
        changed: () => undefined,
      },
    });
    const ex = await h['chat.send']({ conversationId: null, text: 'One too many?' });
    await done();
    expect(events).not.toContain('fetch');
    expect(fetches.aborted).toBe(0);
    expect(server.messageRequests()).toHaveLength(0);
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(await recentSends()).toBe(1);
    expect(await db.usage.count()).toBe(0);
    expect(pump).toHaveBeenCalled();
  });

  it('does not go by reads a write in this worker made out of date: the send reads again', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, perMinute: 1 });
    const { h, events, fetches, readAhead, done } = early();
    await readAhead.prepare(null);
    // The minute's one request goes after the reads were made: on them, the send would leave ahead.
    expect((await admit(db, Date.now(), null)).ok).toBe(true);
    const ex = await h['chat.send']({ conversationId: null, text: 'Hello?' });
    await done();
    expect(events).not.toContain('fetch');
    expect(fetches.aborted).toBe(0);
    expect(server.messageRequests()).toHaveLength(0);
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it.each([
    [
      'the limiter says not yet',
      async () => {
        await saveLimits(db, { ...DEFAULT_LIMITS, perMinute: 1 });
        expect((await admit(db, Date.now(), null)).ok).toBe(true);
      },
    ],
    [
      'an older message waits',
      async () => {
        const first = await handlers(vi.fn<Start>(), { sendAtOnce: undefined }).h['chat.send']({
          conversationId: null,
          text: 'First',
        });
        await wait(db, [first.assistantMessageId], { waitReason: 'minute', waitUntil: Date.now() + 60_000 });
      },
    ],
    [
      'a spend budget is reached',
      async () => {
        await saveBudget(db, {
          monthlyUsd: 0.000001,
          dailyUsd: null,
          whenReached: 'pause',
          unknownPriceUsd: null,
          badge: 'requests',
        });
      },
    ],
  ])('sends nothing ahead when %s', async (_, given) => {
    await given();
    const { h, readAhead, events, done } = early();
    await readAhead.prepare(null);
    await h['chat.send']({ conversationId: null, text: 'Now?' }).catch(() => undefined);
    await done();
    expect(events).not.toContain('fetch');
    expect(server.messageRequests()).toHaveLength(0);
  });

  it('is not refused by a month that turned after its reads were made', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, perMonth: 1 });
    const lastMinute = Date.UTC(2026, 0, 31, 23, 59);
    expect((await admit(db, lastMinute, null)).ok).toBe(true);
    const credentials = async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false });
    const settings = async () => ({ ...DEFAULT_SETTINGS, baseURL: server.url });
    const january = await readForSend({ db, now: () => lastMinute, credentials, settings }, null);
    const start = vi.fn<Start>();
    const h = createHandlers(
      handlerDeps(db, server.url, {
        now: () => Date.UTC(2026, 1, 1, 0, 1),
        sendAtOnce: {
          usagePrefs: async () => ({ cacheHours: 0 }),
          online: () => true,
          start,
          readAhead: {
            prepare: async () => undefined,
            take: () => ({ reads: Promise.resolve(january), current: () => true }),
          },
        },
      }),
    );
    const ex = await h['chat.send']({ conversationId: null, text: 'A new month?' });
    expect(start).toHaveBeenCalledTimes(1);
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'sending' });
  });

  it('sends nothing ahead when the response cache holds its answer', async () => {
    const settings = { ...DEFAULT_SETTINGS, baseURL: server.url };
    const request = messageRequest(settings, [{ role: 'user', content: 'Asked before?' }]);
    const usage = { inputTokens: 5, outputTokens: 3, cacheReadTokens: 0, cacheCreationTokens: 0 };
    await storeAnswer(db, {
      key: await cacheKey(cacheableRequest(request, server.url)),
      createdAt: Date.now(),
      model: settings.model,
      text: 'Yes.',
      stopReason: 'end_turn',
      usage,
    });
    const { h, readAhead, events, done } = early({ cacheHours: 1 });
    // One not in the cache leaves once it is counted...
    await readAhead.prepare(null);
    await h['chat.send']({ conversationId: null, text: 'Something new?' });
    await done();
    leftAfterCommit(events);
    // ...one it holds waits for the queue, which answers it from the cache.
    await readAhead.prepare(null);
    events.length = 0;
    const ex = await h['chat.send']({ conversationId: null, text: 'Asked before?' });
    await done();
    expect(events).not.toContain('fetch');
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'queued' });
    expect(server.messageRequests()).toHaveLength(1);
  });
});
