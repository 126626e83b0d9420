/**
 * The response cache's lookup with 10,000 answers stored: hashing the request and reading the
 * entry (its "used" mark is batched and written after), timed one by one. Baseline: a bare read of
 * one row by key on the same table. Runs in Node (fake-indexeddb) and in Chromium.
 */
import { cacheKey, type CacheableRequest } from '../lib/cache/cache-key';
import { answerBytes, lookupAnswer, storeAnswer } from '../lib/cache/response-cache';
import { PaceDB } from '../lib/storage/db';
import { percentiles, type Percentiles } from './stats';

export interface LookupTimings extends Percentiles {
  hits: number;
}

const summary = (samples: number[], hits: number): LookupTimings => ({ ...percentiles(samples), hits });

const HOUR = 3_600_000;

/** A realistic request: a short conversation with a system prompt. */
function request(i: number): CacheableRequest {
  return {
    baseURL: 'https://api.anthropic.com',
    model: 'claude-sonnet-4-6',
    system: 'Answer briefly.',
    maxTokens: 4096,
    messages: [
      { role: 'user', content: `Question number ${i}: how does a token bucket limit requests per minute?` },
      { role: 'assistant', content: 'It refills at a steady rate; each request takes one token. '.repeat(4) },
      { role: 'user', content: `And what happens at the limit? (${i})` },
    ],
  };
}

export async function benchCacheLookup(
  entries = 10_000,
  lookups = 2_000,
): Promise<{ lookup: LookupTimings; baseline: LookupTimings }> {
  const db = new PaceDB(`bench-cache-${Date.now()}-${Math.random()}`);
  const t0 = Date.UTC(2026, 10, 27, 9);
  const answer = 'A token bucket holds up to N tokens and refills one every 60/N seconds. '.repeat(20); // ~1.4 KB
  const keys: string[] = [];
  for (let i = 0; i < entries; i++) keys.push(await cacheKey(request(i)));
  // Filled in large transactions (as years of use would leave it), then through storeAnswer for the last ones.
  const usage = { inputTokens: 120, outputTokens: 300, cacheReadTokens: 0, cacheCreationTokens: 0 };
  const rows = keys.map((key, i) => ({
    key,
    createdAt: t0 + i,
    lastUsedAt: t0 + i,
    model: 'claude-sonnet-4-6',
    text: `${answer}${i}`,
    stopReason: 'end_turn',
    usage,
    bytes: answerBytes(`${answer}${i}`),
  }));
  await db.transaction('rw', db.cache, db.meta, async () => {
    await db.cache.bulkPut(rows.slice(0, -100));
    await db.meta.put({ key: 'cacheBytes', value: rows.slice(0, -100).reduce((n, r) => n + r.bytes, 0) });
  });
  for (const r of rows.slice(-100)) await storeAnswer(db, r);

  const samples: number[] = [];
  let hits = 0;
  for (let i = 0; i < lookups; i++) {
    // Nine lookups in ten find an answer; the tenth asks something never asked.
    const n = i % 10 === 9 ? entries + i : (i * 7919) % entries;
    const s = performance.now();
    const found = await lookupAnswer(db, await cacheKey(request(n)), t0 + HOUR, 24 * HOUR);
    samples.push(performance.now() - s);
    if (found) hits++;
  }
  const base: number[] = [];
  let baseHits = 0;
  for (let i = 0; i < lookups; i++) {
    const s = performance.now();
    const found = await db.cache.get(keys[(i * 7919) % entries]!);
    base.push(performance.now() - s);
    if (found) baseHits++;
  }
  await db.delete();
  return { lookup: summary(samples, hits), baseline: summary(base, baseHits) };
}
