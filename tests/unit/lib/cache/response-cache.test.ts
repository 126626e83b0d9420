import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheStats, clearCache, lookupAnswer, pruneCache, storeAnswer } from '@/lib/cache/response-cache';
import { PaceDB } from '@/lib/storage/db';

let db: PaceDB;
beforeEach(() => {
  db = new PaceDB(`cache-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 27, 12);
const usage = { inputTokens: 10, outputTokens: 20, cacheReadTokens: 0, cacheCreationTokens: 0 };
const entry = (key: string, text = `answer ${key}`, createdAt = T0) => ({
  key,
  createdAt,
  model: 'claude-haiku-4-5',
  text,
  stopReason: 'end_turn',
  usage,
});

describe('response cache', () => {
  it('returns a stored answer within its lifetime and nothing after it', async () => {
    await storeAnswer(db, entry('a'));
    expect((await lookupAnswer(db, 'a', T0 + HOUR, 24 * HOUR))?.text).toBe('answer a');
    expect(await lookupAnswer(db, 'b', T0 + HOUR, 24 * HOUR)).toBeNull();
    expect(await lookupAnswer(db, 'a', T0 + 24 * HOUR, 24 * HOUR)).toBeNull();
    // The expired entry is gone, and so are its bytes.
    expect(await cacheStats(db)).toEqual({ entries: 0, bytes: 0 });
  });

  it('is off with a lifetime of 0', async () => {
    await storeAnswer(db, entry('a'));
    expect(await lookupAnswer(db, 'a', T0, 0)).toBeNull();
  });

  it('evicts the least recently used entry past the entry cap', async () => {
    const caps = { maxEntries: 3, maxBytes: 1e9 };
    await storeAnswer(db, entry('a', 'A', T0), caps);
    await storeAnswer(db, entry('b', 'B', T0 + 1), caps);
    await storeAnswer(db, entry('c', 'C', T0 + 2), caps);
    // Using `a` makes `b` the least recently used.
    expect(await lookupAnswer(db, 'a', T0 + 3, HOUR)).not.toBeNull();
    await storeAnswer(db, entry('d', 'D', T0 + 4), caps);
    expect((await db.cache.toCollection().primaryKeys()).sort()).toEqual(['a', 'c', 'd']);
    expect(await cacheStats(db)).toEqual({ entries: 3, bytes: 6 });
  });

  it('writes "used" marks shortly after a lookup, without a write in the lookup itself', async () => {
    await storeAnswer(db, entry('a'));
    expect(await lookupAnswer(db, 'a', T0 + 5 * HOUR, 24 * HOUR)).not.toBeNull();
    expect((await db.cache.get('a'))?.lastUsedAt).toBe(T0);
    await expect.poll(async () => (await db.cache.get('a'))?.lastUsedAt, { timeout: 3000 }).toBe(T0 + 5 * HOUR);
  });

  it('evicts by bytes and keeps the total exact across replacements', async () => {
    const caps = { maxEntries: 100, maxBytes: 100 };
    await storeAnswer(db, entry('a', 'x'.repeat(20), T0), caps); // 40 bytes
    await storeAnswer(db, entry('b', 'y'.repeat(20), T0 + 1), caps); // 80
    await storeAnswer(db, entry('a', 'z'.repeat(10), T0 + 2), caps); // a replaced: 20 + 40 = 60
    expect(await cacheStats(db)).toEqual({ entries: 2, bytes: 60 });
    await storeAnswer(db, entry('c', 'w'.repeat(25), T0 + 3), caps); // 110 > 100: b (oldest use) goes
    expect((await db.cache.toCollection().primaryKeys()).sort()).toEqual(['a', 'c']);
    expect(await cacheStats(db)).toEqual({ entries: 2, bytes: 70 });
    // An answer bigger than the whole cache is not kept and pushes nothing out.
    expect(await storeAnswer(db, entry('huge', 'h'.repeat(51), T0 + 4), caps)).toBe(false);
    expect(await cacheStats(db)).toEqual({ entries: 2, bytes: 70 });
  });

  it('prunes entries unused for the lifetime and clears everything on demand', async () => {
    await storeAnswer(db, entry('old', 'o', T0));
    await storeAnswer(db, entry('new', 'n', T0 + 10 * HOUR));
    expect(await pruneCache(db, T0 + 25 * HOUR, 24 * HOUR)).toBe(1);
    expect(await db.cache.toCollection().primaryKeys()).toEqual(['new']);
    expect(await cacheStats(db)).toEqual({ entries: 1, bytes: 2 });
    expect(await clearCache(db)).toBe(1);
    expect(await cacheStats(db)).toEqual({ entries: 0, bytes: 0 });
  });
});
