import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_RESET_AHEAD_MS, readRateLimitHeaders } from '@/lib/claude/rate-limit-headers';
import { decide } from '@/lib/limits/admission';
import { describeLearned, learnedLimitsInput } from '@/lib/limits/learned-limits';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';

const now = Date.UTC(2026, 10, 3, 12);
const read = (limit: string, remaining: string, reset: string) =>
  readRateLimitHeaders(
    new Headers({
      'anthropic-ratelimit-requests-limit': limit,
      'anthropic-ratelimit-requests-remaining': remaining,
      'anthropic-ratelimit-requests-reset': reset,
    }),
    now,
  );

describe('readRateLimitHeaders', () => {
  it("reads Anthropic's figures", () => {
    const reset = new Date(now + 20_000).toISOString();
    expect(read('50', '48', reset)).toEqual({ limit: 50, remaining: 48, reset: now + 20_000, observedAt: now });
  });

  it('believes a reset at most an hour ahead', () => {
    expect(read('50', '0', new Date(now + 28 * 24 * 3600_000).toISOString())?.reset).toBe(now + MAX_RESET_AHEAD_MS);
    expect(read('50', '0', '+275760-09-13T00:00:00.000Z')?.reset).toBe(now + MAX_RESET_AHEAD_MS);
  });

  it('refuses counts that are not whole, non-negative numbers, and resets that are not dates', () => {
    const reset = new Date(now + 20_000).toISOString();
    for (const bad of ['-5', 'NaN', 'Infinity', '3.7', '1e308', '9'.repeat(30), 'many', '']) {
      expect(read(bad, '1', reset), `limit ${bad}`).toBe(null);
      expect(read('50', bad, reset), `remaining ${bad}`).toBe(null);
    }
    expect(read('50', '1', 'tomorrow')).toBe(null);
    expect(
      readRateLimitHeaders(
        new Headers({ 'anthropic-ratelimit-requests-remaining': '3', 'anthropic-ratelimit-requests-reset': reset }),
        now,
      ),
    ).toBe(null);
  });
});

const KINDS = [
  ['requests', null],
  ['tokens', 'tokens'],
  ['input-tokens', 'inputTokens'],
  ['output-tokens', 'outputTokens'],
] as const;

