/** Anthropic's pause is forgotten for a new key or base URL, and "Try now" sends one request through it. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetWaitOnNewBaseURL } from '@/lib/settings/base-url-watch';
import { createHandlers } from '@/lib/background/handlers';
import { addExchange } from '@/lib/chat/conversation-store';
import * as jobStore from '@/lib/queue/job-store';
import {
  allowProbe,
  clearServerWait,
  pauseAll,
  readPause,
  readServerLimits,
  readWindowState,
  saveLimits,
  saveServerLimits,
} from '@/lib/limits/limiter-store';
import { admit } from '@/lib/limits/admit';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB, type Job } from '@/lib/storage/db';
import { settingsItem } from '@/lib/settings/settings-items';
import type { ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { testBackground } from './background-app';
import { handlerDeps } from './handler-deps';

let db: PaceDB;
let claude: ClaudeServer;
useClaudeServer((s) => (claude = s));
const now = Date.now();
const pause = { until: now + 28 * 24 * 3600_000, reason: 'spend_limit' as const, message: 'Spend limit reached.' };
const server = { limit: 50, remaining: 0, reset: now + 3600_000, observedAt: now };

beforeEach(async () => {
  db = new PaceDB(`server-wait-${Math.random()}`);
  await pauseAll(db, pause);
  await saveServerLimits(db, server);
});
afterEach(async () => {
  await db.delete();
});

// Each message 10 ms after the one before: two asked in the same millisecond would have no order
// but their random ids', and the tests below rely on which is the oldest.
let clock = Date.now();
const ask = (text: string) =>
  addExchange(db, {
    conversationId: null,
    text,
    now: (clock = Math.max(clock + 10, Date.now())),
    newId: () => crypto.randomUUID(),
    model: 'm',
  });

describe('clearServerWait', () => {
  it("drops the pause and Anthropic's figures, and says whether there were any", async () => {
    const ex = await addExchange(db, {
      conversationId: null,
      text: 'hi',
      now,
      newId: () => crypto.randomUUID(),
      model: 'm',
    });
    expect(await admit(db, now, ex.assistantMessageId)).toMatchObject({ ok: false, reason: 'server' });
    expect(await clearServerWait(db)).toBe(true);
    expect(await readPause(db)).toBe(null);
    expect(await readServerLimits(db)).toBe(null);
    // The next request goes, counted as usual.
    expect(await admit(db, now, ex.assistantMessageId)).toMatchObject({ ok: true });
    expect(await clearServerWait(db)).toBe(false);
  });
});

describe('handlers', () => {
  const make = () => {
    const pump = vi.fn(async () => undefined);
    return { pump, h: createHandlers(handlerDeps(db, 'http://127.0.0.1:1', { pump })) };
  };

  it('queue.tryNow lets one request through the pause, which stays, and runs the queue', async () => {
    const { h, pump } = make();
    await expect(h['queue.tryNow']({})).resolves.toEqual({ allowed: true });
    expect(await readPause(db)).toEqual({ ...pause, probe: 'allowed' });
    expect(await readServerLimits(db)).toEqual(server);
    expect(pump).toHaveBeenCalledTimes(1);
    // Pressed twice: still one request.
    await expect(h['queue.tryNow']({})).resolves.toEqual({ allowed: true });
    const [a, b] = await Promise.all([ask('one'), ask('two')]);
    const admitted = await Promise.all([admit(db, now, a.assistantMessageId), admit(db, now, b.assistantMessageId)]);
    expect(admitted.filter((d) => d.ok)).toHaveLength(1);
    expect(admitted.filter((d) => !d.ok)).toEqual([{ ok: false, reason: 'server', retryAt: pause.until }]);
    const probe = admitted[0].ok ? a : b;
    expect(await readPause(db)).toEqual({ ...pause, probe: 'used', probeJob: probe.assistantMessageId });
    // While that request is out, Try now lets no other through.
    await expect(h['queue.tryNow']({})).resolves.toEqual({ allowed: false });
    expect(await readPause(db)).toMatchObject({ probe: 'used' });
  });

  it('queue.tryNow with no pause (or one that is over) does nothing', async () => {
    const { h, pump } = make();
    await clearServerWait(db);
    await expect(h['queue.tryNow']({})).resolves.toEqual({ allowed: false });
    expect(await readPause(db)).toBe(null);
    await pauseAll(db, { ...pause, until: Date.now() - 1 });
    await expect(h['queue.tryNow']({})).resolves.toEqual({ allowed: false });
    expect(await readPause(db)).toEqual({ ...pause, until: expect.any(Number) as number });
    expect(pump).toHaveBeenCalledTimes(2);
  });

  it('a probe cut off by a restart of the background is not out: Try now may go again', async () => {
    const { h } = make();
    const a = await ask('one');
    await allowProbe(db, now);
    expect(await admit(db, now, a.assistantMessageId)).toMatchObject({ ok: true });
    await expect(h['queue.tryNow']({})).resolves.toEqual({ allowed: false });
    await jobStore.recover(db);
    await expect(h['queue.tryNow']({})).resolves.toEqual({ allowed: true });
    expect(await readPause(db)).toEqual({ ...pause, probe: 'allowed' });
  });

  it("the probe is counted as usual, and waits when the user's own limits are used", async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 1, perMonth: 100 });
    const [a, b] = [await ask('one'), await ask('two')];
    await allowProbe(db, now);
    expect(await admit(db, now, a.assistantMessageId)).toMatchObject({ ok: true });
    expect((await readWindowState(db, now, DEFAULT_LIMITS)).monthCount).toBe(1);
    await db.meta.put({ key: 'pause', value: { ...pause, probe: 'allowed' } });
    expect(await admit(db, now + 1000, b.assistantMessageId)).toMatchObject({ ok: false, reason: 'minute' });
    expect(await readPause(db)).toMatchObject({ probe: 'allowed' });
  });

  it('a Try now left unused when its pause ended lets nothing through the next pause', async () => {
    await clearServerWait(db);
    const a = await ask('one');
    // Try now pressed with nothing waiting; the pause then ends without a probe going.
    await pauseAll(db, { until: now + 1000, reason: 'rate_limited', message: 'Wait.' });
    expect(await allowProbe(db, now)).toBe(true);
    // Later another request is refused: Anthropic's new pause holds everything, the user pressed nothing.
    const later = now + 5000;
    await pauseAll(db, { until: later + 30_000, reason: 'rate_limited', message: 'Wait again.' }, 'another-job', later);
    expect(await readPause(db)).toEqual({ until: later + 30_000, reason: 'rate_limited', message: 'Wait again.' });
    expect(await admit(db, later, a.assistantMessageId)).toMatchObject({ ok: false, reason: 'server' });
  });

  it('a key saved or removed forgets the pause the old key earned', async () => {
    const { h } = make();
    await h['key.save']({ key: 'sk-ant-new-key-1234', remember: 'device', passphrase: null });
    expect(await readPause(db)).toBe(null);
    await pauseAll(db, pause);
    await h['key.remove']({});
    expect(await readPause(db)).toBe(null);
  });

  it('a refused key keeps the pause', async () => {
    const { h } = make();
    await expect(h['key.save']({ key: 'sk ant', remember: 'device', passphrase: null })).rejects.toThrow();
    expect(await readPause(db)).toEqual(pause);
  });
});

// Real HTTP and several queue runs per test: a loaded machine (the whole suite on two cores) needs more than the default 5 s.
describe('Try now through the queue, against the local Claude server', { timeout: 20_000 }, () => {
  beforeEach(async () => {
    await settingsItem.setValue({
      ...DEFAULT_SETTINGS,
      baseURL: claude.url,
      model: 'claude-haiku-4-5',
      maxTokens: 100,
    });
  });

  /** The background as the entrypoint wires it: the worker starting runs the queue, the popup asks through its port. */
  function background() {
    const { app, client } = testBackground(db, claude.url);
    return { scheduler: { pump: () => app.start() }, tryNow: () => client.request('queue.tryNow', {}) };
  }

  /** Three messages in three conversations (so nothing but the pause keeps them apart), all waiting behind it. */
  async function threeWaiting(scheduler: { pump(): Promise<void> }) {
    const asked = [await ask('first'), await ask('second'), await ask('third')];
    await scheduler.pump();
    const ids = asked.map((ex) => ex.assistantMessageId);
    // The oldest is held by the pause; the others are held by it too or not offered yet (each send
    // and the start set off a queue run, and which of them reach the limiter depends on how they
    // interleave). Waited for: those runs may still be marking them.
    await vi.waitFor(
      async () => {
        const [oldest, ...rest] = (await db.jobs.bulkGet(ids)).map((j) => [j?.state, j?.waitReason]);
        expect(oldest).toEqual(['waiting', 'server']);
        for (const r of rest)
          expect([
            ['waiting', 'server'],
            ['queued', undefined],
          ]).toContainEqual(r);
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(claude.messageRequests()).toHaveLength(0);
    return ids;
  }

  async function until(id: string, ok: (job: Job) => boolean): Promise<Job> {
    let job: Job | undefined;
    await vi.waitFor(
      async () => {
        job = await db.jobs.get(id);
        if (!job || !ok(job)) throw new Error(`job ${id} is ${job?.state ?? 'gone'}`);
      },
      { timeout: 10_000, interval: 20 },
    );
    return job!;
  }

  /** What the server had answered when each request after the first arrived. */
  function statusesOnArrival(): (number | undefined)[][] {
    const seen: (number | undefined)[][] = [];
    claude.setDefault(() => {
      seen.push(claude.messageRequests().map((r) => r.status));
      return { kind: 'text', text: 'And the next.' };
    });
    return seen;
  }

  it('lets exactly one of three waiting messages go; the other two go once its answer has succeeded', async () => {
    const { scheduler, tryNow } = background();
    const [first, second, third] = await threeWaiting(scheduler);
    // The probe's answer takes a while, so anything let through with it would reach the server meanwhile.
    claude.script({ kind: 'text', text: 'Anthropic accepts again.', chunkSize: 2, delayMs: 30 });
    const seen = statusesOnArrival();

    await expect(tryNow()).resolves.toEqual({ ok: true, data: { allowed: true } });
    for (const id of [first!, second!, third!]) await until(id, (j) => j.state === 'done');

    // The oldest went first, alone: the others arrived only after its answer had ended, with a 200.
    expect(await db.messages.get(first!)).toMatchObject({ status: 'done', text: 'Anthropic accepts again.' });
    expect(claude.messageRequests()).toHaveLength(3);
    expect(seen).toHaveLength(2);
    for (const statuses of seen) expect(statuses[0]).toBe(200);
    expect(await readPause(db)).toBe(null);
    // All three counted by Pace's limiter as usual.
    expect((await readWindowState(db, Date.now(), DEFAULT_LIMITS)).monthCount).toBe(3);
  });

  it('a probe refused with a new 429: its pause replaces the old one, the others keep waiting, and no second probe goes', async () => {
    const { scheduler, tryNow } = background();
    const [first, second, third] = await threeWaiting(scheduler);
    claude.script({ kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: 30 });
    const seen = statusesOnArrival();

    await expect(tryNow()).resolves.toEqual({ ok: true, data: { allowed: true } });
    const refused = await until(first!, (j) => j.state === 'waiting' && j.log?.length === 1);
    await scheduler.pump();

    expect(refused.log?.[0]).toMatchObject({ outcome: 'rate_limited', status: 429 });
    // Anthropic's newest word: 30 s, not the old 28 days, and no probe allowed through it.
    const fresh = await readPause(db);
    expect(fresh).toMatchObject({ reason: 'rate_limited' });
    expect(fresh?.probe).toBeUndefined();
    expect(fresh!.until - Date.now()).toBeLessThanOrEqual(30_000);
    expect(await db.jobs.get(first!)).toMatchObject({
      state: 'waiting',
      waitReason: 'server',
      waitUntil: fresh!.until,
    });
    // The second and the third still wait (held or not yet offered: either way, not sent).
    expect(
      (await db.jobs.bulkGet([second!, third!])).every((j) => j?.state === 'waiting' || j?.state === 'queued'),
    ).toBe(true);
    expect(claude.messageRequests()).toHaveLength(1);
    expect(seen).toEqual([]);
  });

  it('a probe that ends with no word on the pause (a 400) gives the chance back: the others wait, Try now may go again', async () => {
    const { scheduler, tryNow } = background();
    const [first, second, third] = await threeWaiting(scheduler);
    claude.script({ kind: 'error', status: 400, type: 'invalid_request_error' });
    const seen = statusesOnArrival();

    await expect(tryNow()).resolves.toEqual({ ok: true, data: { allowed: true } });
    await until(first!, (j) => j.state === 'failed');
    await scheduler.pump();

    expect(await readPause(db)).toEqual(pause);
    expect(
      (await db.jobs.bulkGet([second!, third!])).every((j) => j?.state === 'waiting' || j?.state === 'queued'),
    ).toBe(true);
    expect(claude.messageRequests()).toHaveLength(1);
    expect(seen).toEqual([]);
    await expect(tryNow()).resolves.toEqual({ ok: true, data: { allowed: true } });
  });
});

describe('a new base URL', () => {
  it('forgets the pause and runs the queue; other settings changes keep it', async () => {
    await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: 'https://gateway-a.example' });
    const pump = vi.fn();
    const stop = forgetWaitOnNewBaseURL({ settings: settingsItem, db, pump });
    try {
      await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: 'https://gateway-a.example', maxTokens: 999 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await readPause(db)).toEqual(pause);
      expect(pump).not.toHaveBeenCalled();
      await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: 'https://gateway-b.example', maxTokens: 999 });
      await vi.waitFor(() => expect(pump).toHaveBeenCalledTimes(1));
      expect(await readPause(db)).toBe(null);
      expect(await readServerLimits(db)).toBe(null);
    } finally {
      stop();
    }
  });
});
