import { describe, expect, it } from 'vitest';
import { badgeFor, BADGE_COLORS } from '@/lib/badge/badge-text';
import { quota } from '@/lib/limits/admission';
import {
  checkBudget,
  compactUsd,
  decideBudget,
  NO_BUDGET,
  NO_SPEND,
  periodSpends,
  settledExtraUsd,
  worstCaseUsd,
  type BudgetInput,
  type RequestCost,
} from '@/lib/limits/budget';
import type { Budget } from '@/lib/storage/rows';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { priceFor } from '@/lib/usage/prices';

const NOW = Date.UTC(2026, 10, 20, 12);
const MONTH_END = Date.UTC(2026, 11, 1);
const budget = (patch: Partial<Budget> = {}): Budget => ({ ...NO_BUDGET, monthlyUsd: 5, ...patch });
const form = (patch: Partial<BudgetInput> = {}): BudgetInput => ({
  monthlyUsd: '20',
  dailyUsd: '',
  whenReached: 'pause',
  unknownPriceUsd: '',
  badge: 'requests',
  ...patch,
});
/** Sonnet 5.5 ($2 / $10 per million): 1,000 tokens in and 4,000 out cost at most $0.042. */
const SONNET: RequestCost = { model: 'claude-sonnet-5-5', inputTokens: 1_000, maxTokens: 4_000 };
const zero = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };

describe('checkBudget', () => {
  it('takes amounts as typed, empty as none', () => {
    expect(checkBudget(form({ monthlyUsd: '$7.50', dailyUsd: ' 1.5 ', unknownPriceUsd: '' }))).toEqual({
      ok: true,
      value: { monthlyUsd: 7.5, dailyUsd: 1.5, whenReached: 'pause', unknownPriceUsd: null, badge: 'requests' },
    });
    expect(checkBudget(form({ monthlyUsd: '', whenReached: 'warn', unknownPriceUsd: '3', badge: 'dollars' }))).toEqual({
      ok: true,
      value: { monthlyUsd: null, dailyUsd: null, whenReached: 'warn', unknownPriceUsd: 3, badge: 'dollars' },
    });
  });

  it.each([
    ['-3', 'The monthly budget cannot be negative (got -3). Leave it empty for none.'],
    [-3, 'The monthly budget cannot be negative (got -3). Leave it empty for none.'],
    ['abc', 'The monthly budget must be an amount in US dollars, such as 20 or 7.50 (got "abc").'],
    ['1e309', 'The monthly budget must be an amount in US dollars, such as 20 or 7.50 (got "1e309").'],
    [Infinity, 'The monthly budget must be an amount in US dollars, such as 20 or 7.50 (got "Infinity").'],
    ['2000000', 'The monthly budget can be at most $1,000,000.00 (got 2000000).'],
    ['0', 'The monthly budget must be more than $0 (got 0). Leave it empty for none.'],
  ])('refuses a monthly budget of %s with a clear message', (raw, message) => {
    expect(checkBudget(form({ monthlyUsd: raw }))).toEqual({ ok: false, errors: { monthlyUsd: message } });
  });

  it('takes commas only as thousands groups', () => {
    expect(checkBudget(form({ monthlyUsd: '1,234,567.89', dailyUsd: '1,000' }))).toEqual({
      ok: false,
      errors: { monthlyUsd: 'The monthly budget can be at most $1,000,000.00 (got 1,234,567.89).' },
    });
    expect(checkBudget(form({ monthlyUsd: '$1,000.50', dailyUsd: '1,000' }))).toEqual({
      ok: true,
      value: { monthlyUsd: 1000.5, dailyUsd: 1000, whenReached: 'pause', unknownPriceUsd: null, badge: 'requests' },
    });
  });

  it.each(['7,50', '1,5', ' 1,5 ', '$20,00', '1,00,000', '1,0000', ',50', '1,000,5'])(
    'refuses %s: a comma for cents is not 100 times the amount',
    (raw) => {
      expect(checkBudget(form({ monthlyUsd: raw }))).toEqual({
        ok: false,
        errors: {
          monthlyUsd: `The monthly budget: use a dot for cents, such as 7.50; a comma may only group thousands, as in 1,000 (got "${raw.trim()}").`,
        },
      });
    },
  );

  it('names each bad field', () => {
    const r = checkBudget(form({ dailyUsd: '30', whenReached: 'stop', unknownPriceUsd: '5000', badge: 'euros' }));
    expect(r).toEqual({
      ok: false,
      errors: {
        dailyUsd: 'A daily budget ($30.00) above the monthly one ($20.00) never applies: lower it or leave it empty.',
        whenReached: 'Pick what happens at the budget: pause sending, or warn only.',
        unknownPriceUsd: 'The price for unknown models can be at most $1,000.00 (got 5000).',
        badge: 'Pick what the badge counts: requests, dollars or percent of the budget.',
      },
    });
  });
});