describe('readRateLimitHeaders: the token figures', () => {
  const trio = (kind: string, limit: string, remaining: string, reset: string) => ({
    [`anthropic-ratelimit-${kind}-limit`]: limit,
    [`anthropic-ratelimit-${kind}-remaining`]: remaining,
    [`anthropic-ratelimit-${kind}-reset`]: reset,
  });

  it('reads all four trios of a full Anthropic response', () => {
    const reset = (s: number) => new Date(now + s * 1000).toISOString().replace('.000Z', 'Z');
    const headers = new Headers({
      ...trio('requests', '1000', '999', reset(1)),
      ...trio('tokens', '2400000', '2398000', reset(2)),
      ...trio('input-tokens', '2000000', '1999000', reset(3)),
      ...trio('output-tokens', '400000', '399000', reset(4)),
    });
    expect(readRateLimitHeaders(headers, now)).toEqual({
      limit: 1000,
      remaining: 999,
      reset: now + 1000,
      observedAt: now,
      tokens: { limit: 2_400_000, remaining: 2_398_000, reset: now + 2000 },
      inputTokens: { limit: 2_000_000, remaining: 1_999_000, reset: now + 3000 },
      outputTokens: { limit: 400_000, remaining: 399_000, reset: now + 4000 },
    });
  });

  it('reads the token trios of a response that carries no request figures, and believes no request figure then', () => {
    const reset = new Date(now + 19_500).toISOString();
    const server = readRateLimitHeaders(new Headers(trio('input-tokens', '30000', '20000', reset)), now);
    expect(server).toEqual({
      limit: 0,
      remaining: 0,
      reset: now,
      observedAt: now,
      noRequests: true,
      inputTokens: { limit: 30_000, remaining: 20_000, reset: now + 19_500 },
    });
    // Admission holds a message the figure cannot fit, and lets through one it can; the empty request figure holds nothing.
    const limits = { ...DEFAULT_LIMITS, perMinute: 1000, perMonth: 100_000 };
    const state = { recentSends: [], monthCount: 0, server: server! };
    expect(decide(now + 1, limits, state, { inputTokens: 19_000, outputTokens: 0 })).toEqual({ ok: true });
    expect(decide(now + 1, limits, state, { inputTokens: 25_000, outputTokens: 0 })).toMatchObject({
      ok: false,
      reason: 'inputTokens',
    });
    expect(describeLearned(server!, now)).toBe(
      'Anthropic allows this key 30,000 input tokens a minute - seen just now',
    );
    expect(learnedLimitsInput(limits, server!)).toMatchObject({
      perMinute: 1000,
      perMonth: 100_000,
      inputPerMinute: 30_000,
    });
    // Nothing at all said: nothing read.
    expect(readRateLimitHeaders(new Headers(), now)).toBe(null);
  });

  it('parses any valid header set: each trio present is read exactly, each absent one is left out', () => {
    const figure = fc.record({
      limit: fc.integer({ min: 1, max: 1e9 }),
      remaining: fc.integer({ min: 0, max: 1e9 }),
      reset: fc.integer({ min: 0, max: MAX_RESET_AHEAD_MS / 1000 }),
    });
    fc.assert(
      fc.property(
        figure,
        fc.option(figure),
        fc.option(figure),
        fc.option(figure),
        (requests, tokens, input, output) => {
          const headers = new Headers();
          const expected: Record<string, unknown> = { observedAt: now };
          [requests, tokens, input, output].forEach((f, i) => {
            if (f === null) return;
            const [kind, field] = KINDS[i]!;
            const at = now + f.reset * 1000;
            for (const [name, value] of Object.entries(
              trio(kind, String(f.limit), String(f.remaining), new Date(at).toISOString()),
            ))
              headers.set(name, value);
            const read = { limit: f.limit, remaining: f.remaining, reset: at };
            if (field === null) Object.assign(expected, read);
            else expected[field] = read;
          });
          expect(readRateLimitHeaders(headers, now)).toEqual(expected);
        },
      ),
    );
  });

  it('refuses nonsense without throwing: a bad trio is left out, the rest is kept, and no figure is anything but believable', () => {
    const value = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '',
        '-1',
        '1e9',
        '0x10',
        'NaN',
        '12.5',
        ' 42 ',
        '99999999999999999999',
        'tomorrow',
        '2026-13-45T99:99:99Z',
      ),
      fc.integer().map(String),
      fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'Invalid' : d.toISOString())),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom(...KINDS.map(([k]) => k)), fc.constantFrom('limit', 'remaining', 'reset'), value),
        ),
        (entries) => {
          const headers = new Headers();
          for (const [kind, part, v] of entries) {
            try {
              headers.set(`anthropic-ratelimit-${kind}-${part}`, v);
            } catch {
              // A value Headers itself refuses (a control character) never reaches Pace.
              continue;
            }
          }
          const server = readRateLimitHeaders(headers, now);
          if (server === null) return;
          for (const f of [server, server.tokens, server.inputTokens, server.outputTokens]) {
            if (f === undefined) continue;
            expect(Number.isSafeInteger(f.limit) && f.limit >= 0).toBe(true);
            expect(Number.isSafeInteger(f.remaining) && f.remaining >= 0).toBe(true);
            expect(Number.isFinite(f.reset) && f.reset <= now + MAX_RESET_AHEAD_MS).toBe(true);
          }
          for (const f of [server.tokens, server.inputTokens, server.outputTokens])
            if (f) expect(f.limit).toBeGreaterThan(0);
        },
      ),
    );
  });

  it('leaves out a token trio that is incomplete or says a key may use no tokens at all', () => {
    const reset = new Date(now + 5_000).toISOString();
    const headers = new Headers({
      ...trio('requests', '50', '49', reset),
      ...trio('input-tokens', '0', '0', reset),
      'anthropic-ratelimit-output-tokens-limit': '8000',
      'anthropic-ratelimit-output-tokens-remaining': '8000',
    });
    expect(readRateLimitHeaders(headers, now)).toEqual({
      limit: 50,
      remaining: 49,
      reset: now + 5_000,
      observedAt: now,
    });
  });
});
