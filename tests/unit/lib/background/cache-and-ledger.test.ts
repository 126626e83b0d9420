/**
 * The response cache and the usage ledger through the real queue, as the background wires it
 * (createBackgroundApp): scheduler, limiter, runner and the real SDK talking to the local Claude server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addExchange } from '@/lib/chat/conversation-store';
import * as jobStore from '@/lib/queue/job-store';
import { readLimits, readWindowState } from '@/lib/limits/limiter-store';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { DEFAULT_USAGE_PREFS } from '@/lib/settings/usage-prefs';
import { settingsItem, usagePrefsItem } from '@/lib/settings/settings-items';
import { estimateCost } from '@/lib/usage/prices';
import type { ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { pdfBase64 } from '../../../support/claude-server-fixtures';
import { testBackground } from './background-app';

let server: ClaudeServer;
let db: PaceDB;

useClaudeServer((s) => (server = s));
beforeEach(async () => {
  db = new PaceDB(`cache-ledger-${Math.random()}`);
  await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: server.url, model: MODEL, maxTokens: 300 });
  await setCacheHours(24);
});
afterEach(async () => {
  await db.delete();
});

const MODEL = 'claude-haiku-4-5';

/** The background as the entrypoint wires it (createBackgroundApp), its settings and usage prefs in the fake browser's storage. */
function background() {
  return testBackground(db, server.url).app;
}

/** The response cache's lifetime, as the options page saves it. */
const setCacheHours = (cacheHours: number) => usagePrefsItem.setValue({ ...DEFAULT_USAGE_PREFS, cacheHours });

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
    const app = background();
    server.script({ kind: 'text', text: 'A token bucket refills at a steady rate.' });
    const first = await ask('What is a token bucket?');
    void app.pump();
    await settle(first.assistantMessageId);
    expect(await monthUsed()).toBe(1);

    const second = await ask('What is a token bucket?');
    void app.pump();
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

  it('sends an answer that thought again: the cache would give back its text without its thinking', async () => {
    await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: server.url, model: MODEL, maxTokens: 2000 });
    const app = background();
    for (let i = 0; i < 2; i++) {
      const ex = await addExchange(db, {
        conversationId: null,
        text: 'Think about buckets',
        now: Date.now(),
        newId: () => `m${++ids}`,
        model: MODEL,
        options: { thinking: 'low' },
      });
      void app.pump();
      await settle(ex.assistantMessageId);
      const m = (await db.messages.get(ex.assistantMessageId))!;
      expect(m).toMatchObject({ status: 'done', thinking: expect.any(String) as string });
      expect(m.fromCache).toBeUndefined();
    }
    expect(server.messageRequests()).toHaveLength(2);
    expect(await db.cache.count()).toBe(0);
  });

  it('sends an answer citing a PDF again: the cache would give back its text without the cited passages', async () => {
    const { app, client } = testBackground(db, server.url);
    for (let i = 0; i < 2; i++) {
      const sent = await client.request('chat.send', {
        conversationId: null,
        text: 'What does the report say?',
        attachments: [
          { name: 'Report.pdf', mediaType: 'application/pdf', data: pdfBase64(['Sales grew 12% this year.']) },
        ],
      });
      if (!sent.ok) throw new Error(sent.error.message);
      void app.pump();
      await settle(sent.data.assistantMessageId);
      const m = (await db.messages.get(sent.data.assistantMessageId))!;
      expect(m.status).toBe('done');
      expect(m.citations).toHaveLength(1);
      expect(m.fromCache).toBeUndefined();
    }
    expect(server.messageRequests()).toHaveLength(2);
    expect(await db.cache.count()).toBe(0);
  });

  it('"Ask again" goes to the API and replaces the cached answer', async () => {
    const app = background();
    server.script({ kind: 'text', text: 'First answer.' }, { kind: 'text', text: 'Second answer.' });
    const first = await ask('Same question');
    void app.pump();
    await settle(first.assistantMessageId);
    await jobStore.retry(db, first.assistantMessageId, Date.now());
    void app.pump();
    await settle(first.assistantMessageId);
    expect(server.messageRequests()).toHaveLength(2);
    expect(await db.messages.get(first.assistantMessageId)).toMatchObject({ text: 'Second answer.' });

    const again = await ask('Same question');
    void app.pump();
    await settle(again.assistantMessageId);
    expect(server.messageRequests()).toHaveLength(2);
    expect(await db.messages.get(again.assistantMessageId)).toMatchObject({ text: 'Second answer.', fromCache: true });
  });

  it('sends everything when the cache is off, and never caches an error or a cut-off answer', async () => {
    const app = background();
    await setCacheHours(0);
    server.script({ kind: 'text', text: 'One.' }, { kind: 'text', text: 'Two.' });
    for (const id of [(await ask('Q')).assistantMessageId, (await ask('Q')).assistantMessageId]) {
      void app.pump();
      await settle(id);
    }
    expect(server.messageRequests()).toHaveLength(2);
    expect(await db.cache.count()).toBe(0);

    await setCacheHours(24);
    server.script({ kind: 'error', status: 400, type: 'invalid_request_error', message: 'bad' });
    const failed = await ask('Will fail');
    void app.pump();
    expect((await settle(failed.assistantMessageId)).state).toBe('failed');
    expect(await db.cache.count()).toBe(0);
    const errorRow = (await db.usage.toArray()).at(-1)!;
    expect(errorRow).toMatchObject({
      outcome: 'bad_request',
      status: 400,
      errorType: 'invalid_request_error',
      fromCache: false,
    });
  });

  it('keeps conversations apart: the same words after a different history are a new request', async () => {
    const app = background();
    server.script(
      { kind: 'text', text: 'Hi.' },
      { kind: 'text', text: 'Context one.' },
      { kind: 'text', text: 'Context two.' },
    );
    const a = await ask('Hello');
    void app.pump();
    await settle(a.assistantMessageId);
    const a2 = await ask('And then?', a.conversationId);
    void app.pump();
    await settle(a2.assistantMessageId);
    const b = await ask('And then?');
    void app.pump();
    await settle(b.assistantMessageId);
    expect(server.messageRequests()).toHaveLength(3);
    expect((await db.messages.get(b.assistantMessageId))?.fromCache).toBeUndefined();
  });
});
