/** Pure rules of the request queue: which jobs may try for a send now, and where each one stands. */
import type { Job, JobState } from '../storage/db';

export const MAX_QUEUE = 100;
export const MAX_ACTIVE = 2;

export const isInFlight = (s: JobState) => s === 'sending' || s === 'streaming';
export const isWaiting = (s: JobState) => s === 'queued' || s === 'waiting';
/** Not sent and not counted: the cache may answer it, the user may cancel it. As a list for the `state` index. */
export const UNSENT_STATES: readonly JobState[] = ['queued', 'waiting', 'gathering'];
export const isUnsent = (s: JobState) => UNSENT_STATES.includes(s);
/** Ended one way or another: only such a job may be retried. */
export const isFinished = (s: JobState) => s === 'done' || s === 'failed' || s === 'cancelled';

/**
 * Which state may follow which: the only moves lib/queue/job-store.ts makes. A new job starts
 * `queued`, or `gathering` when sent "later, half price". `waiting` may follow itself (the limiter
 * or the network names a new reason or time).
 */
export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  // Held back, admitted, cancelled, answered from the cache or folded into an earlier job, or failed unsent (no key).
  queued: ['waiting', 'sending', 'cancelled', 'done', 'failed'],
  waiting: ['waiting', 'sending', 'cancelled', 'done', 'failed'],
  // The answer starts, the attempt fails before it (tried again, or not), the user stops it, or a restart cut it off.
  sending: ['streaming', 'waiting', 'failed', 'cancelled', 'queued'],
  streaming: ['done', 'waiting', 'failed', 'cancelled', 'queued'],
  // Only a finished job may be retried: it is queued again, at the back.
  done: ['queued'],
  failed: ['queued'],
  cancelled: ['queued'],
  // Counted into a batch, answered from the cache, cancelled unsent, or failed (the batch could not be made).
  gathering: ['batched', 'done', 'cancelled', 'failed'],
  // Its answer arrives; it errored or expired; the batch was cancelled before it ran; or its create never answered (gathered again).
  batched: ['done', 'failed', 'cancelled', 'gathering'],
};

/** Whether a job in state `from` may move to `to`. */
export const canMove = (from: JobState, to: JobState): boolean => TRANSITIONS[from].includes(to);

const byAge = (a: Job, b: Job) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A job backing off after a failure waits for its own time, whatever the limiter says. */
export function heldUntil(job: Job, now: number): number | null {
  return job.waitReason === 'backoff' && job.waitUntil !== undefined && job.waitUntil > now ? job.waitUntil : null;
}

/**
 * The jobs that may be offered to the limiter now, oldest first: the head of each conversation
 * (messages of one conversation go one after another), for conversations with nothing in flight
 * and not backing off, up to `maxActive` in flight overall.
 */
export function nextCandidates(jobs: Job[], maxActive = MAX_ACTIVE, now = 0): Job[] {
  const sorted = [...jobs].sort(byAge);
  const inFlight = sorted.filter((j) => isInFlight(j.state));
  const busy = new Set(inFlight.map((j) => j.conversationId));
  const seen = new Set<string>();
  const out: Job[] = [];
  for (const job of sorted) {
    if (seen.has(job.conversationId)) continue;
    seen.add(job.conversationId);
    if (!busy.has(job.conversationId) && isWaiting(job.state) && heldUntil(job, now) === null) out.push(job);
  }
  return out.slice(0, Math.max(0, maxActive - inFlight.length));
}

/** Jobs waiting for a send, in the order they will go (FIFO): position 0 goes first. */
export function waitingOrder(jobs: Job[]): Job[] {
  return jobs.filter((j) => isWaiting(j.state)).sort(byAge);
}

export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix =
    tens >= 11 && tens <= 13 ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${suffix}`;
}
