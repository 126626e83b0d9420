/**
 * The limiter's records in IndexedDB: a counter per month (under both its UTC and its local key,
 * so switching the mode keeps exact counts) and one row with the times of the sends still in the
 * rolling window. `admit` is the one place a request is counted: it checks both windows and
 * records the send (and claims the job) in a single transaction, so no interleaving of contexts
 * can overshoot.
 */
import type { Meta, PaceDB, Pause, ServerLimits } from '../storage/db';
import { decide, WINDOW_MS, type Decision, type WindowState } from './admission';
import { monthKeys, monthWindow } from './month-window';
import { isWaiting } from '../queue/job-states';
import { DEFAULT_LIMITS, type Limits } from './plans';
import { openUsage } from '../usage/ledger-store';

export async function readLimits(db: PaceDB): Promise<Limits> {
  const row = await db.meta.get('limits');
  return row?.key === 'limits' ? row.value : DEFAULT_LIMITS;
}

export async function readPause(db: PaceDB): Promise<Pause | null> {
  const row = await db.meta.get('pause');
  return row?.key === 'pause' ? row.value : null;
}

export async function readServerLimits(db: PaceDB): Promise<ServerLimits | null> {
  const row = await db.meta.get('server');
  return row?.key === 'server' ? row.value : null;
}

/** Holds the whole queue back until `pause.until` (a later pause never shortens an earlier one). */
export async function pauseAll(db: PaceDB, pause: Pause): Promise<void> {
  await db.transaction('rw', db.meta, async () => {
    const current = await readPause(db);
    if (!current || current.until < pause.until) await db.meta.put({ key: 'pause', value: pause });
  });
}

export async function saveServerLimits(db: PaceDB, server: ServerLimits): Promise<void> {
  await db.meta.put({ key: 'server', value: server });
}

export async function saveLimits(db: PaceDB, limits: Limits): Promise<void> {
  await db.meta.put({ key: 'limits', value: limits });
}

/**
 * The limits and what the windows hold at `now`, in one go: the reads admission makes, for the
 * screens, the badge, the alerts and the estimate of queued jobs. Call inside a transaction on
 * `counters` and `meta` (or let `readQuotaState` open one).
 */
async function loadWindow(db: PaceDB, now: number, monthStart?: Limits['monthStart']) {
  const keys = [RECENT_KEY, ...monthKeys(now)];
  const [metaRows, counters] = await Promise.all([db.meta.bulkGet(['limits', 'pause', 'server']), db.counters.bulkGet(keys)]);
  const { limits, pauseUntil, server } = fromMeta(metaRows);
  const monthKey = monthWindow(now, monthStart ?? limits.monthStart).key;
  const state: WindowState = { recentSends: counters[0]?.times ?? [], monthCount: counters.find((c) => c?.key === monthKey)?.count ?? 0, pauseUntil, server };
  return { keys, counters, limits, state };
}

/** The saved limits and the windows' state at `now`, read together. */
export async function readQuotaState(db: PaceDB, now: number): Promise<{ limits: Limits; state: WindowState }> {
  return db.transaction('r', db.counters, db.meta, async () => {
    const { limits, state } = await loadWindow(db, now);
    return { limits, state };
  });
}

/** What the windows hold at `now`, the month counted as `limits` says. */
export async function readWindowState(db: PaceDB, now: number, limits: Limits): Promise<WindowState> {
  return db.transaction('r', db.counters, db.meta, async () => (await loadWindow(db, now, limits.monthStart)).state);
}

function fromMeta(rows: (Meta | undefined)[]): { limits: Limits; pauseUntil?: number; server?: ServerLimits } {
  const out: { limits: Limits; pauseUntil?: number; server?: ServerLimits } = { limits: DEFAULT_LIMITS };
  for (const row of rows) {
    if (row?.key === 'limits') out.limits = row.value;
    else if (row?.key === 'pause') out.pauseUntil = row.value.until;
    else if (row?.key === 'server') out.server = row.value;
  }
  return out;
}

/** An admitted send of a job comes with the id of its row in the usage ledger (lib/usage/ledger-store.ts). */
export type Admission = { ok: true; usageId?: number } | Exclude<Decision, { ok: true }> | { ok: false; reason: 'gone' };

/** The row that holds the times of the sends still inside the rolling window: one read, not a range scan. */
export const RECENT_KEY = 'recent';

/**
 * Admits one request for `jobId` at `now` if both windows allow it. With a job id, the job must
 * still be queued or waiting, and becomes `sending` in the same transaction, which also writes the
 * send's row in the usage ledger (in flight, ended by the runner): the count and the ledger cannot
 * disagree, whatever happens to the worker. The reads go out together and so do the writes:
 * IndexedDB pipelines them within one transaction.
 */
export async function admit(db: PaceDB, now: number, jobId: string | null): Promise<Admission> {
  return db.transaction('rw', [db.counters, db.meta, db.jobs, db.messages, db.usage, db.usageDays, db.usageMonths], async () => {
    const [{ keys, counters, limits, state }, job, message] = await Promise.all([
      loadWindow(db, now),
      jobId === null ? undefined : db.jobs.get(jobId),
      jobId === null ? undefined : db.messages.get(jobId),
    ]);
    const decision = decide(now, limits, state);
    if (!decision.ok) return decision;
    if (jobId !== null && (!job || !isWaiting(job.state))) return { ok: false, reason: 'gone' } as const;
    // Sends stamped in the future (a clock that went back) stay until the clock passes them.
    const times = [...state.recentSends.filter((t) => t > now - WINDOW_MS), now];
    const [usageId] = await Promise.all([
      job ? openUsage(db, { at: now, model: message?.model ?? 'unknown', conversationId: job.conversationId, messageId: job.id, attempt: job.attempts + 1 }) : undefined,
      db.counters.bulkPut([
        { key: RECENT_KEY, count: times.length, times },
        ...keys.slice(1).map((key, i) => ({ key, count: (counters[i + 1]?.count ?? 0) + 1 })),
      ]),
    ]);
    if (!job) return decision;
    await db.jobs.update(job.id, { state: 'sending', attempts: job.attempts + 1, usageId, waitUntil: undefined, waitReason: undefined });
    return { ok: true, usageId };
  });
}
