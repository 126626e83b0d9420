import { describe, expect, it } from 'vitest';
import { estimateCost, PRICES, PRICES_AS_OF, priceEntryFor, priceFor } from '@/lib/usage/prices';
import { FALLBACK_MODELS } from '@/lib/claude/models';

const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheCreationTokens = 0) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens,
  cacheCreationTokens,
});

describe('priceFor', () => {
  it('knows the published list prices', () => {
    expect(priceFor('claude-opus-4-5')).toMatchObject({ input: 5, output: 25 });
    expect(priceFor('claude-opus-4-6')).toMatchObject({ input: 5, output: 25 });
    expect(priceFor('claude-opus-4-1')).toMatchObject({ input: 15, output: 75 });
    expect(priceFor('claude-opus-4-20250514')).toMatchObject({ input: 15, output: 75 });
    expect(priceFor('claude-sonnet-4-5-20250929')).toMatchObject({ input: 3, output: 15 });
    expect(priceFor('claude-sonnet-4-20250514')).toMatchObject({ input: 3, output: 15 });
    expect(priceFor('claude-3-7-sonnet-20250219')).toMatchObject({ input: 3, output: 15 });
    expect(priceFor('claude-haiku-4-5-20251001')).toMatchObject({ input: 1, output: 5 });
    expect(priceFor('claude-3-5-haiku-20241022')).toMatchObject({ input: 0.8, output: 4 });
    expect(priceFor('claude-3-haiku-20240307')).toMatchObject({ input: 0.25, output: 1.25 });
  });

  it('derives cache writes (1.25x input) and reads (0.1x input)', () => {
    expect(priceFor('claude-sonnet-4-6')).toEqual({ input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 });
    expect(priceFor('claude-3-5-haiku-latest')).toEqual({ input: 0.8, output: 4, cacheWrite: 1, cacheRead: 0.08 });
    for (const { price } of PRICES) {
      expect(price.cacheWrite).toBeCloseTo(price.input * 1.25, 9);
      expect(price.cacheRead).toBeCloseTo(price.input * 0.1, 9);
    }
  });

  it('matches a dated snapshot by its prefix, the longest prefix winning', () => {
    expect(priceEntryFor('claude-opus-4-5-20251101')?.prefix).toBe('claude-opus-4-5');
    expect(priceEntryFor('claude-opus-4-1-20250805')?.prefix).toBe('claude-opus-4-1');
    expect(priceEntryFor('claude-opus-4-20250514')?.prefix).toBe('claude-opus-4');
  });

  it('does not guess: a model it does not list has no price', () => {
    expect(priceFor('claude-opus-4-9')).toBeNull(); // not "Opus 4" at three times the price
    expect(priceFor('claude-sonnet-5')).toBeNull();
    expect(priceFor('claude-opus-4-5-turbo')).toBeNull();
    expect(priceFor('gpt-4o')).toBeNull();
    expect(priceFor('')).toBeNull();
  });

  it('prices every model offered when the model list cannot be fetched', () => {
    for (const m of FALLBACK_MODELS) expect(priceFor(m.id), m.id).not.toBeNull();
  });

  it('is dated', () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('estimateCost', () => {
  it('adds input, output, cache writes and cache reads at their rates', () => {
    // Sonnet: 3 / 15 / 3.75 / 0.30 USD per million.
    expect(estimateCost('claude-sonnet-4-6', usage(1_000_000, 0))).toBeCloseTo(3, 9);
    expect(estimateCost('claude-sonnet-4-6', usage(0, 1_000_000))).toBeCloseTo(15, 9);
    expect(estimateCost('claude-sonnet-4-6', usage(2000, 1000, 10_000, 4000))).toBeCloseTo(0.006 + 0.015 + 0.003 + 0.015, 9);
    // Opus 4.5 snapshot: 1,200 in, 800 out = 0.006 + 0.02.
    expect(estimateCost('claude-opus-4-5-20251101', usage(1200, 800))).toBeCloseTo(0.026, 9);
    expect(estimateCost('claude-haiku-4-5', usage(0, 0))).toBe(0);
  });

  it('is null for an unknown model, never a guess', () => {
    expect(estimateCost('claude-mythos-5', usage(1000, 1000))).toBeNull();
  });
});
