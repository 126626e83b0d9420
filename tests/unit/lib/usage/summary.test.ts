import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, PLANS } from '@/lib/limits/plans';
import type { Limits } from '@/lib/storage/rows';
import type { UsageDay, UsageMonth, UsageRow } from '@/lib/storage/db';
import { formatMs, formatUsd, summarize } from '@/lib/usage/summary';
import { addMonthRow, emptyMonth, emptyTotals } from '@/lib/usage/totals';
import { row } from './fixtures';

const originalTz = process.env.TZ;
beforeEach(() => {
  process.env.TZ = 'UTC';
});
afterEach(() => {
  process.env.TZ = originalTz;
});

const FREE: Limits = DEFAULT_LIMITS;
const PAID: Limits = { ...DEFAULT_LIMITS, plan: 'paid', ...PLANS.paid };
/** 16 Nov 2026, 00:00 UTC: 15 of November's 30 days have passed. */
const MID_NOVEMBER = Date.UTC(2026, 10, 16);

const day = (key: string, over: Partial<UsageDay> = {}): UsageDay => ({ day: key, ...emptyTotals(), ...over });
const month = (over: Partial<UsageMonth> = {}): UsageMonth => ({ ...emptyMonth('utc:2026-11'), ...over });

describe('summarize: the month-end projection', () => {
  it('says on which day the limit is reached when the pace passes it', () => {
    const s = summarize({ days: [], month: month({ requests: 3700 }), limits: FREE, now: MID_NOVEMBER });
    expect(s.projection.requests).toBe(7400);
    // 1,300 more at 3,700 per 15 days: 5.27 days after 16 Nov 00:00.
    expect(s.projection.reachesLimitAt).toBe(MID_NOVEMBER + (1300 / 3700) * 15 * 86_400_000);
    expect(s.projection.sentence).toBe('At this pace you reach 5,000 requests on 21 Nov.');
    expect(s.suggestion).toEqual({
      reason: 'projection',
      plan: 'paid',
      text: "Projected 7,400 requests this month, over Free's 5,000. Paid allows 250,000 a month and 60 a minute.",
    });
  });

  it('says how much of the limit the pace uses when it stays under', () => {
    const s = summarize({ days: [], month: month({ requests: 1593 }), limits: FREE, now: MID_NOVEMBER });
    expect(s.projection.requests).toBe(3186);
    expect(s.projection.reachesLimitAt).toBeNull();
    expect(s.projection.sentence).toBe('At this pace you will use about 3,200 of 5,000 requests by 1 Dec.');
    expect(s.suggestion).toBeNull();
  });

  it('takes the rate over at least a day, so the first minutes of a month do not project thousands', () => {
    const s = summarize({ days: [], month: month({ requests: 10 }), limits: FREE, now: Date.UTC(2026, 10, 1, 1) });
    // 10 a day for the remaining 29 days and 23 hours.
    expect(s.projection.requests).toBe(Math.round(10 + 10 * (29 + 23 / 24)));
    expect(s.suggestion).toBeNull();
  });

  it('says so when the limit is used up, and when nothing was sent yet', () => {
    expect(
      summarize({ days: [], month: month({ requests: 5000 }), limits: FREE, now: MID_NOVEMBER }).projection.sentence,
    ).toBe('You have used all 5,000 requests of this month; they reset on 1 Dec.');
    expect(summarize({ days: [], month: undefined, limits: FREE, now: MID_NOVEMBER }).projection).toEqual({
      requests: 0,
      reachesLimitAt: null,
      sentence: 'Nothing sent yet this month; 5,000 requests are left until 1 Dec.',
    });
  });

  it('follows the local month when the limits count local months', () => {
    process.env.TZ = 'Asia/Tokyo';
    const local: Limits = { ...FREE, monthStart: 'local' };
    // 16 Nov 00:00 in Tokyo; the month runs to 1 Dec 00:00 Tokyo time.
    const now = Date.UTC(2026, 10, 15, 15);
    const s = summarize({
      days: [],
      month: { ...month({ requests: 3700 }), month: 'local:2026-11' },
      limits: local,
      now,
    });
    expect(s.month.key).toBe('local:2026-11');
    expect(s.projection.requests).toBe(7400);
    expect(s.projection.sentence).toBe('At this pace you reach 5,000 requests on 21 Nov.');
  });

  it('finds no plan when the largest one is too small', () => {
    const s = summarize({ days: [], month: month({ requests: 200_000 }), limits: PAID, now: MID_NOVEMBER });
    expect(s.suggestion?.plan).toBeNull();
    expect(s.suggestion?.text).toBe(
      "Projected 400,000 requests this month, over Paid's 250,000. No plan here allows more: set Custom limits that match your Anthropic account.",
    );
  });

  it('names a custom limit as such', () => {
    const custom: Limits = { ...FREE, plan: 'custom', perMinute: 5, perMonth: 1000 };
    const s = summarize({ days: [], month: month({ requests: 600 }), limits: custom, now: MID_NOVEMBER });
    expect(s.suggestion?.plan).toBe('free');
    expect(s.suggestion?.text).toBe(
      'Projected 1,200 requests this month, over your limit of 1,000. Free allows 5,000 a month and 10 a minute.',
    );
  });
});

