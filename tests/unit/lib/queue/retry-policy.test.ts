import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, backoffDelay, MAX_ATTEMPTS, nextStep, type Failure } from '@/lib/queue/retry-policy';

const NOW = 1_000_000;
const transient = fc.constantFrom<Failure['code']>('overloaded', 'server_error', 'timeout', 'unreachable', 'stalled');

describe('retry policy', () => {
  it('backs off with full jitter, doubling from 1 s, never above the cap', () => {
    expect(backoffDelay(1, () => 0.999)).toBe(999);
    expect(backoffDelay(2, () => 0.999)).toBe(1998);
    expect(backoffDelay(3, () => 0.5)).toBe(2000);
    expect(backoffDelay(30, () => 0.999)).toBe(BACKOFF_CAP_MS - 60);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 0.9999999, noNaN: true }),
        (attempt, r) => {
          const d = backoffDelay(attempt, () => r);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(BACKOFF_CAP_MS);
        },
      ),
    );
  });

  it('never retries earlier than retry-after, never above the cap without one, and never more than MAX_ATTEMPTS attempts', () => {
    fc.assert(
      fc.property(
        transient,
        fc.option(fc.integer({ min: 0, max: 600_000 }), { nil: null }),
        fc.double({ min: 0, max: 0.9999999, noNaN: true }),
        (code, retryAfterMs, r) => {
          let attempts = 1;
          let step = nextStep(attempts, { code, retryAfterMs }, NOW, () => r);
          while (step.action === 'retry') {
            expect(step.at).toBeGreaterThanOrEqual(NOW + (retryAfterMs ?? 0));
            if (retryAfterMs === null) expect(step.at - NOW).toBeLessThan(BACKOFF_CAP_MS);
            attempts += 1;
            step = nextStep(attempts, { code, retryAfterMs }, NOW, () => r);
          }
          expect(step.action).toBe('fail');
          expect(attempts).toBe(MAX_ATTEMPTS);
        },
      ),
    );
  });

  it('a 429 pauses the whole queue for exactly retry-after, without using up attempts', () => {
    expect(nextStep(1, { code: 'rate_limited', retryAfterMs: 20_000 }, NOW)).toEqual({
      action: 'retry',
      at: NOW + 20_000,
      pauseAll: true,
    });
    expect(nextStep(MAX_ATTEMPTS + 3, { code: 'rate_limited', retryAfterMs: 1000 }, NOW)).toMatchObject({
      action: 'retry',
      pauseAll: true,
    });
  });

  it('a spend cap pauses until it resets; other errors fail at once', () => {
    expect(nextStep(1, { code: 'spend_limit', retryAfterMs: null, resetAt: NOW + 5 }, NOW)).toEqual({
      action: 'pause',
      until: NOW + 5,
    });
    for (const code of [
      'wrong_key',
      'permission_denied',
      'not_found',
      'bad_request',
      'too_large',
      'billing',
    ] as const) {
      expect(nextStep(1, { code, retryAfterMs: null }, NOW)).toEqual({ action: 'fail' });
    }
  });
});
