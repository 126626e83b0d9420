import { describe, expect, it } from 'vitest';
import { checkLimits, MAX_TOKENS_PER_MINUTE, PLANS, planLabel, type LimitsInput } from '@/lib/limits/plans';

const custom = (tokens: Partial<LimitsInput>): LimitsInput => ({
  plan: 'custom',
  perMinute: '50',
  perMonth: '1000',
  smooth: false,
  monthStart: 'utc',
  ...tokens,
});

describe('token limits in checkLimits', () => {
  it('keeps optional input and output limits per minute, and leaves out the ones left empty', () => {
    expect(checkLimits(custom({ inputPerMinute: '20000', outputPerMinute: 8000 }))).toEqual({
      ok: true,
      value: {
        plan: 'custom',
        perMinute: 50,
        perMonth: 1000,
        smooth: false,
        monthStart: 'utc',
        inputPerMinute: 20_000,
        outputPerMinute: 8_000,
      },
    });
    for (const none of ['', '  ', null, undefined]) {
      const r = checkLimits(custom({ inputPerMinute: none, outputPerMinute: none }));
      expect(r.ok && r.value).toEqual({
        plan: 'custom',
        perMinute: 50,
        perMonth: 1000,
        smooth: false,
        monthStart: 'utc',
      });
    }
  });

  it.each([
    ['-3', 'Input tokens per minute must be at least 1 (got -3).'],
    ['0', 'Input tokens per minute must be at least 1 (got 0).'],
    ['abc', 'Input tokens per minute must be a whole number, not "abc".'],
    ['2.5', 'Input tokens per minute must be a whole number, not "2.5".'],
    ['99999999999999999999', 'Input tokens per minute can be at most 1,000,000,000.'],
    [String(MAX_TOKENS_PER_MINUTE + 1), 'Input tokens per minute can be at most 1,000,000,000.'],
  ])('refuses input tokens per minute %j: %s', (raw, message) => {
    expect(checkLimits(custom({ inputPerMinute: raw }))).toEqual({ ok: false, errors: { inputPerMinute: message } });
    expect(checkLimits(custom({ outputPerMinute: raw }))).toEqual({
      ok: false,
      errors: { outputPerMinute: message.replace('Input', 'Output') },
    });
  });
});

describe('plan presets', () => {
  it("keeps Free and Paid, and adds Anthropic's Start, Build and Scale tiers with their token figures", () => {
    expect(checkLimits({ ...custom({}), plan: 'paid' })).toEqual({
      ok: true,
      value: { plan: 'paid', perMinute: 60, perMonth: 250_000, smooth: false, monthStart: 'utc' },
    });
    const start = checkLimits({ ...custom({ inputPerMinute: '5' }), plan: 'start' });
    expect(start.ok && start.value).toMatchObject({
      plan: 'start',
      perMinute: 1_000,
      inputPerMinute: 2_000_000,
      outputPerMinute: 400_000,
    });
    expect([PLANS.start.spendCapUsd, PLANS.build.spendCapUsd, PLANS.scale.spendCapUsd]).toEqual([500, 1_000, 200_000]);
    expect(planLabel('free')).toBe('Free (10/min, 5,000/month)');
    expect(planLabel('build')).toBe(
      'Build (5,000/min, 5,000,000 input and 1,000,000 output tokens/min; Anthropic caps spend at $1,000/month)',
    );
  });

  it('names every plan when the plan is unknown', () => {
    expect(checkLimits({ ...custom({}), plan: 'enterprise' })).toEqual({
      ok: false,
      errors: { plan: 'Pick Free, Paid, Start, Build, Scale or Custom.' },
    });
  });
});
