/**
 * Reads Anthropic's rate-limit headers from a response: `anthropic-ratelimit-requests-*` (the
 * top-level figures) and, when present, the `tokens`, `input-tokens` and `output-tokens` trios.
 * A trio that is missing or not believable (not digits, not a date) is left out; nothing throws.
 */
import type { LimitFigure, ServerLimits } from '../storage/db';

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

/** One trio, `anthropic-ratelimit-<kind>-{limit,remaining,reset}`, or null when it is missing or nonsense. */
function figure(headers: Headers, kind: string, now: number): LimitFigure | null {
  const limit = count(headers.get(`anthropic-ratelimit-${kind}-limit`));
  const remaining = count(headers.get(`anthropic-ratelimit-${kind}-remaining`));
  const reset = Date.parse(headers.get(`anthropic-ratelimit-${kind}-reset`) ?? '');
  if (limit === null || remaining === null || !Number.isFinite(reset)) return null;
  return { limit, remaining, reset: Math.min(reset, now + MAX_RESET_AHEAD_MS) };
}

/**
 * Every trio the response carries counts: a response with token figures and no request figures (a
 * proxy that passes only some headers on, say) still holds the queue to its tokens.
 */
export function readRateLimitHeaders(headers: Headers, now: number): ServerLimits | null {
  const requests = figure(headers, 'requests', now);
  const server: ServerLimits = requests
    ? { ...requests, observedAt: now }
    : { limit: 0, remaining: 0, reset: now, observedAt: now, noRequests: true };
  // A token limit of nothing a minute is no limit a key has: such a trio is not believed.
  for (const [kind, field] of [
    ['tokens', 'tokens'],
    ['input-tokens', 'inputTokens'],
    ['output-tokens', 'outputTokens'],
  ] as const) {
    const f = figure(headers, kind, now);
    if (f && f.limit > 0) server[field] = f;
  }
  return requests || server.tokens || server.inputTokens || server.outputTokens ? server : null;
}
