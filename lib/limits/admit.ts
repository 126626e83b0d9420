/**
 * The admission transaction: `admit` is the one place a request is counted. It decides with the
 * pure rules (./admission.ts `decide`, ./budget.ts `decideBudget`), records the send and admits
 * the job (lib/queue/job-store.ts `admitInTx`) in a single transaction, so no interleaving of
 * contexts can overshoot. Message Batch calls are counted here too (`admitBatchCall`).
 */
import type { PaceDB } from '../storage/db';
import { decide, isProbe, WINDOW_MS, type Decision, type WindowState } from './admission';
import { isWaiting } from '../queue/job-states';
import type { Limits, Budget } from '../storage/rows';
import { openUsage } from '../usage/ledger-store';
import { admitInTx } from '../queue/job-store';
import { EMPTY_TOKEN_LOG, type TokenNeed } from './token-buckets';
import { admitTokensInTx } from './token-store';
import { decideBudget, type BudgetDecision, type RequestCost } from './budget';
import { loadSpend, reserveInTx } from './budget-store';
import { loadWindow, RECENT_KEY } from './limiter-store';

/** An admitted send of a job comes with the id of its row in the usage ledger (lib/usage/ledger-store.ts). */
/** `probe`: it went as the pause's one probe (Try now), past Anthropic's word. */
export type Admission =
  | { ok: true; usageId?: number; probe?: true }
  | Exclude<Decision, { ok: true }>
  | Exclude<BudgetDecision, { ok: true }>
  | { ok: false; reason: 'gone' };

/**
 * What admission knows of the request: what it asks of the token limits (lib/limits/token-buckets.ts)
 * and what it would be priced by for the spend budget (lib/limits/budget.ts). Either may be absent
 * when no such limit is set.
 */
export interface AdmittedRequest {
  need?: TokenNeed;
  cost?: RequestCost | null;
}

/**
 * Admits one request for `jobId` at `now` if both windows allow it. With a job id, the job must
 * still be queued or waiting, and becomes `sending` in the same transaction, which also uses up the
 * pause's probe (only one request goes through it) and writes the send's row in the usage ledger (in
 * flight, ended by the runner): the count and the ledger cannot disagree, whatever happens to the
 * worker. The reads go out together and so do the writes: IndexedDB pipelines them within one
 * transaction. With a spend budget set, `cost` (the request's model, estimated input and max_tokens)
 * is checked against it and its worst case reserved for the send's ledger row (lib/limits/budget.ts).
 */
export async function admit(
  db: PaceDB,
  now: number,
  jobId: string | null,
  request: AdmittedRequest = {},
): Promise<Admission> {
  return (await admitMeasured(
    db,
    now,
    jobId,
    () => null,
    () => request,
  ))!;
}

/**
 * `admit`, for the queue (lib/queue/scheduler.ts): its job's request leaves only after its runner's
 * reads and writes, and is marked unsent until then, so a worker that stops meanwhile gives the
 * count back at start-up (lib/queue/job-store.ts `recover`).
 */
export async function admitQueued(
  db: PaceDB,
  now: number,
  jobId: string,
  request: AdmittedRequest = {},
): Promise<Admission> {
  return (await admitMeasured(
    db,
    now,
    jobId,
    () => null,
    () => request,
    { unsent: true },
  ))!;
}

/** What admission has read of the limits, the windows and the budget, for `admitMeasured`'s `measure`. */
export interface AdmissionReads {
  limits: Limits;
  state: WindowState;
  budget: Budget | null;
}

/**
 * `admit`, for a request measured against what admission reads itself (the limits, the windows,
 * the budget), so nothing is read twice: `read` starts the caller's own reads in the same round
 * trip as admission's (call it inside the caller's read-write transaction), and `measure` gets
 * both and returns the request's figures, or null to admit nothing (then nothing is written and
 * the result is null).
 */
