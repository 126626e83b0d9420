/** 10,000 admissions through the real transaction, timed one by one, with a bare transaction as baseline. Runs in Node (fake-indexeddb) and in Chromium. */
import { saveLimits } from '../lib/limits/limiter-store';
import { admit } from '../lib/limits/admit';
import { DEFAULT_LIMITS } from '../lib/limits/plans';
import { PaceDB } from '../lib/storage/db';
import { percentiles, type Percentiles } from './stats';

export interface Timings extends Percentiles {
  admitted: number;
}

const summary = (samples: number[], admitted: number): Timings => ({ ...percentiles(samples), admitted });

export async function benchAdmission(
  count = 10_000,
  durability?: 'default' | 'relaxed',
): Promise<{ admission: Timings; baseline: Timings }> {
  const db = new PaceDB(`bench-${Date.now()}-${Math.random()}`, { durability });
  // The Paid plan, one request a second: the rolling minute always holds about 60 sends, as in real use.
  await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'paid', perMinute: 60, perMonth: 250_000 });
  const start = Date.UTC(2026, 10, 2, 9);
  const samples: number[] = [];
  let admitted = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const r = await admit(db, start + i * 1000, null);
    samples.push(performance.now() - t0);
    if (r.ok) admitted++;
  }
  // Baseline: the cheapest read-write transaction on the same tables (one counter put).
  const base: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await db.transaction('rw', db.counters, () => db.counters.put({ key: 'baseline', count: i }));
    base.push(performance.now() - t0);
  }
  await db.delete();
  return { admission: summary(samples, admitted), baseline: summary(base, count) };
}
