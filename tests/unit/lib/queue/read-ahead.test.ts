/**
 * What a send needs, read while the user types (lib/queue/read-ahead.ts): used only while
 * nothing it covers was written since it was read, and read again after writes while a page wants it.
 */
import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createReadAhead, sameDay, type SendReadDeps } from '@/lib/queue/read-ahead';
import { dayWindow } from '@/lib/limits/budget';
import { addExchange } from '@/lib/chat/conversation-store';
import { storeAnswer } from '@/lib/cache/response-cache';
import { saveLimits } from '@/lib/limits/limiter-store';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';

let db: PaceDB;
beforeEach(async () => {
  db = new PaceDB(`read-ahead-${Math.random()}`);
  // Creating the database announces every table as written.
  await db.open();
});
afterEach(async () => {
  await db.delete();
});

function deps(overrides: Partial<SendReadDeps> = {}) {
  const timers: { run: () => void; ms: number }[] = [];
  const credentials = vi.fn(async () => ({ apiKey: 'sk-ant-test', baseURL: 'https://api.anthropic.com', demo: false }));
  const readAhead = createReadAhead({
    db,
    now: Date.now,
    credentials,
    settings: async () => DEFAULT_SETTINGS,
    usagePrefs: async () => ({ cacheHours: 24 }),
    setTimer: (run, ms) => timers.push({ run, ms }),
    clearTimer: () => undefined,
    ...overrides,
  });
  return { readAhead, timers, credentials };
}

const answer = (key: string) => ({
  key,
  createdAt: Date.now(),
  model: 'claude-sonnet-4-6',
  text: 'cached',
  stopReason: 'end_turn',
  usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 0 },
});

describe('reads made ahead of a send', () => {
  it('are used by the send while nothing was written since: it reads nothing itself', async () => {
    const { readAhead, credentials } = deps();
    await readAhead.prepare(null);
    const taken = readAhead.take(null);
    expect(taken.current()).toBe(true);
    expect((await taken.reads).conversationFound).toBe(true);
    expect(credentials).toHaveBeenCalledTimes(1);
    // Taken once: the send writes, so the next send reads again.
    await readAhead.take(null).reads;
    expect(credentials).toHaveBeenCalledTimes(2);
  });

  it('are not current once anything is written to the database, by this worker or another context, nor once the settings or the key change', async () => {
    const { readAhead, credentials } = deps();
    await readAhead.prepare(null);
    await saveLimits(db, { ...DEFAULT_LIMITS, perMinute: 3 });
    const taken = readAhead.take(null);
    expect((await taken.reads).limits.perMinute).toBe(3);
    expect(credentials).toHaveBeenCalledTimes(2);

    await readAhead.prepare(null);
    const before = readAhead.take(null);
    readAhead.changed();
    expect(before.current()).toBe(false);

    // Another context's write reaches this one as Dexie's storagemutated, for this database only.
    await readAhead.prepare(null);
    const unrelated = new PaceDB(`another-${Math.random()}`);
    await unrelated.open();
    await saveLimits(unrelated, DEFAULT_LIMITS);
    await unrelated.delete();
    const kept = readAhead.take(null);
    expect(kept.current()).toBe(true);
    await readAhead.prepare(null);
    const elsewhere = readAhead.take(null);
    Dexie.on.storagemutated.fire({ [`idb://${db.name}/meta/`]: {} } as unknown as Parameters<
      typeof Dexie.on.storagemutated.fire
    >[0]);
    expect(elsewhere.current()).toBe(false);
  });

  it('are for one conversation: another one is read for itself', async () => {
    const { readAhead } = deps();
    const ex = await addExchange(db, {
      conversationId: null,
      text: 'Hi',
      now: Date.now(),
      newId: () => crypto.randomUUID(),
      model: 'm',
    });
    await readAhead.prepare(null);
    const taken = readAhead.take(ex.conversationId);
    expect((await taken.reads).earlier.map((m) => m.text)).toEqual(['Hi', '']);
  });

  it('that failed are not kept: the send reads again, and so does the next page that asks', async () => {
    let fail = true;
    const { readAhead } = deps({
      credentials: vi.fn(async () => {
        if (fail) throw new Error('storage hiccup');
        return { apiKey: 'sk-ant-test', baseURL: 'https://api.anthropic.com', demo: false };
      }),
    });
    await readAhead.prepare(null);
    fail = false;
    expect((await readAhead.take(null).reads).creds).not.toBeNull();
    fail = true;
    await readAhead.prepare(null);
    fail = false;
    await readAhead.prepare(null);
    const taken = readAhead.take(null);
    expect(taken.current()).toBe(true);
    expect((await taken.reads).creds).not.toBeNull();
  });

  it('say when a day or a month turned since they were read', async () => {
    const { readAhead } = deps();
    await readAhead.prepare(null);
    const reads = await readAhead.take(null).reads;
    expect(sameDay(reads, reads.at)).toBe(true);
    expect(sameDay(reads, dayWindow(reads.at).end)).toBe(false);
  });

  it('say when a conversation is gone', async () => {
    const { readAhead } = deps();
    await readAhead.prepare('missing');
    expect((await readAhead.take('missing').reads).conversationFound).toBe(false);
  });

  it("keep the response cache's keys until the cache itself is written", async () => {
    await storeAnswer(db, answer('k1'));
    const { readAhead } = deps();
    await readAhead.prepare(null);
    const first = (await readAhead.take(null).reads).cacheKeys;
    expect(first).toEqual(new Set(['k1']));
    // A message written: the keys are not read again.
    await addExchange(db, {
      conversationId: null,
      text: 'Hi',
      now: Date.now(),
      newId: () => crypto.randomUUID(),
      model: 'm',
    });
    await readAhead.prepare(null);
    expect((await readAhead.take(null).reads).cacheKeys).toBe(first);
    // An answer cached: they are.
    await storeAnswer(db, answer('k2'));
    await readAhead.prepare(null);
    expect((await readAhead.take(null).reads).cacheKeys).toEqual(new Set(['k1', 'k2']));
  });

  it('are read again a moment after writes while a page wants them, so the next Enter finds them current', async () => {
    const { readAhead, timers, credentials } = deps();
    await readAhead.prepare(null);
    await saveLimits(db, { ...DEFAULT_LIMITS, perMinute: 7 });
    expect(timers.at(-1)?.ms).toBe(50);
    timers.at(-1)!.run();
    const taken = readAhead.take(null);
    expect(taken.current()).toBe(true);
    expect((await taken.reads).limits.perMinute).toBe(7);
    expect(credentials).toHaveBeenCalledTimes(2);
  });

  it('are not read again after writes when no page asked for them', async () => {
    const { readAhead, timers } = deps();
    readAhead.take(null);
    await saveLimits(db, { ...DEFAULT_LIMITS, perMinute: 7 });
    expect(timers).toEqual([]);
  });
});
