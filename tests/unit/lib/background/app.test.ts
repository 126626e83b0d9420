/**
 * The background's real wiring (createBackgroundApp) driven through WXT's fakeBrowser: its
 * listeners are registered as the entrypoint registers them and fired with `.trigger()`, against
 * the local Claude server. The clock is Vitest's (only Date is faked: fake-indexeddb and the
 * server keep real timers); the wake timer is handed in, so a test fires it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { addExchange, buildContext, conversationMessages } from '@/lib/chat/conversation-store';
import { estimateTokens } from '@/lib/claude/token-estimate';
import { NO_BUDGET } from '@/lib/limits/budget';
import { saveBudget } from '@/lib/limits/budget-store';
import { saveLimits } from '@/lib/limits/limiter-store';
import { admit } from '@/lib/limits/admit';
import { inputBound } from '@/lib/limits/measure-request';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import type { Limits } from '@/lib/storage/rows';
import { readTokenLog } from '@/lib/limits/token-store';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB, type Job } from '@/lib/storage/db';
import { settingsItem } from '@/lib/settings/settings-items';
import { IN_FLIGHT, INTERRUPTED } from '@/lib/usage/totals';
import type { ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { testBackground, type WakeTimer } from './background-app';

let claude: ClaudeServer;
let db: PaceDB;
let online: boolean;
/** The wake timers the app asked for, in order: a test runs one as if its delay had passed. */
let timers: WakeTimer[];
useClaudeServer((s) => (claude = s));

beforeEach(async () => {
  // fakeBrowser.reset() has run (tests/unit/setup.ts). Only Date is faked: IndexedDB and the server need real timers.
  vi.useFakeTimers({ toFake: ['Date'] });
  db = new PaceDB(`app-${Math.random()}`);
  online = true;
  timers = [];
  await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: claude.url, model: 'claude-haiku-4-5', maxTokens: 100 });
});
afterEach(async () => {
  vi.useRealTimers();
  db.close();
  await db.delete();
});

/** The app as the entrypoint builds it, with the test's edges: the fake browser, a fresh database, the local server. */
function background() {
  const bg = testBackground(db, claude.url, { online: () => online });
  timers = bg.timers;
  return bg;
}

const limits = (l: Partial<Limits>) => saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', ...l });
let n = 0;
const ask = async (text: string) =>
  (await addExchange(db, { conversationId: null, text, now: Date.now(), newId: () => `a${++n}`, model: 'm' }))
    .assistantMessageId;