describe('summarize: frequent 429s', () => {
  const lastWeek = (rateLimited: number[], requests: number) =>
    rateLimited.map((n, i) => day(`2026-11-${String(10 + i).padStart(2, '0')}`, { rateLimited: n, requests }));

  it('suggests a plan with more per minute at 3 a day on average over the last 7 days', () => {
    // 10..16 Nov is the last 7 days up to today (16 Nov).
    const s = summarize({
      days: lastWeek([3, 3, 3, 3, 3, 3, 3], 1000),
      month: month({ requests: 100 }),
      limits: FREE,
      now: MID_NOVEMBER,
    });
    expect(s.suggestion).toEqual({
      reason: 'rate_limited',
      plan: 'paid',
      text: 'Anthropic refused 21 requests as rate limited in the last 7 days (0.3% of those sent). Paid allows 250,000 a month and 60 a minute.',
    });
  });

  it('suggests one at 5% of requests', () => {
    const s = summarize({
      days: lastWeek([0, 0, 0, 0, 0, 1, 3], 10),
      month: month({ requests: 100 }),
      limits: FREE,
      now: MID_NOVEMBER,
    });
    expect(s.suggestion?.reason).toBe('rate_limited');
    expect(s.suggestion?.text).toContain('refused 4 requests');
    expect(s.suggestion?.text).toContain('(5.7% of those sent)');
  });

  it('stays quiet below both, and for a 429 or two', () => {
    expect(
      summarize({
        days: lastWeek([3, 3, 3, 3, 3, 3, 2], 1000),
        month: month({ requests: 100 }),
        limits: FREE,
        now: MID_NOVEMBER,
      }).suggestion,
    ).toBeNull();
    expect(
      summarize({
        days: lastWeek([0, 0, 0, 0, 0, 0, 2], 5),
        month: month({ requests: 100 }),
        limits: FREE,
        now: MID_NOVEMBER,
      }).suggestion,
    ).toBeNull();
    // Older than the week: not counted.
    expect(
      summarize({
        days: [day('2026-11-09', { rateLimited: 50, requests: 60 })],
        month: month({ requests: 100 }),
        limits: FREE,
        now: MID_NOVEMBER,
      }).suggestion,
    ).toBeNull();
  });

  it('says both when the projection and the refusals both call for it', () => {
    const s = summarize({
      days: lastWeek([5, 5, 5, 5, 5, 5, 5], 100),
      month: month({ requests: 3700 }),
      limits: FREE,
      now: MID_NOVEMBER,
    });
    expect(s.suggestion?.reason).toBe('both');
    expect(s.suggestion?.plan).toBe('paid');
  });
});

