/**
 * Reads what a team gateway (LiteLLM's proxy and others in OpenAI's style) says on each response,
 * as lib/claude/rate-limit-headers.ts reads Anthropic's:
 * - `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`: the key's limits at the gateway, its
 *   resets as durations ("1s", "6m0s", "20ms", "1h2m3.5s"), plain seconds, or a time;
 * - `x-litellm-response-cost`: what this request cost, in USD, by the gateway's own prices;
 * - `x-litellm-key-spend`: what the key has spent so far, in USD.
 * A figure that is not a believable number is ignored, never thrown on.
 */
import type { LimitFigure, ServerLimits } from '../storage/db';
import { MAX_RESET_AHEAD_MS } from './rate-limit-headers';

/** A count as the headers give it: digits only, a safe integer; anything else is not believed. */
function count(value: string | null): number | null {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
/** Go's duration format, as OpenAI sends it: "6m0s", "20ms", "1h2m3.5s". */
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;
/** A bare number this large is a Unix time in seconds (2001 onwards), not a wait. */
const UNIX_SECONDS = 1_000_000_000;

/** When a `reset` value says the bucket is full again: a duration from `now`, seconds, a Unix time or an RFC 3339 time; null if unreadable. */
export function resetAt(value: string | null, now: number): number | null {
  const v = value?.trim() ?? '';
  if (v === '') return null;
  let at: number;
  if (DURATION.test(v)) {
    let ms = 0;
    for (const [, n, unit] of v.matchAll(DURATION_PART)) ms += Number(n) * UNIT_MS[unit!]!;
    at = now + Math.ceil(ms);
  } else if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    at = n >= UNIX_SECONDS ? n * 1000 : now + n * 1000;
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(v)) {
    at = Date.parse(v);
  } else {
    return null;
  }
  // A reset in the past is now; one further than an hour is not believed (as for Anthropic's headers).
  return Number.isFinite(at) ? Math.min(Math.max(at, now), now + MAX_RESET_AHEAD_MS) : null;
}

function figure(headers: Headers, kind: 'requests' | 'tokens', now: number): LimitFigure | null {
  const limit = count(headers.get(`x-ratelimit-limit-${kind}`));
  const remaining = count(headers.get(`x-ratelimit-remaining-${kind}`));
  const reset = resetAt(headers.get(`x-ratelimit-reset-${kind}`), now);
  if (limit === null || remaining === null || reset === null || limit < 1 || remaining > limit) return null;
  return { limit, remaining, reset };
}

/**
 * The gateway's request figures (top level) and token figures (`tokens`), named by `by` (the
 * gateway's host); null when the request figures are missing or not believable, since the request
 * limit is what the queue's admission follows.
 */
export function readGatewayRateLimitHeaders(headers: Headers, now: number, by: string): ServerLimits | null {
  const requests = figure(headers, 'requests', now);
  if (!requests) return null;
  const tokens = figure(headers, 'tokens', now);
  return { ...requests, observedAt: now, ...(tokens ? { tokens } : {}), by };
}

/**
 * The most one request can believably cost: 1M input tokens and 128K output at the dearest list
 * price are about $16; a figure a hundred times that is a broken or hostile gateway.
 */
const MAX_RESPONSE_COST_USD = 1000;

/** USD as a gateway writes it: "0.00042", "7.2e-05". */
function usd(value: string | null, max: number): number | null {
  if (value === null || !/^\s*\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(value)) return null;
  const n = Number(value);
  return Number.isFinite(n) && n <= max ? n : null;
}

/** `x-litellm-response-cost`: what the gateway says this request cost; null when absent or not believable. */
export function gatewayResponseCost(headers: Headers): number | null {
  return usd(headers.get('x-litellm-response-cost'), MAX_RESPONSE_COST_USD);
}

/** `x-litellm-key-spend`: what the key has spent at the gateway; null when absent or not a number. */
export function gatewayKeySpend(headers: Headers): number | null {
  return usd(headers.get('x-litellm-key-spend'), Number.MAX_SAFE_INTEGER);
}
