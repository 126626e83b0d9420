/**
 * What the queue does after a failed attempt, pure: retry at a given time (honouring the server's
 * retry-after, or exponential backoff with full jitter), pause everything (a rate limit or a spend
 * cap is shared by every request), or give up with the reason.
 */
import type { ErrorCode } from '../storage/rows';

export const MAX_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 60_000;

/** Failures that are Anthropic's side or the network's: worth another try after a pause. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set(['overloaded', 'server_error', 'timeout', 'unreachable', 'stalled']);

/** Full jitter: a random wait between 0 and min(cap, base * 2^(attempt-1)). */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

export interface Failure {
  code: ErrorCode;
  /** Seconds the server asked to wait (retry-after / retry-after-ms), if it said. */
  retryAfterMs: number | null;
  /** For a spend cap: when the cap resets. */
  resetAt?: number;
}

export type Step =
  { action: 'retry'; at: number; pauseAll: boolean } | { action: 'pause'; until: number } | { action: 'fail' };

/**
 * After attempt number `attempt` (1 for the first request) failed with `failure` at `now`.
 * Rate limits pause the whole queue until the server's time and do not use up attempts; a spend
 * cap pauses until it resets; transient failures back off, at most MAX_ATTEMPTS attempts in all.
 */
export function nextStep(attempt: number, failure: Failure, now: number, random: () => number = Math.random): Step {
  if (failure.code === 'spend_limit') return { action: 'pause', until: failure.resetAt ?? now };
  if (failure.code === 'rate_limited') {
    const wait = failure.retryAfterMs ?? backoffDelay(attempt, random);
    return { action: 'retry', at: now + wait, pauseAll: true };
  }
  if (!TRANSIENT.has(failure.code) || attempt >= MAX_ATTEMPTS) return { action: 'fail' };
  const wait = Math.max(backoffDelay(attempt, random), failure.retryAfterMs ?? 0);
  return { action: 'retry', at: now + wait, pauseAll: false };
}