describe('worstCaseUsd', () => {
  it('prices the estimated input and the whole max_tokens', () => {
    expect(worstCaseUsd(priceFor('claude-sonnet-5-5')!, SONNET)).toBeCloseTo(0.042, 12);
  });

  it('prices the input as cache writes when the prompt cache is on (the higher price)', () => {
    expect(worstCaseUsd(priceFor('claude-sonnet-5-5')!, { ...SONNET, promptCache: '5m' })).toBeCloseTo(
      (1_000 * 2.5 + 4_000 * 10) / 1e6,
      12,
    );
    expect(worstCaseUsd(priceFor('claude-sonnet-5-5')!, { ...SONNET, promptCache: '1h' })).toBeCloseTo(
      (1_000 * 4 + 4_000 * 10) / 1e6,
      12,
    );
    // Fable 5.1's cache prices are not published: its worst case is unknown.
    expect(worstCaseUsd(priceFor('claude-fable-5-1')!, { ...SONNET, promptCache: '5m' })).toBeNull();
  });

  it("uses Haiku 5.5's long-prompt prices above 100,000 prompt tokens", () => {
    const haiku = priceFor('claude-haiku-5-5')!;
    expect(worstCaseUsd(haiku, { model: 'claude-haiku-5-5', inputTokens: 100_000, maxTokens: 1_000 })).toBeCloseTo(
      (100_000 * 0.1 + 1_000 * 0.5) / 1e6,
      12,
    );
    expect(worstCaseUsd(haiku, { model: 'claude-haiku-5-5', inputTokens: 100_001, maxTokens: 1_000 })).toBeCloseTo(
      (100_001 * 0.5 + 1_000 * 2.5) / 1e6,
      12,
    );
  });
});

describe('decideBudget', () => {
  const ledger = (month: number, day = 0) => ({ month, day });

  it('lets everything through without a budget, reserving nothing', () => {
    expect(decideBudget(NOW, 'utc', null, NO_SPEND, ledger(100), SONNET)).toEqual({ ok: true, reserve: null });
    expect(decideBudget(NOW, 'utc', NO_BUDGET, NO_SPEND, ledger(100), SONNET)).toEqual({ ok: true, reserve: null });
  });

  it('reserves the worst case of a request that fits', () => {
    const d = decideBudget(NOW, 'utc', budget(), NO_SPEND, ledger(1), SONNET);
    expect(d).toEqual({ ok: true, reserve: { usd: expect.closeTo(0.042, 12) as number, at: NOW } });
  });

  it('makes a request wait when it fits only once the requests on their way have settled', () => {
    const spend = { reserved: { 1: { usd: 0.04, at: NOW - 1 } }, extra: {} };
    expect(decideBudget(NOW, 'utc', budget({ monthlyUsd: 0.1 }), spend, ledger(0.05), SONNET)).toEqual({
      ok: false,
      reason: 'budget',
      retryAt: MONTH_END,
    });
  });

  it('refuses a request that cannot fit before the month turns, with the figures', () => {
    const d = decideBudget(NOW, 'utc', budget({ monthlyUsd: 5 }), NO_SPEND, ledger(4.99), SONNET);
    expect(d).toEqual({
      ok: false,
      reason: 'refused',
      error: {
        code: 'budget',
        message:
          'Not sent: this request could cost up to $0.04; $0.0100 of your $5.00 monthly budget is left; it resets 1 Dec, 00:00 UTC.',
        action: 'open_options',
      },
    });
    // A worst case above the whole budget can never fit.
    expect(decideBudget(NOW, 'utc', budget({ monthlyUsd: 0.01 }), NO_SPEND, ledger(0), SONNET)).toMatchObject({
      ok: false,
      reason: 'refused',
    });
  });

  it('holds the daily budget too, until local midnight', () => {
    const d = decideBudget(NOW, 'utc', budget({ monthlyUsd: 50, dailyUsd: 1 }), NO_SPEND, ledger(3, 0.98), SONNET);
    expect(d.ok).toBe(false);
    expect(!d.ok && d.reason === 'refused' && d.error.message).toMatch(
      /of your \$1\.00 daily budget is left; it resets /,
    );
  });

  it('sends past the budget in warn-only mode, still reserving', () => {
    expect(decideBudget(NOW, 'utc', budget({ whenReached: 'warn' }), NO_SPEND, ledger(9), SONNET)).toMatchObject({
      ok: true,
      reserve: { at: NOW },
    });
  });

  it('refuses a model with no known price, naming it and the way to allow it', () => {
    const d = decideBudget(NOW, 'utc', budget(), NO_SPEND, ledger(0), { ...SONNET, model: 'claude-nova-9' });
    expect(d).toEqual({
      ok: false,
      reason: 'refused',
      error: {
        code: 'budget',
        message:
          'Not sent: claude-nova-9 has no known price, and a spend budget is set, so Pace cannot tell what this request would cost. Pick a priced model, or set "Count unknown prices as" (US dollars per million tokens) under Spend budget in the options.',
        action: 'open_options',
      },
    });
    // With the figure, it is priced at it: (1,000 + 4,000) tokens at $3 a million.
    expect(
      decideBudget(NOW, 'utc', budget({ unknownPriceUsd: 3 }), NO_SPEND, ledger(0), {
        ...SONNET,
        model: 'claude-nova-9',
      }),
    ).toEqual({
      ok: true,
      reserve: { usd: expect.closeTo(0.015, 12) as number, at: NOW, unknownPrice: 3 },
    });
  });
});

