import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  gatewayKeySpend,
  gatewayResponseCost,
  readGatewayRateLimitHeaders,
  resetAt,
} from '@/lib/claude/gateway-headers';
import { MAX_RESET_AHEAD_MS } from '@/lib/claude/rate-limit-headers';

const now = Date.UTC(2026, 10, 30, 12);
const BY = 'litellm.example.com';

/** LiteLLM's headers for a key with rpm_limit 100 and tpm_limit 50,000, as its proxy answers them. */
const litellm = (extra: Record<string, string> = {}) =>
  new Headers({
    'x-ratelimit-limit-requests': '100',
    'x-ratelimit-remaining-requests': '97',
    'x-ratelimit-reset-requests': '6m0s',
    'x-ratelimit-limit-tokens': '50000',
    'x-ratelimit-remaining-tokens': '48500',
    'x-ratelimit-reset-tokens': '20ms',
    'x-litellm-response-cost': '0.000245',
    'x-litellm-key-spend': '12.4',
    ...extra,
  });

describe('readGatewayRateLimitHeaders', () => {
  it("reads the requests' figures at the top and the tokens' beside them, named by the gateway", () => {
    expect(readGatewayRateLimitHeaders(litellm(), now, BY)).toEqual({
      limit: 100,
      remaining: 97,
      reset: now + 360_000,
      observedAt: now,
      tokens: { limit: 50_000, remaining: 48_500, reset: now + 20 },
      by: BY,
    });
  });

  it('leaves the tokens out when the gateway gives none, and gives nothing without the request figures', () => {
    const requestsOnly = new Headers({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '1s',
    });
    expect(readGatewayRateLimitHeaders(requestsOnly, now, BY)).toEqual({
      limit: 10,
      remaining: 0,
      reset: now + 1000,
      observedAt: now,
      by: BY,
    });
    const tokensOnly = new Headers({
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '10',
      'x-ratelimit-reset-tokens': '1s',
    });
    expect(readGatewayRateLimitHeaders(tokensOnly, now, BY)).toBeNull();
    expect(readGatewayRateLimitHeaders(new Headers(), now, BY)).toBeNull();
    // Anthropic's own headers are not a gateway's.
    expect(
      readGatewayRateLimitHeaders(new Headers({ 'anthropic-ratelimit-requests-limit': '50' }), now, BY),
    ).toBeNull();
  });

  it('refuses nonsense without throwing: counts that are not whole, remaining above the limit, a zero limit', () => {
    for (const bad of ['-5', 'NaN', 'Infinity', '3.7', '1e3', '9'.repeat(30), 'many', '']) {
      expect(
        readGatewayRateLimitHeaders(litellm({ 'x-ratelimit-limit-requests': bad }), now, BY),
        `limit ${bad}`,
      ).toBeNull();
      expect(
        readGatewayRateLimitHeaders(litellm({ 'x-ratelimit-remaining-requests': bad }), now, BY),
        `remaining ${bad}`,
      ).toBeNull();
      expect(
        readGatewayRateLimitHeaders(litellm({ 'x-ratelimit-remaining-tokens': bad }), now, BY)?.tokens,
        `tokens ${bad}`,
      ).toBeUndefined();
    }
    expect(readGatewayRateLimitHeaders(litellm({ 'x-ratelimit-remaining-requests': '101' }), now, BY)).toBeNull();
    expect(
      readGatewayRateLimitHeaders(
        litellm({ 'x-ratelimit-limit-requests': '0', 'x-ratelimit-remaining-requests': '0' }),
        now,
        BY,
      ),
    ).toBeNull();
    expect(readGatewayRateLimitHeaders(litellm({ 'x-ratelimit-reset-requests': 'soon' }), now, BY)).toBeNull();
  });

  it('never throws and returns either nothing or figures within bounds, whatever the headers hold', () => {
    const value = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '1s',
        '6m0s',
        '20ms',
        '-1s',
        '1e9',
        '0',
        '99999999999999999999',
        '1h1h',
        'ms',
        '2026-11-30T12:00:00Z',
      ),
    );
    const names = ['limit', 'remaining', 'reset'].flatMap((f) => [
      `x-ratelimit-${f}-requests`,
      `x-ratelimit-${f}-tokens`,
    ]);
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), value), (raw) => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(raw)) {
          try {
            headers.set(k, v);
          } catch {
            return; // not a value HTTP can carry: no response could hold it
          }
        }
        const read = readGatewayRateLimitHeaders(headers, now, BY);
        if (read === null) return;
        for (const f of [read, ...(read.tokens ? [read.tokens] : [])]) {
          expect(Number.isSafeInteger(f.limit) && f.limit >= 1).toBe(true);
          expect(f.remaining >= 0 && f.remaining <= f.limit).toBe(true);
          expect(f.reset >= now && f.reset <= now + MAX_RESET_AHEAD_MS).toBe(true);
        }
      }),
    );
  });
});

describe('resetAt', () => {
  it("reads OpenAI's durations, plain seconds, Unix times and RFC 3339 times", () => {
    expect(resetAt('1s', now)).toBe(now + 1000);
    expect(resetAt('6m0s', now)).toBe(now + 360_000);
    expect(resetAt('20ms', now)).toBe(now + 20);
    expect(resetAt('1m2.5s', now)).toBe(now + 62_500);
    expect(resetAt('30', now)).toBe(now + 30_000);
    expect(resetAt(String(now / 1000 + 45), now)).toBe(now + 45_000);
    expect(resetAt(new Date(now + 5000).toISOString(), now)).toBe(now + 5000);
  });

  it('believes at most an hour ahead, takes a past reset as now, and refuses the rest', () => {
    expect(resetAt('48h', now)).toBe(now + MAX_RESET_AHEAD_MS);
    expect(resetAt('0s', now)).toBe(now);
    expect(resetAt(new Date(now - 5000).toISOString(), now)).toBe(now);
    for (const bad of ['', ' ', 'soon', '-1s', '1x', 's', '1s2', 'Infinity', 'NaN', '2026-13-45T99:00:00Z', null])
      expect(resetAt(bad, now), String(bad)).toBeNull();
  });
});

describe("the gateway's cost and spend", () => {
  it('reads the cost of this request and the key spend in USD', () => {
    expect(gatewayResponseCost(litellm())).toBe(0.000245);
    expect(gatewayResponseCost(litellm({ 'x-litellm-response-cost': '7.2e-05' }))).toBe(0.000072);
    expect(gatewayKeySpend(litellm())).toBe(12.4);
    expect(gatewayResponseCost(new Headers())).toBeNull();
  });

  it('ignores a cost that is not a believable amount', () => {
    for (const bad of ['-0.1', 'NaN', 'Infinity', 'free', '', '1e400', '5000', '0x10']) {
      expect(gatewayResponseCost(litellm({ 'x-litellm-response-cost': bad })), bad).toBeNull();
    }
  });
});
