import { describe, expect, it } from 'vitest';
import { costBreakdown, estimateCost, PRICES, PRICES_AS_OF, priceEntryFor, priceFor } from '@/lib/usage/prices';
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

  it('derives cache writes (1.25x input for 5 minutes, 2x for an hour) and reads (0.1x input)', () => {
    expect(priceFor('claude-sonnet-4-6')).toEqual({
      input: 3,
      output: 15,
      cacheWrite: 3.75,
      cacheWrite1h: 6,
      cacheRead: 0.3,
    });
    expect(priceFor('claude-3-5-haiku-latest')).toEqual({
      input: 0.8,
      output: 4,
      cacheWrite: 1,
      cacheWrite1h: 1.6,
      cacheRead: 0.08,
    });
    for (const { price } of PRICES.filter(
      (e) => e.price.cacheWrite !== null && e.price.cacheWrite1h !== null && e.price.cacheRead !== null,
    )) {
      expect(price.cacheWrite).toBeCloseTo(price.input * 1.25, 9);
      expect(price.cacheWrite1h).toBeCloseTo(price.input * 2, 9);
      expect(price.cacheRead).toBeCloseTo(price.input * 0.1, 9);
    }
  });

  it('knows the current models, leaving unpublished cache prices unknown', () => {
    expect(priceFor('claude-sonnet-5-5')).toEqual({
      input: 2,
      output: 10,
      cacheWrite: 2.5,
      cacheWrite1h: 4,
      cacheRead: 0.2,
    });
    expect(priceFor('claude-sonnet-5')).toEqual(priceFor('claude-sonnet-5-5'));
    expect(priceFor('claude-opus-5-5')).toEqual({
      input: 4,
      output: 20,
      cacheWrite: null,
      cacheWrite1h: null,
      cacheRead: 0.2,
    });
    expect(priceFor('claude-opus-5')).toMatchObject({ input: 5, output: 25, cacheRead: null });
    expect(priceFor('claude-fable-5-1')).toMatchObject({ input: 10, output: 50, cacheWrite: null });
    expect(priceFor('claude-haiku-5-5')).toMatchObject({ input: 0.1, output: 0.5, cacheWrite: 0.125, cacheRead: null });
    expect(priceEntryFor('claude-opus-5-5')?.prefix).toBe('claude-opus-5-5');
    expect(priceEntryFor('claude-opus-5')?.prefix).toBe('claude-opus-5');
  });

  it('matches a dated snapshot by its prefix, the longest prefix winning', () => {
    expect(priceEntryFor('claude-opus-4-5-20251101')?.prefix).toBe('claude-opus-4-5');
    expect(priceEntryFor('claude-opus-4-1-20250805')?.prefix).toBe('claude-opus-4-1');
    expect(priceEntryFor('claude-opus-4-20250514')?.prefix).toBe('claude-opus-4');
  });

  it('does not guess: a model it does not list has no price', () => {
    expect(priceFor('claude-opus-4-9')).toBeNull(); // not "Opus 4" at three times the price
    expect(priceFor('claude-sonnet-5-9')).toBeNull();
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
    expect(estimateCost('claude-sonnet-4-6', usage(2000, 1000, 10_000, 4000))).toBeCloseTo(
      0.006 + 0.015 + 0.003 + 0.015,
      9,
    );
    // Opus 4.5 snapshot: 1,200 in, 800 out = 0.006 + 0.02.
    expect(estimateCost('claude-opus-4-5-20251101', usage(1200, 800))).toBeCloseTo(0.026, 9);
    expect(estimateCost('claude-haiku-4-5', usage(0, 0))).toBe(0);
  });

  it('is null for an unknown model, never a guess', () => {
    expect(estimateCost('claude-mythos-5', usage(1000, 1000))).toBeNull();
  });

  it('prices a 1-hour cache write at 2x input, a 5-minute one at 1.25x, and reads at 0.1x', () => {
    // Sonnet 5.5: input 2, 5-minute write 2.50, 1-hour write 4, read 0.20 USD per million.
    expect(estimateCost('claude-sonnet-5-5', usage(0, 0, 0, 1_000_000))).toBeCloseTo(2.5, 9);
    expect(estimateCost('claude-sonnet-5-5', usage(0, 0, 0, 1_000_000), { cacheTtl: '1h' })).toBeCloseTo(4, 9);
    expect(estimateCost('claude-sonnet-5-5', usage(0, 0, 1_000_000, 0))).toBeCloseTo(0.2, 9);
    expect(estimateCost('claude-sonnet-4-6', usage(0, 0, 0, 1_000_000), { cacheTtl: '1h' })).toBeCloseTo(6, 9);
  });

  it('is null when the request used a cache price that is not published, known otherwise', () => {
    expect(estimateCost('claude-opus-5', usage(1000, 100))).toBeCloseTo(0.0075, 12);
    expect(estimateCost('claude-opus-5', usage(1000, 100, 500, 0))).toBeNull();
    expect(estimateCost('claude-opus-5-5', usage(1000, 100, 0, 500))).toBeNull();
    expect(estimateCost('claude-opus-5-5', usage(0, 0, 1_000_000, 0))).toBeCloseTo(0.2, 9);
    expect(estimateCost('claude-haiku-5-5', usage(0, 0, 0, 100_000))).toBeCloseTo(0.0125, 9);
    expect(estimateCost('claude-haiku-5-5', usage(0, 0, 0, 100_000), { cacheTtl: '1h' })).toBeNull();
  });

  it('prices Haiku 5.5 by the prompt: over 100,000 tokens (cache included) at the higher rate', () => {
    expect(estimateCost('claude-haiku-5-5', usage(100_000, 1_000_000))).toBeCloseTo(0.01 + 0.5, 9);
    expect(estimateCost('claude-haiku-5-5', usage(100_001, 1_000_000))).toBeCloseTo(0.0500005 + 2.5, 9);
    expect(estimateCost('claude-haiku-5-5', usage(60_000, 0, 0, 60_000))).toBeNull(); // the long-prompt cache write is not published
  });

  it('splits input from output and says what the prompt cache saved', () => {
    // Sonnet 4.6, 20,000 prompt tokens read from the cache, 100 new, 300 out.
    const read = costBreakdown('claude-sonnet-4-6', usage(100, 300, 20_000, 0))!;
    expect(read.input).toBeCloseTo((100 * 3 + 20_000 * 0.3) / 1e6, 12);
    expect(read.output).toBeCloseTo((300 * 15) / 1e6, 12);
    expect(read.total).toBeCloseTo(read.input + read.output, 12);
    expect(read.promptCacheSaved).toBeCloseTo((20_000 * (3 - 0.3)) / 1e6, 12);
    // A write alone costs a quarter more than plain input: a negative saving.
    expect(costBreakdown('claude-sonnet-4-6', usage(0, 0, 0, 20_000))!.promptCacheSaved).toBeCloseTo(
      (-20_000 * 0.75) / 1e6,
      12,
    );
    expect(costBreakdown('claude-sonnet-4-6', usage(100, 10))!.promptCacheSaved).toBe(0);
  });
});
