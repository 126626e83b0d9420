/**
 * What one worker's runner (./chat-runner.ts) shares across its attempts: its dependencies with
 * their defaults filled in, the wire gate, what it learned of each base URL's prompt cache, and
 * the wire's own steps (pass the gate, hold it on a 429, note the server's limits). Each step of
 * an attempt takes this kit; nothing here belongs to one attempt.
 */
import type { ClaudeClient, Credentials } from '../claude/client';
import { retryAfterSeconds } from '../claude/errors';
import { readGatewayRateLimitHeaders } from '../claude/gateway-headers';
import type { PromptCacheMode, PromptCacheModes } from '../claude/prompt-cache';
import { readRateLimitHeaders } from '../claude/rate-limit-headers';
import { formatWait } from '../limits/format';
import { pauseAll } from '../limits/limiter-store';
import { saveServerLimitsFor } from '../limits/token-store';
import type { AnswerProgress } from '../protocol';
import type { UsagePrefs } from '../settings/usage-prefs';
import type { PaceDB } from '../storage/db';
import type { Refusal } from '../usage/alerts';
import { askedToWait } from './after-attempt';
import * as jobStore from './job-store';
import type { WireGate } from './wire-gate';

/** The runner's dependencies (./chat-runner.ts `RunnerDeps`) as its attempts use them: every default applied. */
export interface RunnerKit {
  db: PaceDB;
  now: () => number;
  random: () => number;
  /** Whether the browser believes it is online (navigator.onLine). */
  online: () => boolean;
  log: (message: string, detail?: unknown) => void;
  /** The door every request passes just before the wire (./wire-gate.ts). */
  gate: WireGate;
  checkpointMs: number;
  publishMs: number;
  /** An answer with no event for this long is treated as a dropped connection. */
  stallMs: number;
  createClient: (
    c: Credentials,
    extraHeaders?: Record<string, string>,
    watch?: (response: Response) => void,
  ) => ClaudeClient;
  publish: (event: AnswerProgress) => void;
  usagePrefs?: () => Promise<Pick<UsagePrefs, 'cacheHours'>>;
  onRefused?: (reason: Refusal, waitText: string | null, by: string) => void;
  onGatewaySpend?: () => void;
  /** Per base URL, how Anthropic's prompt cache is asked for, as stored. */
  promptCacheModes: PromptCacheModes;
  /** What this worker learned, kept here too: a refused mode is never sent again because storage failed. */
  learned: PromptCacheModes;
}

/** How the base URL takes Anthropic's prompt cache: what this worker learned, else what is stored. */
export async function cacheModeFor(kit: RunnerKit, baseURL: string): Promise<PromptCacheMode | undefined> {
  return (
    (await kit.learned.get(baseURL)) ??
    (await kit.promptCacheModes
      .get(baseURL)
      .catch((err: unknown) => (kit.log('could not read the prompt cache mode', err), undefined)))
  );
}

/**
 * `by` is who answered: a gateway's own `x-ratelimit-*` headers count when Anthropic's are absent.
 * The figures are dated from just after `jobId`'s request was admitted (lib/limits/token-store.ts).
 */
export async function noteServerLimits(kit: RunnerKit, headers: Headers, by: string, jobId: string): Promise<void> {
  const { now, gate } = kit;
  const server =
    readRateLimitHeaders(headers, now()) ??
    (by === 'Anthropic' ? null : readGatewayRateLimitHeaders(headers, now(), by));
  if (!server) return;
  // The queue's next admission waits for this write: it must not decide on the figures before these.
  const write = saveServerLimitsFor(kit.db, server, jobId, gate.onTheWire());
  gate.track(write);
  await write;
}

/**
 * Waits at the gate while it is closed. A job held there is marked so (its request has not left):
 * a worker that stops meanwhile gives its count back at start-up (lib/queue/job-store.ts `recover`).
 * The mark goes before the request does.
 */
export async function passTheGate(kit: RunnerKit, id: string, probe: boolean, signal: AbortSignal): Promise<void> {
  const { gate, db } = kit;
  if (probe || gate.closedUntil(kit.now()) === null) return gate.pass({ probe, signal });
  await jobStore.markUnsent(db, id, true);
  try {
    await gate.pass({ signal });
  } finally {
    await jobStore.markUnsent(db, id, false);
  }
}

/**
 * A 429, or a 529 that says how long to wait: the wire is closed to every request until then,
 * and the pause is written at once (the queue's admissions wait for that write), so a worker
 * restarted a moment later holds the queue too. Called as the response's status arrives (the
 * client's `watch`), or with its error when the client was made without the watch. True when it
 * closed the wire.
 */
export function holdTheWire(
  kit: RunnerKit,
  refusal: { status?: number; headers?: Headers | null },
  jobId: string,
  by: string,
): boolean {
  if (refusal.status !== 429 && refusal.status !== 529) return false;
  const t = kit.now();
  const seconds = retryAfterSeconds(refusal.headers, t);
  if (seconds === null) return false;
  const until = t + seconds * 1000;
  kit.gate.close(until);
  const message =
    refusal.status === 429
      ? askedToWait(by, until - t)
      : `${by} is overloaded and asked us to wait ${formatWait(until - t)}.`;
  const write = pauseAll(kit.db, { until, reason: 'rate_limited', message, by }, jobId, t);
  kit.gate.track(write);
  write.catch((err: unknown) => kit.log('could not write the pause', err));
  return true;
}