/** Polls with real timers (vi.waitFor would move the faked clock). */
async function until(id: string, ok: (job: Job) => boolean): Promise<Job> {
  const end = performance.now() + 10_000;
  for (;;) {
    const job = await db.jobs.get(id);
    if (job && ok(job)) return job;
    if (performance.now() > end) throw new Error(`job ${id} is ${job?.state ?? 'gone'} (${job?.waitReason ?? ''})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
async function eventually(check: () => Promise<void>): Promise<void> {
  const end = performance.now() + 5_000;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (performance.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
const done = (id: string) => until(id, (j) => j.state === 'done');

describe('createBackgroundApp through the fake browser', () => {
  it('start() sends again a job cut off while streaming by a stopped worker', async () => {
    vi.setSystemTime(Date.UTC(2026, 5, 10, 12));
    await limits({ perMinute: 10, perMonth: 100 });
    const id = await ask('cut off');
    await db.jobs.update(id, { state: 'streaming', attempts: 1 });
    await db.messages.update(id, { status: 'streaming', text: 'Half an ans' });
    claude.script({ kind: 'text', text: 'The whole answer.' });

    const { app } = background();
    expect(claude.messageRequests()).toHaveLength(0);
    await app.start();
    await done(id);

    expect(claude.messageRequests()).toHaveLength(1);
    expect(await db.messages.get(id)).toMatchObject({ status: 'done', text: 'The whole answer.', resumed: true });
  });

  it("start() recovers by the app's clock: a send left in flight within the month and a day it looks back is ended", async () => {
    // The app's clock and Date disagree: recovery must go by the clock it was given.
    const clock = Date.UTC(2026, 5, 10, 12);
    vi.setSystemTime(Date.UTC(2026, 8, 1));
    const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
    const row = await db.usage.add({
      at: clock - 24 * 60 * 60 * 1000,
      model: 'm',
      conversationId: 'c1',
      messageId: 'a0',
      outcome: IN_FLIGHT,
      usage,
      ttftMs: null,
      totalMs: 0,
      attempt: 1,
      fromCache: false,
      costUsd: 0,
    });

    await testBackground(db, claude.url, { now: () => clock, online: () => online }).app.start();

    expect((await db.usage.get(row))?.outcome).toBe(INTERRUPTED);
  });

  it('start() runs the queue before its housekeeping: an alarm lookup that never answers does not hold a cut-off job', async () => {
    vi.setSystemTime(Date.UTC(2026, 5, 10, 12));
    await limits({ perMinute: 10, perMonth: 100 });
    const id = await ask('cut off');
    await db.jobs.update(id, { state: 'streaming', attempts: 1 });
    claude.script({ kind: 'text', text: 'Sent at once.' });
    // The retention alarm's lookup, one of the housekeeping steps, hangs.
    vi.spyOn(fakeBrowser.alarms, 'get').mockReturnValue(new Promise(() => {}));
    const queueRunning = vi.fn();

    void background().app.start(queueRunning);
    await done(id);

    expect(queueRunning).toHaveBeenCalledOnce();
    expect(await db.messages.get(id)).toMatchObject({ status: 'done', text: 'Sent at once.' });
  });

  it("the month alarm: at the month's turn the alarm moves to the next month and the job held for the month goes", async () => {
    vi.setSystemTime(Date.UTC(2026, 2, 31, 23, 50));
    await limits({ perMinute: 10, perMonth: 1, monthStart: 'utc' });
    // March's one send is used: the job waits for April, and nothing else is running to pump the queue.
    expect(await admit(db, Date.now() - 60_000, null)).toMatchObject({ ok: true });
    const held = await ask('held');
    const { app } = background();
    await app.start();
    expect(await until(held, (j) => j.state === 'waiting')).toMatchObject({ waitReason: 'month' });
    expect(await fakeBrowser.alarms.get('pace-month')).toMatchObject({ scheduledTime: Date.UTC(2026, 3, 1) + 1000 });
    expect(claude.messageRequests()).toHaveLength(0);

    vi.setSystemTime(Date.UTC(2026, 3, 1) + 1000);
    await fakeBrowser.alarms.onAlarm.trigger({ name: 'pace-month', scheduledTime: Date.UTC(2026, 3, 1) + 1000 });
    await done(held);
    expect(claude.messageRequests()).toHaveLength(1);
    await eventually(async () =>
      expect((await fakeBrowser.alarms.get('pace-month'))?.scheduledTime).toBe(Date.UTC(2026, 4, 1) + 1000),
    );
  });

  /** A job held by the minute window (this minute's one send went a second ago), with the background started and nothing else to pump the queue. */
  async function heldByTheMinute() {
    vi.setSystemTime(Date.UTC(2026, 5, 10, 12));
    await limits({ perMinute: 1, perMonth: 100 });
    expect(await admit(db, Date.now() - 1000, null)).toMatchObject({ ok: true });
    const second = await ask('held');
    await background().app.start();
    return { second, held: await until(second, (j) => j.state === 'waiting') };
  }

  it('the wake alarm sends a job held by the minute window once the minute has passed', async () => {
    const { second, held } = await heldByTheMinute();
    expect(held.waitReason).toBe('minute');
    // A stopped worker is woken by the alarm at the end of the minute; the live one has a timer for it.
    const alarm = await fakeBrowser.alarms.get('pace-wake');
    expect(alarm?.scheduledTime).toBe(held.waitUntil);
    expect(held.waitUntil! - Date.now()).toBeGreaterThan(50_000);
    expect(timers.at(-1)).toMatchObject({ ms: held.waitUntil! - Date.now(), cleared: false });

    // Too early, the alarm changes nothing.
    await fakeBrowser.alarms.onAlarm.trigger({ name: 'pace-wake', scheduledTime: alarm!.scheduledTime });
    await new Promise((r) => setTimeout(r, 100));
    expect(await db.jobs.get(second)).toMatchObject({ state: 'waiting' });
    expect(claude.messageRequests()).toHaveLength(0);

    vi.setSystemTime(held.waitUntil!);
    await fakeBrowser.alarms.onAlarm.trigger({ name: 'pace-wake', scheduledTime: alarm!.scheduledTime });
    await done(second);
    expect(claude.messageRequests()).toHaveLength(1);
  });

  it('the wake timer, fired as if its delay had passed, sends the held job', async () => {
    const { second, held } = await heldByTheMinute();

    vi.setSystemTime(held.waitUntil!);
    expect(claude.messageRequests()).toHaveLength(0);
    timers
      .filter((t) => !t.cleared)
      .at(-1)!
      .run();
    await done(second);
    expect(claude.messageRequests()).toHaveLength(1);
  });

  it("a page's message through its port is sent and answered", async () => {
    vi.setSystemTime(Date.UTC(2026, 5, 10, 12));
    await limits({ perMinute: 10, perMonth: 100 });
    claude.script({ kind: 'text', text: 'Hello from the queue.' });
    const { client } = background();
    const sent = await client.request('chat.send', { conversationId: null, text: 'hello' });
    if (!sent.ok) throw new Error(sent.error.message);
    await done(sent.data.assistantMessageId);
    expect(claude.messageRequests()).toHaveLength(1);
    expect(await db.messages.get(sent.data.assistantMessageId)).toMatchObject({
      status: 'done',
      text: 'Hello from the queue.',
    });
  });

  it('reads made ahead while the user types are read again when the settings change: the send goes with the new model', async () => {
    vi.setSystemTime(Date.UTC(2026, 5, 10, 12));
    await limits({ perMinute: 10, perMonth: 100 });
    claude.script({ kind: 'text', text: 'Hello.' });
    const { client } = background();
    const prepared = await client.request('chat.prepare', { conversationId: null });
    expect(prepared).toEqual({ ok: true, data: { ready: true } });
    // The model changed on the options page after the popup's reads were made.
    await settingsItem.setValue({
      ...DEFAULT_SETTINGS,
      baseURL: claude.url,
      model: 'claude-sonnet-4-6',
      maxTokens: 100,
    });
    const sent = await client.request('chat.send', { conversationId: null, text: 'hello' });
    if (!sent.ok) throw new Error(sent.error.message);
    await done(sent.data.assistantMessageId);
    expect(claude.messageRequests().map((r) => (r.body as { model: string }).model)).toEqual(['claude-sonnet-4-6']);
  });

  it('opens the options page on install, not on update', async () => {
    const open = vi.spyOn(fakeBrowser.runtime, 'openOptionsPage').mockResolvedValue(undefined);
    background();
    await fakeBrowser.runtime.onInstalled.trigger({
      reason: 'update',
      previousVersion: '0.1.0',
      temporary: false,
    } as never);
    expect(open).not.toHaveBeenCalled();
    await fakeBrowser.runtime.onInstalled.trigger({ reason: 'install', temporary: false } as never);
    expect(open).toHaveBeenCalledTimes(1);
  });

  it("the page's 'online' event runs the queue: a job held offline goes", async () => {
    vi.setSystemTime(Date.UTC(2026, 5, 10, 12));
    await limits({ perMinute: 10, perMonth: 100 });
    online = false;
    const id = await ask('offline');
    const { app, page } = background();
    await app.start();
    expect(await until(id, (j) => j.state === 'waiting')).toMatchObject({ waitReason: 'offline' });
    expect(claude.messageRequests()).toHaveLength(0);

    online = true;
    page.dispatchEvent(new Event('online'));
    await done(id);
    expect(claude.messageRequests()).toHaveLength(1);
  });
});

describe('combining waiting messages', () => {
  it('measures and reserves for the combined request, the one that leaves', async () => {
    vi.setSystemTime(Date.UTC(2026, 5, 10, 12));
    await settingsItem.setValue({
      ...DEFAULT_SETTINGS,
      baseURL: claude.url,
      model: 'claude-haiku-4-5',
      maxTokens: 100,
      systemPrompt: '',
      combineWaiting: true,
    });
    await limits({ perMinute: 10, perMonth: 100, inputPerMinute: 1_000_000 });
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 100 });
    // Two questions waiting in one conversation: 100 and 200 tokens by the estimate.
    const first = await addExchange(db, {
      conversationId: null,
      text: 'a'.repeat(400),
      now: Date.now(),
      newId: () => `c${++n}`,
      model: 'm',
    });
    await addExchange(db, {
      conversationId: first.conversationId,
      text: 'b'.repeat(800),
      now: Date.now() + 1,
      newId: () => `c${++n}`,
      model: 'm',
    });
    claude.script({ kind: 'stall' });

    const { app, client } = background();
    await app.start();
    await until(first.assistantMessageId, (j) => j.state === 'streaming');

    const sent = JSON.stringify(claude.messageRequests()[0]?.body);
    expect(sent).toContain('a'.repeat(400));
    expect(sent).toContain('b'.repeat(800));
    // The input counted against the token minute, and the budget's reservation, are those of both questions (one of them alone is 100).
    const turns = buildContext(await conversationMessages(db, first.conversationId), first.assistantMessageId);
    expect(estimateTokens({ system: '', messages: turns })).toBeGreaterThanOrEqual(300);
    expect((await readTokenLog(db)).input).toEqual([
      { at: Date.now(), tokens: estimateTokens({ system: '', messages: turns }), job: first.assistantMessageId },
    ]);
    const spend = await db.meta.get('spend');
    const reserved = spend?.key === 'spend' ? Object.values(spend.value.reserved).map((r) => r.usd) : [];
    // Haiku 4.5: the input at its hard upper bound at the prompt cache's write price ($1.25 a million), 100 out at $5.
    expect(reserved).toEqual([(inputBound({ system: '', messages: turns }) * 1.25 + 100 * 5) / 1_000_000]);
    expect(inputBound({ system: '', messages: turns })).toBeGreaterThanOrEqual(1_200);
    await client.request('chat.stop', { messageId: first.assistantMessageId });
    await until(first.assistantMessageId, (j) => j.state !== 'streaming');
  });
});
