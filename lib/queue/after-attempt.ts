/**
 * Applies the retry policy (./retry-policy.ts) after an attempt failed: the job waits and tries
 * again through the limiter, the whole queue pauses on the API's word (Anthropic's, or a gateway's,
 * named as such), or the job gives up; a gateway that refused the prompt cache's breakpoints gets
 * the job again at once. The runner (lib/queue/chat-runner.ts) only runs the attempt and says
 * how it failed.
 */
import { retryAfterSeconds } from '../claude/errors';
import type { PromptCacheMode } from '../claude/prompt-cache';
import { formatReset, formatWait } from '../limits/format';
import { pauseAll } from '../limits/limiter-store';
import { monthWindow } from '../limits/month-window';
import type { PaceError } from '../storage/rows';
import type { Job, PaceDB } from '../storage/db';
import type { Refusal } from '../usage/alerts';
import * as jobStore from './job-store';
import { MAX_ATTEMPTS, nextStep } from './retry-policy';

export interface AfterAttemptDeps {
  db: PaceDB;
  now: () => number;
  random: () => number;
  /** Anthropic refused a request (429 or the spend cap): for the alert. `waitText` says how long. */
  onRefused?: (reason: Refusal, waitText: string | null, by: string) => void;
  /** Closes the wire until `until` (lib/queue/wire-gate.ts): requests admitted before the pause wait too. */
  hold?: (until: number) => void;
}

export interface FailedAttempt {
  /** The text received before it failed: kept on screen. */
  text: string;
  error: PaceError;
  /** The API's error response, when there was one: its status and headers (retry-after). */
  response: { status?: number; headers?: Headers | null } | null;
  /** The browser was offline: nothing left the machine, so it costs no try. */
  offline: boolean;
  /** Who answered (lib/claude/errors.ts `answeredBy`): 'Anthropic', or a gateway's host, named in what the user reads. */
  by: string;
}

/** What the popup says of a pause that `by` asked for, `ms` long. */
export const askedToWait = (by: string, ms: number): string => `${by} asked us to wait ${formatWait(ms)}.`;

/** After a failed attempt of `job` (in flight): wait and try again (through the limiter), pause everything, or give up. */
export async function afterFailedAttempt(deps: AfterAttemptDeps, job: Job, failed: FailedAttempt): Promise<void> {
  const { db } = deps;
  const { text, error, response, offline, by } = failed;
  const t = deps.now();
  const status = response?.status;
  // Nothing left the machine while the browser is offline: that costs no try.
  if (offline) {
    await jobStore.requeue(
      db,
      job.id,
      text,
      { code: 'offline', message: 'Waiting for the network to come back.' },
      { at: t, outcome: 'offline' },
      {
        waitReason: 'offline',
      },
    );
    return;
  }
  const failures = (job.failures ?? 0) + 1;
  const retryAfterSec = retryAfterSeconds(response?.headers, t);
  const step = nextStep(
    failures,
    {
      code: error.code,
      retryAfterMs: retryAfterSec === null ? null : retryAfterSec * 1000,
      resetAt: monthWindow(t, 'utc').end,
    },
    t,
    deps.random,
  );
  const attempt = { at: t, outcome: error.code, ...(status ? { status } : {}) };
  if (step.action === 'fail') {
    const gaveUp = failures > 1 && failures >= MAX_ATTEMPTS;
    const finalError: PaceError = gaveUp
      ? {
          ...error,
          message: `${error.message} Pace tried ${failures} times; this is on ${by}'s side or the network's, not your quota. Try again later.`,
        }
      : error;
    await jobStore.fail(db, job.id, { status: 'error', text: text || undefined, error: finalError }, attempt);
    return;
  }
  if (step.action === 'pause') {
    // A 400 is the limit the organization set itself (lib/claude/errors.ts isOwnSpendLimit): an admin may raise it sooner.
    const message =
      status === 400
        ? `Your organization's own spend limit, set in the Anthropic Console, is reached: ${by} refuses requests until ${formatReset(step.until, 'utc')} unless an admin raises it. Pace has paused sending until then.`
        : `Your organization's spend limit is reached: ${by} refuses requests until ${formatReset(step.until, 'utc')}. Pace has paused sending until then.`;
    await pauseAll(db, { until: step.until, reason: 'spend_limit', message, by }, job.id, t);
    deps.onRefused?.('spend_limit', formatReset(step.until, 'utc'), by);
    await jobStore.requeue(
      db,
      job.id,
      text,
      { code: 'spend_limit', message },
      { ...attempt, waitMs: step.until - t },
      { waitUntil: step.until, waitReason: 'server' },
    );
    return;
  }
  const waitMs = step.at - t;
  if (step.pauseAll) {
    const message = askedToWait(by, waitMs);
    deps.hold?.(step.at);
    await pauseAll(db, { until: step.at, reason: 'rate_limited', message, by }, job.id, t);
    deps.onRefused?.('rate_limited', formatWait(waitMs), by);
    await jobStore.requeue(
      db,
      job.id,
      text,
      { code: 'rate_limited', message },
      { ...attempt, waitMs },
      { waitUntil: step.at, waitReason: 'server' },
    );
    return;
  }
  const message = `${error.message} Trying again (attempt ${failures + 1} of ${MAX_ATTEMPTS}).`;
  await jobStore.requeue(
    db,
    job.id,
    text,
    { ...error, message },
    { ...attempt, waitMs },
    { waitUntil: step.at, waitReason: 'backoff', failures },
  );
}

/**
 * The base URL (a gateway) refused `cache_control`: the job goes again at once with the prompt
 * cache asked for as `next`, through the limiter (it is one more request) but without using up a try.
 */
export async function afterCacheControlRefused(
  db: PaceDB,
  jobId: string,
  text: string,
  next: PromptCacheMode,
  status: number | undefined,
  at: number,
): Promise<void> {
  const message =
    next === 'explicit'
      ? 'This gateway does not accept automatic prompt caching: sending again with one explicit cache breakpoint.'
      : 'This gateway does not accept prompt cache breakpoints: sending again without the prompt cache.';
  await jobStore.requeue(
    db,
    jobId,
    text,
    { code: 'bad_request', message },
    { at, outcome: 'cache_control_refused', status },
    { waitUntil: at, waitReason: 'backoff' },
  );
}
