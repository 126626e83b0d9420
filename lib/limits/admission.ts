/**
 * The limiter's decision, pure: given the clock, the limits and what was sent, may one more
 * request go now, and if not, when? Used inside the admission transaction (lib/limits/admit.ts)
 * and by the screens to show what is left.
 */
import { monthWindow } from './month-window';
import type { Limits, TokenLog } from '../storage/rows';
import type { ServerLimits } from '../storage/db';
import { EMPTY_TOKEN_LOG, NO_NEED, tokenDecision, type TokenNeed } from './token-buckets';

export const MINUTE_MS = 60_000;
/**
 * A send counts for a quarter of a second longer than the minute, so that the few milliseconds
 * between admission here and arrival at the API can never put N+1 requests into one server-side
 * minute. Costs 0.4% of capacity.
 */
const SAFETY_MS = 250;
export const WINDOW_MS = MINUTE_MS + SAFETY_MS;

export interface WindowState {
  /** Times of sends that may still be inside the rolling minute (older ones may be omitted). */
  recentSends: number[];
  /** Sends counted in the month that `now` falls in, on every device of the user (this one's count plus `othersMonth`). */
  monthCount: number;
  /** The part of `monthCount` other devices reported through browser sync (lib/sync/device-entry.ts). */
  othersMonth?: number;
  /** Anthropic asked to wait (a 429) or its spend cap is reached: nothing goes before this. */
  pauseUntil?: number;
  /** The pause lets one request through to ask Anthropic again (the popup's Try now). */
  probeAllowed?: boolean;
  /** Anthropic's own count for the key, from its last response's headers. */
  server?: { remaining: number; reset: number; observedAt: number } & Partial<
    Pick<ServerLimits, 'tokens' | 'inputTokens' | 'outputTokens' | 'noRequests'>
  >;
  /** Input and output tokens spent inside the rolling minute (lib/limits/token-buckets.ts). */
  tokens?: TokenLog;
}

export type Decision =
  | { ok: true }
  | { ok: false; reason: 'minute' | 'smooth' | 'month' | 'server' | 'inputTokens' | 'outputTokens'; retryAt: number };

/**
 * A send time later than `now` means the clock went back: it is treated as if it happened now, so
 * the window can never hold more than the limit in real elapsed time.
 */
function effective(sends: number[], now: number): number[] {
  return sends.map((t) => Math.min(t, now));
}

function minuteUsage(sends: number[], now: number): number[] {
  return effective(sends, now)
    .filter((t) => t > now - WINDOW_MS)
    .sort((a, b) => a - b);
}

/** Whether a request admitted at `now` goes as the pause's one probe, past what Anthropic said. */
export function isProbe(now: number, state: WindowState): boolean {
  return state.pauseUntil !== undefined && state.pauseUntil > now && state.probeAllowed === true;
}

/** `need`: what the request asks of the token limits (its estimated input, its answer's max_tokens); none when not known. */
export function decide(now: number, limits: Limits, state: WindowState, need: TokenNeed = NO_NEED): Decision {
  // The probe asks Anthropic again, so neither its pause nor its figures hold it; Pace's own limits do.
  const probe = isProbe(now, state);
  if (!probe && state.pauseUntil !== undefined && state.pauseUntil > now)
    return { ok: false, reason: 'server', retryAt: state.pauseUntil };
  const month = monthWindow(now, limits.monthStart);
  if (state.monthCount >= limits.perMonth) return { ok: false, reason: 'month', retryAt: month.end };
  const inMinute = minuteUsage(state.recentSends, now);
  if (inMinute.length >= limits.perMinute) {
    // The slot frees when the send that is limit-th from the newest leaves the window.
    const freeing = inMinute[inMinute.length - limits.perMinute]!;
    return { ok: false, reason: 'minute', retryAt: freeing + WINDOW_MS };
  }
  // The server's figures can only make Pace stricter: another browser or app may share the key.
  const server = state.server;
  if (!probe && server && !server.noRequests && now < server.reset) {
    const sentSince = state.recentSends.filter((t) => t >= server.observedAt).length;
    if (server.remaining - sentSince <= 0) return { ok: false, reason: 'server', retryAt: server.reset };
  }
  const tokens = tokenDecision(
    now,
    limits,
    state.tokens ?? EMPTY_TOKEN_LOG,
    need,
    probe ? undefined : server,
    WINDOW_MS,
  );
  if (tokens) return tokens;
  if (limits.smooth && inMinute.length > 0) {
    const next = inMinute[inMinute.length - 1]! + WINDOW_MS / limits.perMinute;
    if (next > now) return { ok: false, reason: 'smooth', retryAt: Math.ceil(next) };
  }
  return { ok: true };
}

export interface Quota {
  minuteUsed: number;
  minuteLeft: number;
  /** When the oldest send in the minute leaves it (a slot frees), or null when none was sent. */
  minuteResetAt: number | null;
  monthUsed: number;
  monthLeft: number;
  monthResetAt: number;
}

export function quota(now: number, limits: Limits, state: WindowState): Quota {
  const inMinute = minuteUsage(state.recentSends, now);
  return {
    minuteUsed: inMinute.length,
    minuteLeft: Math.max(0, limits.perMinute - inMinute.length),
    minuteResetAt: inMinute.length ? inMinute[0]! + WINDOW_MS : null,
    monthUsed: state.monthCount,
    monthLeft: Math.max(0, limits.perMonth - state.monthCount),
    monthResetAt: monthWindow(now, limits.monthStart).end,
  };
}

/**
 * When each of the next `count` queued requests would be sent if nothing else changed: the
 * estimate the popup shows beside a queued message ("about 14 s").
 */
export function estimateStarts(now: number, limits: Limits, state: WindowState, count: number): number[] {
  const sends = [...minuteUsage(state.recentSends, now)];
  let monthCount = state.monthCount;
  let probeAllowed = state.probeAllowed;
  let t = now;
  const starts: number[] = [];
  for (let i = 0; i < count; i++) {
    let d = decide(t, limits, { ...state, recentSends: sends, monthCount, probeAllowed });
    // The month check is by the window `t` falls in; a new month starts from zero.
    if (!d.ok && d.reason === 'month') {
      t = d.retryAt;
      monthCount = 0;
      d = decide(t, limits, { ...state, recentSends: sends, monthCount, probeAllowed });
    }
    while (!d.ok) {
      t = d.retryAt;
      d = decide(t, limits, { ...state, recentSends: sends, monthCount, probeAllowed });
    }
    // Only one request goes as the probe: the rest wait for the pause.
    if (isProbe(t, { ...state, probeAllowed })) probeAllowed = false;
    starts.push(t);
    sends.push(t);
    monthCount += 1;
  }
  return starts;
}
