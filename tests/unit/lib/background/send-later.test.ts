/**
 * "Later, half price" through the background's real wiring (createBackgroundApp) and the page
 * protocol: chat.send with `later` gathers the question (nothing sent at once), the batch alarm
 * sends it as a batch, Stop on it cancels it, and batchPrefs.save checks what the options page sends.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { saveLimits } from '@/lib/limits/limiter-store';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { DEFAULT_BATCH_PREFS } from '@/lib/settings/batch-prefs';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { batchPrefsItem, settingsItem } from '@/lib/settings/settings-items';
import type { ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { testBackground, type WakeTimer } from './background-app';
import { handlerDeps } from './handler-deps';

let claude: ClaudeServer;
let db: PaceDB;
useClaudeServer((s) => (claude = s), { batches: { inProgressPolls: 0 } });

beforeEach(async () => {
  db = new PaceDB(`send-later-${Math.random()}`);
  await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: claude.url, model: 'claude-haiku-4-5', maxTokens: 100 });
  await batchPrefsItem.setValue({ ...DEFAULT_BATCH_PREFS, gatherSeconds: 0, firstPollSeconds: 1, maxPollSeconds: 1 });
});
afterEach(async () => {
  db.close();
  await db.delete();
});

/** Polls with real timers until `ok` holds, firing the wake timers the app set as if their time had come. */
async function until(ok: () => Promise<boolean>, timers: WakeTimer[]): Promise<void> {
  const end = performance.now() + 10_000;
  while (!(await ok())) {
    if (performance.now() > end) throw new Error('timed out');
    for (const t of timers.filter((t) => !t.cleared)) {
      t.cleared = true;
      t.run();
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('send later through the protocol', () => {
  it('gathers the question instead of sending it; its wake (a timer, and an alarm for a stopped worker) sends it as a batch and places the answer', async () => {
    const { client, timers } = testBackground(db, claude.url);
    const sent = await client.request('chat.send', { conversationId: null, text: 'no hurry', later: true });
    if (!sent.ok) throw new Error(sent.error.message);
    const id = sent.data.assistantMessageId;
    await until(async () => (await db.batches.toArray())[0]?.state === 'running', timers);
    expect(await db.jobs.get(id)).toMatchObject({ state: 'batched' });
    expect(claude.messageRequests()).toEqual([]);
    expect(claude.requests.filter((r) => r.path === '/v1/messages/batches')).toHaveLength(1);
    // The first look is asked for both ways: a timer while the worker lives, the alarm if it stops.
    expect((await fakeBrowser.alarms.get('pace-batch'))?.scheduledTime).toBeGreaterThan(Date.now());
    await until(async () => (await db.messages.get(id))?.status === 'done', timers);
    expect(await db.messages.get(id)).toMatchObject({ text: 'You said: "no hurry"', batch: true });
  });

  it('Stop on a gathered question cancels it before any batch: nothing counted', async () => {
    await batchPrefsItem.setValue({ ...DEFAULT_BATCH_PREFS, gatherSeconds: 600 });
    const { client } = testBackground(db, claude.url);
    const sent = await client.request('chat.send', { conversationId: null, text: 'never mind', later: true });
    if (!sent.ok) throw new Error(sent.error.message);
    expect(await db.jobs.get(sent.data.assistantMessageId)).toMatchObject({ state: 'gathering' });
    expect(await client.request('chat.stop', { messageId: sent.data.assistantMessageId })).toEqual({
      ok: true,
      data: { stopped: true },
    });
    expect(await db.jobs.get(sent.data.assistantMessageId)).toMatchObject({ state: 'cancelled' });
    expect(await db.counters.count()).toBe(0);
    expect(claude.messageRequests()).toEqual([]);
    expect(claude.requests.filter((r) => r.path.startsWith('/v1/messages/batches'))).toEqual([]);
  });

  it('a gathered question takes its room in the month like a queued one: the month cannot be promised twice', async () => {
    await batchPrefsItem.setValue({ ...DEFAULT_BATCH_PREFS, gatherSeconds: 600 });
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMonth: 1 });
    const { client } = testBackground(db, claude.url);
    expect((await client.request('chat.send', { conversationId: null, text: 'first, later', later: true })).ok).toBe(
      true,
    );
    const second = await client.request('chat.send', { conversationId: null, text: 'second, later', later: true });
    expect(second).toMatchObject({ ok: false, error: { code: 'month_used_up' } });
  });

  it('the demo backend has no batches: a later message is refused, saying why, and nothing is stored', async () => {
    const { keys } = handlerDeps(db, claude.url);
    const { client } = testBackground(db, claude.url, {
      keys: { ...keys, credentials: async () => ({ apiKey: 'demo', baseURL: claude.url, demo: true }) },
    });
    const sent = await client.request('chat.send', { conversationId: null, text: 'demo, later', later: true });
    expect(sent).toEqual({
      ok: false,
      error: {
        code: 'invalid_input',
        message: 'The demo backend has no Message Batches: add your API key in options to send later at half price.',
        action: 'open_options',
      },
    });
    expect(await db.jobs.count()).toBe(0);
  });

  it('batchPrefs.save refuses a wrong field by name, and saves good ones', async () => {
    const { client } = testBackground(db, claude.url);
    const bad = await client.request('batchPrefs.save', {
      sendLater: true,
      gatherSeconds: '-1',
      firstPollSeconds: '60',
      maxPollSeconds: '600',
    });
    expect(bad).toEqual({
      ok: false,
      error: {
        code: 'invalid_input',
        message: 'The gathering window must be between 0 and 86,400 seconds (got -1).',
        fields: { gatherSeconds: 'The gathering window must be between 0 and 86,400 seconds (got -1).' },
      },
    });
    const good = await client.request('batchPrefs.save', {
      sendLater: true,
      gatherSeconds: '30',
      firstPollSeconds: 60,
      maxPollSeconds: '600',
    });
    expect(good).toEqual({
      ok: true,
      data: { sendLater: true, gatherSeconds: 30, firstPollSeconds: 60, maxPollSeconds: 600 },
    });
    expect(await batchPrefsItem.getValue()).toEqual(good.ok && good.data);
  });
});
