/** Reads Anthropic's request rate-limit headers (`anthropic-ratelimit-requests-*`) from a response. */
import type { ServerLimits } from '../storage/db';

/**
 * The furthest ahead a reset is believed. Anthropic's request limits refill within a minute; a
 * reset days away comes from a broken or hostile server, and with nothing remaining it would hold
 * the queue until then. An hour, as for retry-after (lib/claude/errors.ts).
 */
export const MAX_RESET_AHEAD_MS = 60 * 60 * 1000;

/** A count as the headers give it: digits only, a safe integer; anything else is not believed. */
function count(value: string | null): number | null {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

export function readRateLimitHeaders(headers: Headers, now: number): ServerLimits | null {
  const limit = count(headers.get('anthropic-ratelimit-requests-limit'));
  const remaining = count(headers.get('anthropic-ratelimit-requests-remaining'));
  const reset = Date.parse(headers.get('anthropic-ratelimit-requests-reset') ?? '');
  if (limit === null || remaining === null || !Number.isFinite(reset)) return null;
  return { limit, remaining, reset: Math.min(reset, now + MAX_RESET_AHEAD_MS), observedAt: now };
}
