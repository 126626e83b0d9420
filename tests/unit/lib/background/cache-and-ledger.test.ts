/**
 * The response cache and the usage ledger through the real queue: scheduler, limiter, runner and
 * the real SDK talking to the local Claude server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCachedAnswers } from '@/lib/background/cached-answers';
import { createChatRunner } from '@/lib/background/chat-runner';
import { createKeepAlive } from '@/lib/background/keep-alive';
import { addExchange } from '@/lib/chat/conversation-store';
import * as jobStore from '@/lib/queue/job-store';
import { createClaudeClient } from '@/lib/claude/client';
import { readLimits, readWindowState } from '@/lib/limits/limiter-store';
import { monthWindow } from '@/lib/limits/month-window';
import { createScheduler } from '@/lib/queue/scheduler';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { estimateCost } from '@/lib/usage/prices';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';

let server: ClaudeServer;
let db: PaceDB;
let cacheHours: number;

useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`cache-ledger-${Math.random()}`);
  cacheHours = 24;
});
afterEach(async () => {
  await db.delete();
});

const MODEL = 'claude-haiku-4-5';

function queue() {
  const credentials = async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false });
  const settings = async () => ({ ...DEFAULT_SETTINGS, model: MODEL, maxTokens: 300 });
  const usagePrefs = async () => ({ cacheHours });
  const runner = createChatRunner({
    db,
    credentials,
    settings,
    usagePrefs,
    createClient: createClaudeClient,
    publish: () => undefined,
    keepAlive: createKeepAlive(async () => undefined, 1000),
    log: () => undefined,
  });
  const ended = new Set<string>();
  const scheduler = createScheduler({
    db,
    now: Date.now,
    blocker: async () => null,
    startJob: async (job) => {
      await runner.start(job);
      ended.add(job.id);
    },
    failJob: async () => undefined,
    wakeAt: () => undefined,
    changed: () => undefined,
    answerFromCache: createCachedAnswers({ db, credentials, settings, usagePrefs }),
    log: () => undefined,
  });
  return { scheduler };
}

let ids = 0;
const ask = (text: string, conversationId: string | null = null) =>
  addExchange(db, { conversationId, text, now: Date.now(), newId: () => `m${++ids}`, model: MODEL });

async function settle(id: string) {
  for (let i = 0; i < 200; i++) {
    const job = await db.jobs.get(id);
    if (job && (job.state === 'done' || job.state === 'failed')) return job;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`job ${id} did not end`);
}

async function monthUsed() {
  const limits = await readLimits(db);
  return (await readWindowState(db, Date.now(), limits)).monthCount;
}

describe('response cache through the queue', () => {
  it('answers the same question twice with one request; the second is free and not counted', async () => {
    const { scheduler } = queue();
    server.script({ kind: 'text', text: 'A token bucket refills at a steady rate.' });
    const first = await ask('What is a token bucket?');
    void scheduler.pump();
    await settle(first.assistantMessageId);
    expect(await monthUsed()).toBe(1);

    const second = await ask('What is a token bucket?');
    void scheduler.pump();
    await settle(second.assistantMessageId);

    expect(server.messageRequests()).toHaveLength(1);
    expect(await db.messages.get(second.assistantMessageId)).toMatchObject({
      status: 'done',
      text: 'A token bucket refills at a steady rate.',
      fromCache: true,
    });
    expect((await db.messages.get(first.assistantMessageId))?.fromCache).toBeUndefined();
    expect(await monthUsed()).toBe(1);

    // The ledger: one request sent and answered, one cache hit that cost nothing and saved the first's cost.
    const rows = await db.usage.orderBy('id').toArray();
    expect(rows.map((r) => [r.outcome, r.fromCache])).toEqual([
      ['ok', false],
      ['cache', true],
    ]);
    const sent = rows[0]!;
    expect(sent.usage.outputTokens).toBeGreaterThan(0);
    expect(sent.status).toBe(200);
    expect(sent.ttftMs).not.toBeNull();
    expect(sent.totalMs).toBeGreaterThanOrEqual(sent.ttftMs!);
    expect(sent.costUsd).toBeCloseTo(estimateCost(MODEL, sent.usage)!, 12);
    expect(rows[1]!.costUsd).toBe(0);
    expect(rows[1]!.savedUsd).toBeCloseTo(sent.costUsd!, 12);

    const limits = await readLimits(db);
    const month = await db.usageMonths.get(monthWindow(Date.now(), limits.monthStart).key);
    expect(month).toMatchObject({ requests: 1, ok: 1, cacheHits: 1, errors: 0 });
    expect(month!.costUsd).toBeCloseTo(sent.costUsd!, 12);
  });

  it('"Ask again" goes to the API and replaces the cached answer', async () => {
    const { scheduler } = queue();
    server.script({ kind: 'text', text: 'First answer.' }, { kind: 'text', text: 'Second answer.' });
    const first = await ask('Same question');
    void scheduler.pump();
    await settle(first.assistantMessageId);
    await jobStore.retry(db, first.assistantMessageId, Date.now());
    void scheduler.pump();
    await settle(first.assistantMessageId);
    expect(server.messageRequests()).toHaveLength(2);
    expect(await db.messages.get(first.assistantMessageId)).toMatchObject({ text: 'Second answer.' });

    const again = await ask('Same question');
    void scheduler.pump();
    await settle(again.assistantMessageId);
    expect(server.messageRequests()).toHaveLength(2);
    expect(await db.messages.get(again.assistantMessageId)).toMatchObject({ text: 'Second answer.', fromCache: true });
  });

  it('sends everything when the cache is off, and never caches an error or a cut-off answer', async () => {
    const { scheduler } = queue();
    cacheHours = 0;
    server.script({ kind: 'text', text: 'One.' }, { kind: 'text', text: 'Two.' });
    for (const id of [(await ask('Q')).assistantMessageId, (await ask('Q')).assistantMessageId]) {
      void scheduler.pump();
      await settle(id);
    }
    expect(server.messageRequests()).toHaveLength(2);
    expect(await db.cache.count()).toBe(0);

    cacheHours = 24;
    server.script({ kind: 'error', status: 400, type: 'invalid_request_error', message: 'bad' });
    const failed = await ask('Will fail');
    void scheduler.pump();
    expect((await settle(failed.assistantMessageId)).state).toBe('failed');
    expect(await db.cache.count()).toBe(0);
    const errorRow = (await db.usage.toArray()).at(-1)!;
    expect(errorRow).toMatchObject({ outcome: 'bad_request', status: 400, errorType: 'invalid_request_error', fromCache: false });
  });

  it('keeps conversations apart: the same words after a different history are a new request', async () => {
    const { scheduler } = queue();
    server.script({ kind: 'text', text: 'Hi.' }, { kind: 'text', text: 'Context one.' }, { kind: 'text', text: 'Context two.' });
    const a = await ask('Hello');
    void scheduler.pump();
    await settle(a.assistantMessageId);
    const a2 = await ask('And then?', a.conversationId);
    void scheduler.pump();
    await settle(a2.assistantMessageId);
    const b = await ask('And then?');
    void scheduler.pump();
    await settle(b.assistantMessageId);
    expect(server.messageRequests()).toHaveLength(3);
    expect((await db.messages.get(b.assistantMessageId))?.fromCache).toBeUndefined();
  });
});