export async function admitMeasured<T>(
  db: PaceDB,
  now: number,
  jobId: string | null,
  read: () => Promise<T> | T,
  measure: (reads: AdmissionReads, own: T) => AdmittedRequest | null,
  /** `unsent`: the job's request leaves only after more reads and writes, and is marked so (job-store.ts `admitInTx`). */
  options: { unsent?: boolean } = {},
): Promise<Admission | null> {
  // `cache` too: the send-at-once path looks its answer up in the same round trip, and an expired entry is dropped there.
  return db.transaction(
    'rw',
    [db.counters, db.meta, db.jobs, db.messages, db.usage, db.usageDays, db.usageMonths, db.cache],
    async () => {
      const [{ keys, counters, limits, state, pause }, job, message, spent, own] = await Promise.all([
        loadWindow(db, now),
        jobId === null ? undefined : db.jobs.get(jobId),
        jobId === null ? undefined : db.messages.get(jobId),
        loadSpend(db, now),
        read(),
      ]);
      const request = measure({ limits, state, budget: spent.budget }, own);
      if (request === null) return null;
      const { need, cost = null } = request;
      const decision = decide(now, limits, state, need);
      if (!decision.ok) return decision;
      if (jobId !== null && (!job || !isWaiting(job.state))) return { ok: false, reason: 'gone' } as const;
      const budget = decideBudget(
        now,
        limits.monthStart,
        spent.budget,
        spent.spend,
        spent.ledger(limits.monthStart),
        cost,
      );
      if (!budget.ok) return budget;
      // Sends stamped in the future (a clock that went back) stay until the clock passes them.
      const times = [...state.recentSends.filter((t) => t > now - WINDOW_MS), now];
      const [usageId] = await Promise.all([
        job
          ? openUsage(db, {
              at: now,
              model: message?.model ?? 'unknown',
              conversationId: job.conversationId,
              messageId: job.id,
              attempt: job.attempts + 1,
            })
          : undefined,
        db.counters.bulkPut([
          { key: RECENT_KEY, count: times.length, times },
          ...keys.slice(1).map((key, i) => ({ key, count: (counters[i + 1]?.count ?? 0) + 1 })),
        ]),
        pause && isProbe(now, state)
          ? db.meta.put({ key: 'pause', value: { ...pause, probe: 'used', ...(job ? { probeJob: job.id } : {}) } })
          : null,
        // The request's input and output room count against the token minute now; the runner puts the real counts in (lib/limits/token-store.ts).
        need
          ? admitTokensInTx(
              db,
              state.tokens ?? EMPTY_TOKEN_LOG,
              need,
              [limits.outputPerMinute, state.server?.outputTokens?.limit],
              jobId,
              now,
            )
          : null,
      ]);
      if (!job) return decision;
      await Promise.all([
        admitInTx(db, job, usageId, options.unsent === true),
        budget.reserve && usageId !== undefined ? reserveInTx(db, spent.spend, usageId, budget.reserve, now) : null,
      ]);
      return isProbe(now, state) ? { ok: true, usageId, probe: true } : { ok: true, usageId };
    },
  );
}

/**
 * One call to the Message Batch endpoints at `now` (create, poll, results, cancel): it counts in
 * the rolling minute as any request does. A create also counts its `requests` against the month,
 * each once, as many as the month has room for: resolves to how many it took (0 for other calls).
 * The month does not hold back a call that counts none (a poll of a batch already counted).
 * Call inside the transaction that records what was counted, or let it open one.
 */
export async function admitBatchCall(
  db: PaceDB,
  now: number,
  requests = 0,
): Promise<{ ok: true; taken: number } | Exclude<Decision, { ok: true }>> {
  return db.transaction('rw', db.counters, db.meta, async () => {
    const { keys, counters, limits, state } = await loadWindow(db, now);
    const decision = decide(now, limits, requests > 0 ? state : { ...state, monthCount: 0 });
    if (!decision.ok) return decision;
    const taken = Math.min(requests, Math.max(0, limits.perMonth - state.monthCount));
    const times = [...state.recentSends.filter((t) => t > now - WINDOW_MS), now];
    await db.counters.bulkPut([
      { key: RECENT_KEY, count: times.length, times },
      ...keys.slice(1).map((key, i) => ({ key, count: (counters[i + 1]?.count ?? 0) + taken })),
    ]);
    return { ok: true, taken };
  });
}
