/** One measurement of a request for the token limits and the spend budget (lib/limits/measure-request.ts), and the budget's use of it. */
import { describe, expect, it } from 'vitest';
import { estimateTokens } from '@/lib/claude/token-estimate';
import { decideBudget, NO_BUDGET, NO_SPEND, UNMEASURED_RETRY_MS, worstCaseUsd } from '@/lib/limits/budget';
import type { Budget } from '@/lib/storage/rows';
import { inputBound, measureRequest, type MeasureInput } from '@/lib/limits/measure-request';
import { priceFor } from '@/lib/usage/prices';

const NOW = Date.UTC(2026, 10, 20, 12);
const budget = (patch: Partial<Budget> = {}): Budget => ({ ...NO_BUDGET, monthlyUsd: 5, ...patch });
const input = (text: string, patch: Partial<MeasureInput> = {}): MeasureInput => ({
  request: { system: '', messages: [{ role: 'user', content: text }] },
  model: 'claude-sonnet-5-5',
  maxTokens: 1_000,
  promptCache: 'off',
  room: null,
  budget: null,
  budgetLeft: Infinity,
  ...patch,
});

describe('measureRequest', () => {
  it('counts the estimated input with the job even when no input limit is in force (the runner corrects it)', () => {
    expect(measureRequest(input('x'.repeat(400)))).toEqual({
      ok: true,
      need: { inputTokens: 100, outputTokens: 1_000 },
      cost: null,
    });
  });

  it('prices an estimated input at its hard upper bound for the budget, from the same request as the token need', () => {
    // Non-Latin text: the four-characters-a-token estimate is far below what the API counts.
    const text = '日本語のテキスト'.repeat(100);
    const measured = measureRequest(
      input(text, { budget: budget(), room: { room: 100_000, limit: 100_000, by: 'pace' } }),
    );
    const bound = inputBound({ system: '', messages: [{ role: 'user', content: text }] });
    expect(bound).toBeGreaterThanOrEqual(new TextEncoder().encode(text).length);
    expect(measured).toEqual({
      ok: true,
      need: {
        inputTokens: estimateTokens({ system: '', messages: [{ role: 'user', content: text }] }),
        outputTokens: 1_000,
      },
      cost: { model: 'claude-sonnet-5-5', inputTokens: bound, maxTokens: 1_000, estimated: true },
    });
  });

  it('asks for the exact count near the token limit, or when the safe figure does not fit the budget left, and then uses it for both', () => {
    const text = 'x'.repeat(4_000); // 1,000 by the estimate, 4,000 and more at the bound
    expect(measureRequest(input(text, { room: { room: 1_500, limit: 1_500, by: 'pace' } }))).toEqual({ ok: 'count' });
    // Sonnet 5.5 ($2 / $10): the bound's worst case is about $0.018, the estimate's $0.012.
    expect(measureRequest(input(text, { budget: budget(), budgetLeft: 0.015 }))).toEqual({ ok: 'count' });
    expect(measureRequest(input(text, { budget: budget({ whenReached: 'warn' }), budgetLeft: 0.015 }))).toMatchObject({
      ok: true,
    });
    expect(measureRequest(input(text, { budget: budget(), budgetLeft: 0.015, exact: 1_100 }))).toEqual({
      ok: true,
      need: { inputTokens: 1_100, outputTokens: 1_000 },
      cost: { model: 'claude-sonnet-5-5', inputTokens: 1_100, maxTokens: 1_000 },
    });
    // The count could not be had: the estimate decides the token need, the bound the reservation.
    expect(measureRequest(input(text, { budget: budget(), budgetLeft: 0.015, exact: null }))).toMatchObject({
      ok: true,
      need: { inputTokens: 1_000 },
      cost: { inputTokens: inputBound({ system: '', messages: [{ role: 'user', content: text }] }), estimated: true },
    });
  });

  it('refuses a request larger than a whole minute of input', () => {
    expect(
      measureRequest(input('x'.repeat(4_000), { room: { room: 900, limit: 900, by: 'server' }, exact: 1_000 })),
    ).toMatchObject({ ok: false, error: { code: 'too_large' } });
  });
});

describe('the budget with a measured request', () => {
  const haiku = priceFor('claude-haiku-5-5')!;

  it("reserves at Haiku 5.5's long-prompt tier when an estimated input is near its threshold, at the listed tier when the input is the API's count", () => {
    const estimated = { model: 'claude-haiku-5-5', inputTokens: 99_000, maxTokens: 1_000, estimated: true };
    // Estimated 99,000 may really be 101,000: then every token costs the higher tier.
    expect(worstCaseUsd(haiku, estimated)).toBeCloseTo((99_000 * 0.5 + 1_000 * 2.5) / 1e6, 12);
    expect(worstCaseUsd(haiku, { ...estimated, estimated: false })).toBeCloseTo((99_000 * 0.1 + 1_000 * 0.5) / 1e6, 12);
    expect(worstCaseUsd(haiku, { ...estimated, inputTokens: 10_000 })).toBeCloseTo(
      (10_000 * 0.1 + 1_000 * 0.5) / 1e6,
      12,
    );
  });

  it('holds a request with no cost while a budget is set, rather than admit it unreserved', () => {
    expect(decideBudget(NOW, 'utc', budget(), NO_SPEND, { month: 0, day: 0 }, null)).toEqual({
      ok: false,
      reason: 'budget',
      retryAt: NOW + UNMEASURED_RETRY_MS,
    });
    expect(decideBudget(NOW, 'utc', NO_BUDGET, NO_SPEND, { month: 0, day: 0 }, null)).toEqual({
      ok: true,
      reserve: null,
    });
  });
});
