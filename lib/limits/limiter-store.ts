/**
 * The limiter's records in IndexedDB. `admit` is the one place a request is counted: it checks
 * both windows and records the send (and claims the job) in a single transaction, so no
 * interleaving of contexts can overshoot.
 */
import type { PaceDB } from '../storage/db';
import { decide, MINUTE_MS, WINDOW_MS, type Decision, type WindowState } from './admission';
import { monthKeys, monthWindow } from './month-window';
import { DEFAULT_LIMITS, type Limits } from './plans';

const PRUNE_AFTER_MS = 60 * MINUTE_MS;

export async function readLimits(db: PaceDB): Promise<Limits> {
  return (await db.meta.get('limits'))?.value ?? DEFAULT_LIMITS;
}

export async function saveLimits(db: PaceDB, limits: Limits): Promise<void> {
  await db.meta.put({ key: 'limits', value: limits });
}

/** What the windows hold at `now`: for the screens, the badge and the estimate of queued jobs. */
export async function readWindowState(db: PaceDB, now: number, limits: Limits): Promise<WindowState> {
  return db.transaction('r', db.sends, db.counters, () => windowState(db, now, limits));
}

async function windowState(db: PaceDB, now: number, limits: Limits): Promise<WindowState> {
  // `above` also returns sends stamped in the future (a clock that went back): they still count.
  const recent = await db.sends.where('at').above(now - WINDOW_MS).toArray();
  const monthCount = (await db.counters.get(monthWindow(now, limits.monthStart).key))?.count ?? 0;
  return { recentSends: recent.map((s) => s.at), monthCount };
}

export type Admission = Decision | { ok: false; reason: 'gone' };

/**
 * Admits one request for `jobId` at `now` if both windows allow it. With a job id, the job must
 * still be queued or waiting, and becomes `sending` in the same transaction.
 */
export async function admit(db: PaceDB, now: number, jobId: string | null): Promise<Admission> {
  return db.transaction('rw', [db.sends, db.counters, db.meta, db.jobs], async () => {
    const limits = await readLimits(db);
    const decision = decide(now, limits, await windowState(db, now, limits));
    if (!decision.ok) return decision;
    if (jobId !== null) {
      const job = await db.jobs.get(jobId);
      if (!job || (job.state !== 'queued' && job.state !== 'waiting')) return { ok: false, reason: 'gone' } as const;
      await db.jobs.update(jobId, { state: 'sending', attempts: job.attempts + 1, waitUntil: undefined, waitReason: undefined });
    }
    await db.sends.add({ at: now, jobId: jobId ?? '' });
    for (const key of monthKeys(now)) {
      const counter = await db.counters.get(key);
      await db.counters.put({ key, count: (counter?.count ?? 0) + 1 });
    }
    await db.sends.where('at').below(now - PRUNE_AFTER_MS).delete();
    return decision;
  });
}
