/** Reads Anthropic's request rate-limit headers (`anthropic-ratelimit-requests-*`) from a response. */
import type { ServerLimits } from '../storage/db';

export function readRateLimitHeaders(headers: Headers, now: number): ServerLimits | null {
  const limit = Number(headers.get('anthropic-ratelimit-requests-limit'));
  const remaining = Number(headers.get('anthropic-ratelimit-requests-remaining'));
  const reset = Date.parse(headers.get('anthropic-ratelimit-requests-reset') ?? '');
  if (!headers.has('anthropic-ratelimit-requests-remaining') || !Number.isFinite(limit) || !Number.isFinite(remaining) || !Number.isFinite(reset)) {
    return null;
  }
  return { limit, remaining, reset, observedAt: now };
}
