import { describe, expect, it } from 'vitest';
import { describeLearned, formatAgo, learnedLimitsInput } from '@/lib/limits/learned-limits';
import { checkLimits, DEFAULT_LIMITS } from '@/lib/limits/plans';
import type { ServerLimits } from '@/lib/storage/db';

const T = Date.UTC(2026, 10, 30, 12);
const figure = (limit: number) => ({ limit, remaining: limit, reset: T + 1_000 });
const full: ServerLimits = {
  limit: 1_000,
  remaining: 999,
  reset: T + 60,
  observedAt: T,
  inputTokens: figure(2_000_000),
  outputTokens: figure(400_000),
  tokens: figure(2_400_000),
};

describe('the learned limits', () => {
  it('says what Anthropic allows the key, and how long ago it was seen', () => {
    expect(describeLearned(full, T + 125_000)).toBe(
      'Anthropic allows this key 1,000 requests, 2,000,000 input tokens and 400,000 output tokens a minute - seen 2 min ago',
    );
    expect(describeLearned({ limit: 50, remaining: 1, reset: T, observedAt: T }, T + 1_000)).toBe(
      'Anthropic allows this key 50 requests a minute - seen just now',
    );
    expect(
      describeLearned(
        { limit: 50, remaining: 1, reset: T, observedAt: T, tokens: figure(90_000), by: 'llm.example.com' },
        T + 40_000,
      ),
    ).toBe('llm.example.com allows this key 50 requests and 90,000 tokens a minute - seen 40 s ago');
    expect([formatAgo(3 * 3600_000 + 5), formatAgo(86_400_000), formatAgo(3 * 86_400_000)]).toEqual([
      '3 h ago',
      '1 day ago',
      '3 days ago',
    ]);
  });

  it("makes the key's figures Pace's own, keeping the month and a token limit the key did not report", () => {
    const current = {
      ...DEFAULT_LIMITS,
      perMonth: 5_000,
      smooth: true,
      monthStart: 'local' as const,
      outputPerMinute: 7,
    };
    expect(checkLimits(learnedLimitsInput(current, full))).toEqual({
      ok: true,
      value: {
        plan: 'custom',
        perMinute: 1_000,
        perMonth: 5_000,
        smooth: true,
        monthStart: 'local',
        inputPerMinute: 2_000_000,
        outputPerMinute: 400_000,
      },
    });
    const requestsOnly = checkLimits(
      learnedLimitsInput(current, { limit: 9_000, remaining: 1, reset: T, observedAt: T }),
    );
    expect(requestsOnly.ok && requestsOnly.value).toMatchObject({
      perMinute: 9_000,
      perMonth: 9_000,
      outputPerMinute: 7,
    });
  });
});