describe('periodSpends', () => {
  it('counts only the reservations and extras of the periods now falls in', () => {
    const month = monthWindow(NOW, 'utc');
    const spend = {
      reserved: { 1: { usd: 0.5, at: NOW - 1000 }, 2: { usd: 7, at: month.start - 1 } },
      extra: { [month.key]: 0.25, 'utc:2026-10': 9 },
    };
    expect(periodSpends(NOW, 'utc', budget(), spend, { month: 1, day: 0 })).toEqual([
      { period: 'month', limit: 5, settled: 1.25, reserved: 0.5, end: MONTH_END, key: month.key },
    ]);
  });
});

describe('settledExtraUsd', () => {
  const reservation = { usd: 0.042, at: NOW };
  const ended = { model: 'claude-sonnet-5-5', interrupted: false, listUsd: 0.01, gatewayUsd: null, usage: zero };
  it('adds nothing when the ledger priced the answer', () => {
    expect(settledExtraUsd(reservation, ended)).toBe(0);
  });
  it('counts the worst case of a send cut off by a stopped worker', () => {
    expect(settledExtraUsd(reservation, { ...ended, interrupted: true, listUsd: 0 })).toBe(0.042);
  });
  it("prices an unknown model's answer at the budget's figure", () => {
    const usage = { ...zero, inputTokens: 1_000, outputTokens: 500 };
    expect(
      settledExtraUsd({ ...reservation, unknownPrice: 2 }, { ...ended, model: 'claude-nova-9', listUsd: null, usage }),
    ).toBeCloseTo(0.003, 12);
  });
  it("never counts less than list price when a gateway's figure is lower: the ledger holds the gateway's, the budget adds the rest", () => {
    expect(settledExtraUsd(reservation, { ...ended, gatewayUsd: 0 })).toBeCloseTo(0.01, 12);
    expect(settledExtraUsd(reservation, { ...ended, gatewayUsd: 0.004 })).toBeCloseTo(0.006, 12);
    // A gateway dearer than list prices: its figure, already in the ledger, is what counts.
    expect(settledExtraUsd(reservation, { ...ended, gatewayUsd: 0.03 })).toBe(0);
  });
  it("with no list price, a gateway's figure against the unknown-price rule, or alone", () => {
    const usage = { ...zero, inputTokens: 1_000, outputTokens: 500 };
    const nova = { ...ended, model: 'claude-nova-9', listUsd: null, usage };
    expect(settledExtraUsd({ ...reservation, unknownPrice: 2 }, { ...nova, gatewayUsd: 0.001 })).toBeCloseTo(0.002, 12);
    expect(settledExtraUsd({ ...reservation, unknownPrice: 2 }, { ...nova, gatewayUsd: 0.005 })).toBe(0);
    expect(settledExtraUsd(reservation, { ...nova, gatewayUsd: 0.001 })).toBe(0);
  });
});

describe('the badge with a budget', () => {
  const limits = DEFAULT_LIMITS;
  const q = quota(NOW, limits, { recentSends: [], monthCount: 10 });
  const periods = (settled: number) =>
    periodSpends(NOW, 'utc', budget({ monthlyUsd: 20 }), NO_SPEND, { month: settled, day: 0 });
  const queue = { waiting: 0, minuteWaitUntil: null };

  it('counts down dollars or percent of the budget, coloured as the requests are', () => {
    expect(badgeFor(NOW, limits, q, queue, { count: 'dollars', periods: periods(8) })).toMatchObject({
      text: '$12',
      color: BADGE_COLORS.ok,
    });
    expect(badgeFor(NOW, limits, q, queue, { count: 'dollars', periods: periods(16.8) })).toMatchObject({
      text: '$3.2',
      color: BADGE_COLORS.low,
    });
    expect(badgeFor(NOW, limits, q, queue, { count: 'percent', periods: periods(5) })).toMatchObject({
      text: '75%',
      color: BADGE_COLORS.ok,
    });
    expect(badgeFor(NOW, limits, q, queue, { count: 'percent', periods: periods(20) })).toMatchObject({
      text: '0%',
      color: BADGE_COLORS.none,
    });
    expect(badgeFor(NOW, limits, q, queue, { count: 'requests', periods: periods(5) })).toMatchObject({ text: '4990' });
    expect(badgeFor(NOW, limits, q, queue, { count: 'dollars', periods: periods(8) }).title).toContain(
      '$12.00 of the $20.00 budget left this month',
    );
  });

  it('writes dollars in at most four characters', () => {
    expect([0, 3.29, 9.99, 12.9, 999, 1_234, 56_000, 2_000_000].map(compactUsd)).toEqual([
      '$0',
      '$3.2',
      '$9.9',
      '$12',
      '$999',
      '$1.2k',
      '$56k',
      '$2M',
    ]);
  });
});
