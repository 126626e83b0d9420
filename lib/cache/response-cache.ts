/**
 * Complete, successful answers kept in IndexedDB for identical requests. Entries expire after the
 * user's cache lifetime and the least recently used go first when the cache passes its size cap
 * (entries or bytes). The total size is kept in a meta row updated in the same transaction as
 * every write, so neither a lookup nor an eviction has to scan the table.
 */
import type { CachedAnswer, PaceDB } from '../storage/db';

export interface CacheCaps {
  maxEntries: number;
  maxBytes: number;
}

const DEFAULT_CACHE_CAPS: CacheCaps = { maxEntries: 10_000, maxBytes: 50 * 1024 * 1024 };

/** An answer larger than this is never cached: it would push out hundreds of small ones. */
const MAX_CACHED_ANSWER_BYTES = 2 * 1024 * 1024;

export const answerBytes = (text: string) => text.length * 2;

async function readBytes(db: PaceDB): Promise<number> {
  const row = await db.meta.get('cacheBytes');
  return row?.key === 'cacheBytes' ? row.value : 0;
}

/**
 * "Used at" marks not yet written, per database: a lookup is then a single read, and the marks go
 * in one transaction shortly after, or first thing in the next write to the cache (so eviction
 * always sees them). A mark lost with a stopped worker only makes an entry look a little older.
 */
const pendingMarks = new WeakMap<PaceDB, Map<string, number>>();
const MARK_FLUSH_MS = 1000;

function markUsed(db: PaceDB, key: string, at: number): void {
  let marks = pendingMarks.get(db);
  if (!marks) {
    marks = new Map();
    pendingMarks.set(db, marks);
    setTimeout(() => {
      db.transaction('rw', db.cache, () => flushMarks(db)).catch((err: unknown) => {
        // A database closed meanwhile (deleted, or the page went away) has nothing left to mark.
        if ((err as { name?: string }).name !== 'DatabaseClosedError')
          console.warn('[pace] could not mark cached answers as used', err);
      });
    }, MARK_FLUSH_MS);
  }
  marks.set(key, Math.max(at, marks.get(key) ?? 0));
}

/** Writes the pending marks; call inside a read-write transaction on `db.cache`. */
async function flushMarks(db: PaceDB): Promise<void> {
  const marks = pendingMarks.get(db);
  if (!marks) return;
  pendingMarks.delete(db);
  const keys = [...marks.keys()];
  const rows = await db.cache.bulkGet(keys);
  const updated = rows.flatMap((row) =>
    row && marks.get(row.key)! > row.lastUsedAt ? [{ ...row, lastUsedAt: marks.get(row.key)! }] : [],
  );
  if (updated.length) await db.cache.bulkPut(updated);
}

/** Deletes entries and takes their size off the total; call inside a read-write transaction on `cache` and `meta`. */
async function dropEntries(db: PaceDB, rows: CachedAnswer[]): Promise<void> {
  await db.cache.bulkDelete(rows.map((r) => r.key));
  const freed = rows.reduce((n, r) => n + r.bytes, 0);
  await db.meta.put({ key: 'cacheBytes', value: Math.max(0, (await readBytes(db)) - freed) });
}

/** The cached answer for `key` if it is younger than `ttlMs`; an expired entry is dropped. */
export async function lookupAnswer(db: PaceDB, key: string, now: number, ttlMs: number): Promise<CachedAnswer | null> {
  if (ttlMs <= 0) return null;
  const row = await db.cache.get(key);
  if (!row) return null;
  if (now - row.createdAt >= ttlMs || now < row.createdAt - 60_000) {
    await db.transaction('rw', db.cache, db.meta, async () => {
      const current = await db.cache.get(key);
      if (current) await dropEntries(db, [current]);
    });
    return null;
  }
  markUsed(db, key, now);
  return row;
}

/** Keeps an answer (replacing any under the same key), then evicts the least recently used past the caps. */
export async function storeAnswer(
  db: PaceDB,
  entry: Omit<CachedAnswer, 'bytes' | 'lastUsedAt'>,
  caps: CacheCaps = DEFAULT_CACHE_CAPS,
): Promise<boolean> {
  const bytes = answerBytes(entry.text);
  if (bytes > Math.min(MAX_CACHED_ANSWER_BYTES, caps.maxBytes)) return false;
  await db.transaction('rw', db.cache, db.meta, async () => {
    await flushMarks(db);
    const [old, total] = await Promise.all([db.cache.get(entry.key), readBytes(db)]);
    let size = total - (old?.bytes ?? 0) + bytes;
    await db.cache.put({ ...entry, bytes, lastUsedAt: entry.createdAt });
    let extra = (await db.cache.count()) - caps.maxEntries;
    if (extra > 0 || size > caps.maxBytes) {
      const victims: string[] = [];
      await db.cache
        .orderBy('lastUsedAt')
        .until(() => extra <= 0 && size <= caps.maxBytes)
        .each((row) => {
          if (row.key === entry.key) return;
          victims.push(row.key);
          extra -= 1;
          size -= row.bytes;
        });
      await db.cache.bulkDelete(victims);
    }
    await db.meta.put({ key: 'cacheBytes', value: Math.max(0, size) });
  });
  return true;
}

/** Drops entries not used for `ttlMs` (an entry used that long ago was created even earlier). */
export async function pruneCache(db: PaceDB, now: number, ttlMs: number): Promise<number> {
  return db.transaction('rw', db.cache, db.meta, async () => {
    await flushMarks(db);
    const old = await db.cache
      .where('lastUsedAt')
      .below(now - Math.max(0, ttlMs))
      .toArray();
    if (old.length > 0) await dropEntries(db, old);
    return old.length;
  });
}

export async function clearCache(db: PaceDB): Promise<number> {
  return db.transaction('rw', db.cache, db.meta, async () => {
    pendingMarks.delete(db);
    const n = await db.cache.count();
    await db.cache.clear();
    await db.meta.put({ key: 'cacheBytes', value: 0 });
    return n;
  });
}

export async function cacheStats(db: PaceDB): Promise<{ entries: number; bytes: number }> {
  return db.transaction('r', db.cache, db.meta, async () => ({
    entries: await db.cache.count(),
    bytes: await readBytes(db),
  }));
}

/**
 * Deletes the cached answers whose text is one of `texts` (the answers of conversations being
 * deleted): a cache row holds only a hash of its request, so its answer's text is what ties it to
 * a conversation. Call inside a read-write transaction on `cache` and `meta`.
 */
export async function forgetAnswersInTx(db: PaceDB, texts: ReadonlySet<string>): Promise<number> {
  if (texts.size === 0) return 0;
  await flushMarks(db);
  const rows = await db.cache.filter((row) => texts.has(row.text) || texts.has(row.text.trimEnd())).toArray();
  if (rows.length > 0) await dropEntries(db, rows);
  return rows.length;
}