describe('summarize: the series and the figures', () => {
  it('gives the last 30 local days, oldest first, missing days as zeros, against the daily pace', () => {
    const days = [
      day('2026-10-17', { requests: 99 }), // 31 days ago: outside
      day('2026-10-18', { requests: 5, inputTokens: 100, outputTokens: 20, errors: 1, rateLimited: 1 }),
      day('2026-11-16', { requests: 7, inputTokens: 1000, outputTokens: 300 }),
    ];
    const s = summarize({ days, month: month({ requests: 7 }), limits: FREE, now: MID_NOVEMBER + 5 * 3_600_000 });
    expect(s.days).toHaveLength(30);
    expect(s.days[0]).toMatchObject({
      day: '2026-10-18',
      start: Date.UTC(2026, 9, 18),
      requests: 5,
      tokens: 120,
      errors: 1,
      rateLimited: 1,
    });
    expect(s.days[29]).toMatchObject({
      day: '2026-11-16',
      requests: 7,
      tokens: 1300,
      inputTokens: 1000,
      outputTokens: 300,
    });
    expect(s.days.slice(1, 29).every((d) => d.requests === 0 && d.tokens === 0)).toBe(true);
    expect(s.dailyPace).toBeCloseTo(5000 / 30, 9);
    expect(s.days.every((d) => d.pace === s.dailyPace)).toBe(true);
    expect(new Set(s.days.map((d) => d.day)).size).toBe(30);
  });

  it('keeps local days across a daylight-saving change', () => {
    process.env.TZ = 'America/New_York';
    const s = summarize({ days: [], month: undefined, limits: FREE, now: Date.UTC(2026, 10, 16, 12) });
    expect(s.days[0]!.day).toBe('2026-10-18');
    expect(s.days.map((d) => d.day)).toContain('2026-11-01');
    expect(s.days.map((d) => d.day)).toContain('2026-11-02');
    expect(s.days[29]!.day).toBe('2026-11-16');
    expect(new Set(s.days.map((d) => d.day)).size).toBe(30);
  });

  it("uses December's 31 days for the daily pace in December", () => {
    const s = summarize({ days: [], month: undefined, limits: FREE, now: Date.UTC(2026, 11, 10) });
    expect(s.dailyPace).toBeCloseTo(5000 / 31, 9);
  });

  it('reports spend, latency, the costliest conversations and the cache', () => {
    let m = emptyMonth('utc:2026-11');
    const conv = (id: string, cost: number, totalMs: number, ttftMs: number | null, more: Partial<UsageRow> = {}) => {
      m = addMonthRow(m, row({ conversationId: id, costUsd: cost, totalMs, ttftMs, ...more }));
    };
    conv('a', 0.5, 1000, 300, { inputCostUsd: 0.25, promptCacheSavedUsd: 0.5 });
    conv('b', 2, 1000, 300);
    conv('c', 0.25, 1000, 300);
    conv('d', 1, 2000, 500);
    conv('e', 0.75, 1000, 300);
    conv('f', 0.125, 30_000, null);
    conv('a', 1, 1000, 300, { inputCostUsd: 0.5, promptCacheSavedUsd: -0.125 });
    m = addMonthRow(m, row({ model: 'claude-mythos-5', costUsd: null, totalMs: 1000, ttftMs: 300 }));
    m = addMonthRow(m, row({ fromCache: true, outcome: 'cache', costUsd: 0, savedUsd: 0.5 }));
    m = addMonthRow(m, row({ fromCache: true, outcome: 'cache', costUsd: 0, savedUsd: 0.25 }));

    const s = summarize({
      days: [],
      month: m,
      limits: FREE,
      now: MID_NOVEMBER,
      titles: { a: 'Alpha', b: 'Beta', d: 'Delta' },
    });
    expect(s.month).toMatchObject({ requests: 8, costUsd: 5.625, unknownCost: 1, perMonth: 5000 });
    expect(s.topConversations).toEqual([
      { id: 'b', title: 'Beta', costUsd: 2, inputCostUsd: null },
      { id: 'a', title: 'Alpha', costUsd: 1.5, inputCostUsd: 0.75 },
      { id: 'd', title: 'Delta', costUsd: 1, inputCostUsd: null },
      { id: 'e', title: null, costUsd: 0.75, inputCostUsd: null },
      { id: 'c', title: null, costUsd: 0.25, inputCostUsd: null },
    ]);
    // 8 totals: six of 1 s (bucket <= 1.1 s), one of 2 s, one of 30 s.
    expect(s.latency).toEqual({ median: 1100, p95: 33_000, ttftMedian: 340, ttftP95: 560 });
    // Pace's own cache, and Anthropic's prompt cache beside it (net of what its writes cost).
    expect(s.cache).toEqual({ hits: 2, savedUsd: 0.75, promptCacheSavedUsd: 0.375 });
    expect(s.empty).toBe(false);
  });

  it('is empty with no usage at all', () => {
    const s = summarize({ days: [], month: undefined, limits: FREE, now: MID_NOVEMBER });
    expect(s.empty).toBe(true);
    expect(s.latency).toEqual({ median: null, p95: null, ttftMedian: null, ttftP95: null });
    expect(s.topConversations).toEqual([]);
    expect(s.days.every((d) => d.requests === 0)).toBe(true);
    expect(
      summarize({ days: [day('2026-11-16', { cacheHits: 1 })], month: undefined, limits: FREE, now: MID_NOVEMBER })
        .empty,
    ).toBe(false);
  });
});

describe('formatting', () => {
  it('money', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(0.0042)).toBe('$0.0042');
    expect(formatUsd(12.4)).toBe('$12.40');
    expect(formatUsd(1234.567)).toBe('$1,234.57');
  });

  it('durations', () => {
    expect(formatMs(null)).toBe('-');
    expect(formatMs(340)).toBe('340 ms');
    expect(formatMs(1900)).toBe('1.9 s');
    expect(formatMs(600_000)).toBe('10 min');
  });
});
