/**
 * The admission transaction: `admitRequest` is the one place a job's request is admitted and
 * counted. It reads what the decision needs, asks the one pure decision
 * (./admission-decision.ts `decideAdmission`) and applies it: it records the send, opens its row in
 * the usage ledger, reserves its share of the budget and its token room, uses up the pause's probe
 * and admits the job (lib/queue/job-store.ts `admitInTx`), all in a single transaction, so no
 * interleaving of contexts can overshoot. Message Batch calls are counted here too (`admitBatchCall`).
 */
import type { Job, PaceDB } from '../storage/db';
import { decide, WINDOW_MS, type Decision, type WindowState } from './admission';
import { decideAdmission, type AdmissionDecision, type AdmittedRequest } from './admission-decision';
import { openUsage } from '../usage/ledger-store';
import { admitInTx } from '../queue/job-store';
import { EMPTY_TOKEN_LOG } from './token-buckets';
import { admitTokensInTx } from './token-store';
import { loadSpend, reserveInTx } from './budget-store';
import { loadWindow, RECENT_KEY } from './limiter-store';
import type { Budget, Limits } from '../storage/rows';

export type { AdmittedRequest } from './admission-decision';

/** An admitted send of a job comes with the id of its row in the usage ledger (lib/usage/ledger-store.ts). */
/** `probe`: it went as the pause's one probe (Try now), past Anthropic's word. */
export type Admission =
  { ok: true; usageId?: number; probe?: true } | Exclude<AdmissionDecision, { ok: true } | { reason: 'turn' }>;
/** Not this job's turn: only when `admitRequest` was given the queue to check it on. */
type NotItsTurn = Extract<AdmissionDecision, { reason: 'turn' }>;

/**
 * Admits one request for `jobId` at `now` if both windows allow it (`admitRequest` with the request
 * as given). With a job id, the job must still be queued or waiting.
 */
export async function admit(
  db: PaceDB,
  now: number,
  jobId: string | null,
  request: AdmittedRequest = {},
  options: { unsent?: boolean } = {},
): Promise<Admission> {
  // With no queue to check the turn on and a request always measured, neither null nor 'turn' comes back.
  return (await admitRequest(
    db,
    now,
    jobId,
    () => null,
    () => ({ request }),
    options,
  )) as Admission;
}

/**
 * `admit`, for the queue (lib/queue/scheduler.ts): its job's request leaves only after its runner's
 * reads and writes, and is marked unsent until then, so a worker that stops meanwhile gives the
 * count back at start-up (lib/queue/job-store.ts `recover`). The scheduler offers jobs in the
 * queue's order itself: no queue is given to check it.
 */
export const admitQueued = (db: PaceDB, now: number, jobId: string, request: AdmittedRequest = {}) =>
  admit(db, now, jobId, request, { unsent: true });

/** What admission has read of the limits, the windows and the budget, for `admitRequest`'s `measure`. */
export interface AdmissionReads {
  limits: Limits;
  state: WindowState;
  budget: Budget | null;
}

/**
 * Admits one request for `jobId` (none: a request that is only counted) at `now`, if
 * `decideAdmission` says it may go. With a job, the job becomes `sending` in the same transaction,
 * which also uses up the pause's probe (only one request goes through it) and writes the send's
 * row in the usage ledger (in flight, ended by the runner): the count and the ledger cannot
 * disagree, whatever happens to the worker. With a spend budget set, the request's worst case is
 * reserved for that row (lib/limits/budget.ts); its token room counts against the minute.
 *
 * Nothing is read twice: `read` starts the caller's own reads in the same round trip as
 * admission's (call it inside the caller's read-write transaction), and `measure` gets both and
 * returns the request's figures (and, for a job not taken from the queue's order, the queue to
 * check its turn on), or null when this caller does not send it (then nothing is written and the
 * result is null). The reads go out together and so do the writes: IndexedDB pipelines them
 * within one transaction.
 */
export async function admitRequest<T>(
  db: PaceDB,
  now: number,
  jobId: string | null,
  read: () => Promise<T> | T,
  measure: (reads: AdmissionReads, own: T) => { request: AdmittedRequest; queue?: Job[] } | null,
  /** `unsent`: the job's request leaves only after more reads and writes, and is marked so (job-store.ts `admitInTx`). */
  options: { unsent?: boolean } = {},
): Promise<Admission | NotItsTurn | null> {
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
      const measured = measure({ limits, state, budget: spent.budget }, own);
      if (measured === null) return null;
      const { request, queue } = measured;
      const decision = decideAdmission({
        now,
        limits,
        window: state,
        request,
        spend: { budget: spent.budget, state: spent.spend, ledger: spent.ledger(limits.monthStart) },
        job: jobId === null ? null : job,
        ...(queue === undefined ? {} : { queue }),
      });
      if (!decision.ok) return decision;
      const { need } = request;
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
        pause && decision.probe
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
      if (!job) return { ok: true } as const;
      await Promise.all([
        admitInTx(db, job, usageId, options.unsent === true),
        decision.reserve && usageId !== undefined ? reserveInTx(db, spent.spend, usageId, decision.reserve, now) : null,
      ]);
      return decision.probe ? { ok: true, usageId, probe: true } : { ok: true, usageId };
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
    // Try now's one probe belongs to the chat queue: a batch call waits out the pause, and leaves the probe as it is.
    const held = { ...state, probeAllowed: false };
    const decision = decide(now, limits, requests > 0 ? held : { ...held, monthCount: 0 });
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
