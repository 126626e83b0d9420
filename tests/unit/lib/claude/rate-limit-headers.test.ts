import { describe, expect, it } from 'vitest';
import { MAX_RESET_AHEAD_MS, readRateLimitHeaders } from '@/lib/claude/rate-limit-headers';

const now = Date.UTC(2026, 10, 3, 12);
const read = (limit: string, remaining: string, reset: string) =>
  readRateLimitHeaders(
    new Headers({ 'anthropic-ratelimit-requests-limit': limit, 'anthropic-ratelimit-requests-remaining': remaining, 'anthropic-ratelimit-requests-reset': reset }),
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
    expect(readRateLimitHeaders(new Headers({ 'anthropic-ratelimit-requests-remaining': '3', 'anthropic-ratelimit-requests-reset': reset }), now)).toBe(null);
  });
});
