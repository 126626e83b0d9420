import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BADGE_COLORS, badgeFor, compactCount } from '@/lib/badge/badge-text';
import { quota } from '@/lib/limits/admission';
import { DEFAULT_LIMITS, MAX_PER_MONTH, PLANS } from '@/lib/limits/plans';
import type { Limits } from '@/lib/storage/rows';
import { project } from '@/lib/usage/summary';
import { monthWindow } from '@/lib/limits/month-window';

const NOW = Date.UTC(2026, 10, 27, 12);
const free: Limits = DEFAULT_LIMITS;
const q = (monthCount: number, recentSends: number[] = [], limits = free) =>
  quota(NOW, limits, { recentSends, monthCount });

describe('badge', () => {
  it('shows the month left in at most four characters', () => {
    expect(compactCount(4812)).toBe('4812');
    expect(compactCount(12_345)).toBe('12k');
    expect(compactCount(250_000)).toBe('250k');
    expect(compactCount(999_999)).toBe('999k');
    expect(compactCount(3_000_000)).toBe('3M');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_PER_MONTH }), (n) => {
        expect(compactCount(n).length).toBeLessThanOrEqual(4);
      }),
    );
  });

  it('is green above 20% left, amber at 20% or less, red at none', () => {
    expect(badgeFor(NOW, free, q(188), { waiting: 0, minuteWaitUntil: null })).toMatchObject({
      text: '4812',
      color: BADGE_COLORS.ok,
    });
    expect(badgeFor(NOW, free, q(3999), { waiting: 0, minuteWaitUntil: null }).color).toBe(BADGE_COLORS.ok);
    expect(badgeFor(NOW, free, q(4000), { waiting: 0, minuteWaitUntil: null })).toMatchObject({
      text: '1000',
      color: BADGE_COLORS.low,
    });
    expect(badgeFor(NOW, free, q(5000), { waiting: 0, minuteWaitUntil: null })).toMatchObject({
      text: '0',
      color: BADGE_COLORS.none,
    });
  });

  it('counts down the minute, not a billion-request month, under a tier preset with no monthly request cap', () => {
    const start: Limits = {
      ...DEFAULT_LIMITS,
      plan: 'start',
      perMinute: PLANS.start.perMinute,
      perMonth: PLANS.start.perMonth,
    };
    const view = badgeFor(NOW, start, q(12, Array<number>(900).fill(NOW - 1_000), start), {
      waiting: 0,
      minuteWaitUntil: null,
    });
    expect(view).toMatchObject({ text: '100', color: BADGE_COLORS.low });
    expect(view.title).toBe('Pace: 100 of 1,000 requests left this minute (no monthly request cap)');
    const p = project(3_000, start.perMonth, NOW, monthWindow(NOW, 'utc'), 'utc');
    expect(p.sentence).toMatch(
      /^At this pace you will send about [\d,]+ requests by 1 Dec; this plan has no monthly request cap\.$/,
    );
    expect(p.reachesLimitAt).toBeNull();
  });

  it('counts down the seconds while jobs wait for the minute window', () => {
    const view = badgeFor(NOW, free, q(10, Array<number>(10).fill(NOW - 37_000)), {
      waiting: 2,
      minuteWaitUntil: NOW + 22_400,
    });
    expect(view.text).toBe('23s');
    expect(view.title).toBe(
      'Pace: 4,990 of 5,000 requests left this month (resets 1 Dec, 00:00 UTC)\n0 of 10 left this minute\n2 waiting to be sent',
    );
  });

  it('shows the month, not a countdown, when the month is used up', () => {
    expect(badgeFor(NOW, free, q(5000), { waiting: 1, minuteWaitUntil: NOW + 5000 }).text).toBe('0');
  });
});
