/**
 * Runs the queue: offers the jobs that may go to the limiter, oldest first, starts each admitted
 * one, and when the limiter says "not yet", marks the job waiting and asks to be woken at that
 * time. `pump` is safe to call from anywhere and at any time (start-up, an alarm, a new message,
 * a job that ended, a change of limits): calls during a run are folded into one more run.
 */
import { coalesce } from '../coalesce';
import { errorLabel } from '../claude/errors';
import type { RequestCost } from '../limits/budget';
import { admitQueued } from '../limits/admit';
import type { TokenNeed } from '../limits/token-buckets';
import type { MessageRequest } from '../claude/request';
import type { Job, PaceDB } from '../storage/db';
import { describeSkipped, jobProblem, readable } from '../storage/row-guards';
import { settleUsage } from '../usage/ledger-store';
import { heldUntil, nextCandidates } from './job-states';
import { activeJobs, wait } from './job-store';
import { warn } from '../warn';
import type { PaceError } from '../storage/rows';

const OFFLINE_RECHECK_MS = 2000;
/** How long a job whose request could not be measured waits before it is measured again. */
export const MEASURE_RETRY_MS = 5000;

const START_FAILED: PaceError = {
  code: 'internal',
  message: 'Pace could not start this answer. Press Retry to send it again.',
  action: 'retry',
};

export interface SchedulerDeps {
  db: PaceDB;
  now: () => number;
  /** Why nothing can be sent at all right now (no key), checked before anything is counted. */
  blocker: () => Promise<PaceError | null>;
  /**
   * Called right after admission has committed, with the job already `sending` (`probe`: it goes as
   * Try now's probe); resolves when it has ended, rejects only if it never started.
   */
  startJob: (job: Job, options: { probe?: boolean; request?: MessageRequest }) => Promise<void>;
  /** Resolves once the rate-limit figures that have arrived are written (lib/queue/wire-gate.ts `settled`): admission decides on them. */
  settled?: () => Promise<void>;
  /** Fails a job that could not be offered (blocker), without counting it. */
  failJob: (job: Job, error: PaceError) => Promise<void>;
  /** Asks to be woken at `at` (a timer while alive, an alarm otherwise); null cancels. */
  wakeAt: (at: number | null) => void;
  /** The queue or the windows changed: refresh the badge. */
  changed: () => void;
  /** Answers what it can of these jobs from the response cache (nothing sent, nothing counted); how many it did. */
  answerFromCache?: (jobs: Job[]) => Promise<number>;
  /** Folds later messages into the job's request before it is measured ("combine waiting messages"). */
  combine?: (job: Job) => Promise<void>;
  /**
   * What the job's request asks of the token limits and what it is priced by for the spend budget,
   * from one measurement (lib/limits/measure-job.ts), or why it can never be sent. A
   * rejection holds the job for a while: it is never admitted unmeasured.
   */
  measure?: (
    job: Job,
  ) => Promise<
    { ok: true; need: TokenNeed; cost: RequestCost | null; request?: MessageRequest } | { ok: false; error: PaceError }
  >;
  /** False while the browser is offline: nothing is sent, no attempt is spent; `pump` again when it is back. */
  online?: () => boolean;
  maxActive?: number;
  log?: (message: string, detail?: unknown) => void;
}

export interface Scheduler {
  pump(): Promise<void>;
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { db } = deps;
  const log = deps.log ?? warn;
  async function runOnce(): Promise<void> {
    // A damaged job row is left where it is and reported; the rest of the queue goes on.
    const rows = await activeJobs(db);
    const jobs = readable<Job>('jobs', rows, jobProblem, (s) => log(describeSkipped(s))).rows;
    const now = deps.now();
    // A cached answer needs no slot and no quota: every conversation's next job may take one,
    // even one waiting behind the limiter or the network.
    if (deps.answerFromCache) {
      const served = await deps
        .answerFromCache(nextCandidates(jobs, Infinity, now))
        .catch((err: unknown) => (log('the cache could not be read', err), 0));
      if (served > 0) {
        void pump();
        return;
      }
    }
    const candidates = nextCandidates(jobs, deps.maxActive, now);
    const held = jobs.map((j) => heldUntil(j, now)).filter((t): t is number => t !== null);
    let wake: number | null = held.length ? Math.min(...held) : null;
    if (candidates.length > 0 && deps.online && !deps.online()) {
      await wait(
        db,
        candidates.map((j) => j.id),
        { waitReason: 'offline', waitUntil: undefined },
      );
      // The 'online' event wakes the queue too, but not every browser fires it in a worker: look again soon.
      wake = Math.min(now + OFFLINE_RECHECK_MS, wake ?? Infinity);
    } else if (candidates.length > 0) {
      const blocked = await deps.blocker();
      for (const job of candidates) {
        if (blocked) {
          await deps.failJob(job, blocked);
          continue;
        }
        // The request that leaves is the combined one: it is the one measured and reserved for.
        await deps.combine?.(job);
        let measured: Awaited<ReturnType<NonNullable<SchedulerDeps['measure']>>> | undefined;
        try {
          measured = await deps.measure?.(job);
        } catch (err) {
          log('could not measure the request; it waits', errorLabel(err));
          const retryAt = deps.now() + MEASURE_RETRY_MS;
          await wait(db, [job.id], { waitUntil: retryAt, waitReason: 'backoff' });
          wake = Math.min(retryAt, wake ?? Infinity);
          continue;
        }
        if (measured && !measured.ok) {
          await deps.failJob(job, measured.error);
          continue;
        }
        // The figures the last response brought are written before admission reads them.
        await deps.settled?.();
        const decision = await admitQueued(
          db,
          deps.now(),
          job.id,
          measured ? { need: measured.need, cost: measured.cost } : {},
        );
        if (decision.ok) {
          deps
            .startJob(
              { ...job, state: 'sending', attempts: job.attempts + 1, usageId: decision.usageId, unsent: true },
              // The request measured is the one sent: built once for the attempt.
              { probe: decision.probe === true, request: measured?.request },
            )
            // startJob rejects only when the runner never took the job: it would stay 'sending' for good.
            .catch(async (err: unknown) => {
              log('a job could not start', err);
              // The send was counted and its ledger row opened: it ends too, or it stays in flight for good.
              if (decision.usageId !== undefined) {
                await settleUsage(db, decision.usageId, { outcome: START_FAILED.code }).catch((e: unknown) =>
                  log('could not end its ledger row', e),
                );
              }
              await deps.failJob(job, START_FAILED);
            })
            .catch((err: unknown) => log('could not record that a job failed to start', err))
            .finally(() => void pump());
          continue;
        }
        if (decision.reason === 'gone') continue;
        // The spend budget can never fit it (or cannot price it): it is not sent, and says why.
        if (decision.reason === 'refused') {
          await deps.failJob(job, decision.error);
          continue;
        }
        await wait(db, [job.id], { waitUntil: decision.retryAt, waitReason: decision.reason });
        wake = Math.min(decision.retryAt, wake ?? Infinity);
        // First in, first out: nobody overtakes the job the limiter just held back.
        break;
      }
      // Only `maxActive` jobs are offered a run: the rest of those refused go in the next runs.
      if (blocked) void pump();
    }
    deps.wakeAt(wake);
    deps.changed();
  }

  const pump = coalesce(runOnce, (err) => log('the queue could not run', err));

  return { pump };
}
