/**
 * The one decision whether a job's request may go now, pure: from what the admitting transaction
 * (lib/limits/admit.ts `admitRequest`) has read, it says go (and whether as the pause's probe, and
 * what to reserve of the spend budget), wait until a time with a reason, refuse with an error, or
 * that the job is not the one to decide on (no longer waiting, or not its turn). It composes the
 * rules each limit has: the queue's order (lib/queue/job-states.ts `nextCandidates`), the pause,
 * the requests a minute and a month, Anthropic's figures and the token minute (./admission.ts
 * `decide`), and the spend budget (./budget.ts `decideBudget`). The queue (lib/queue/scheduler.ts)
 * and chat.send's short way (lib/queue/send-at-once.ts) both get their answer here.
 */
import type { Job } from '../storage/db';
import { isWaiting, MAX_ACTIVE, nextCandidates } from '../queue/job-states';
import { decide, isProbe, type Decision, type WindowState } from './admission';
import { decideBudget, type BudgetDecision, type LedgerCost, type RequestCost } from './budget';
import type { TokenNeed } from './token-buckets';
import type { Budget, Limits, Reservation, SpendState } from '../storage/rows';

/**
 * What admission knows of the request: what it asks of the token limits (lib/limits/token-buckets.ts)
 * and what it would be priced by for the spend budget (lib/limits/budget.ts). Either may be absent
 * when no such limit is set.
 */
export interface AdmittedRequest {
  need?: TokenNeed;
  cost?: RequestCost | null;
}

export interface AdmissionInput {
  now: number;
  limits: Limits;
  /** The sends of the minute and the month, the pause, Anthropic's figures, the token minute. */
  window: WindowState;
  request: AdmittedRequest;
  /** The spend budget (null when none is set), what is reserved and extra, and the ledger's cost of the periods `now` is in. */
  spend: { budget: Budget | null; state: SpendState; ledger: LedgerCost };
  /** The job as read now: undefined when it is gone; null for a request that is no job's (it is only counted). */
  job: Pick<Job, 'id' | 'state'> | null | undefined;
  /**
   * The queue's active jobs, when the job was not taken from the queue's order already (the
   * scheduler offers its jobs in that order): then it goes only as the first the queue would offer.
   */
  queue?: Job[];
}

export type AdmissionDecision =
  | { ok: true; probe: boolean; reserve: Reservation | null }
  /** Wait until `retryAt`: a limit of requests or tokens, the pause, Anthropic's figures, or the budget's room. */
  | Exclude<Decision, { ok: true }>
  | Exclude<BudgetDecision, { ok: true }>
  /** The job is no longer queued or waiting: nothing to send. */
  | { ok: false; reason: 'gone' }
  /** Another job goes first (first in, first out; one at a time per conversation; the cap on jobs in flight). */
  | { ok: false; reason: 'turn' };

export function decideAdmission(input: AdmissionInput): AdmissionDecision {
  const { now, limits, window, request, spend, job } = input;
  if (input.queue !== undefined && (!job || nextCandidates(input.queue, MAX_ACTIVE, now)[0]?.id !== job.id))
    return { ok: false, reason: 'turn' };
  const decision = decide(now, limits, window, request.need);
  if (!decision.ok) return decision;
  if (job !== null && (job === undefined || !isWaiting(job.state))) return { ok: false, reason: 'gone' };
  const budget = decideBudget(now, limits.monthStart, spend.budget, spend.state, spend.ledger, request.cost ?? null);
  if (!budget.ok) return budget;
  return { ok: true, probe: isProbe(now, window), reserve: budget.reserve };
}
