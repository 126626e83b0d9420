/**
 * The SDK's own model list against the price table: every model the installed @anthropic-ai/sdk
 * names in its `Model` type has a price, or is listed as deliberately without one. An SDK update
 * that adds a model fails here until someone decides which.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '@anthropic-ai/sdk/resources/messages/messages';
import { CONTEXT_WINDOWS, DEFAULT_MODEL, FALLBACK_MODELS } from '@/lib/claude/models';
import { PRICE_UNKNOWN, priceFor } from '@/lib/usage/prices';

/** The model ids of the SDK's `Model` union, read from its published type declarations (the type has no run-time twin). */
function sdkModels(): string[] {
  const root = dirname(createRequire(import.meta.url).resolve('@anthropic-ai/sdk'));
  const types = readFileSync(join(root, 'resources/messages/messages.d.ts'), 'utf8');
  const union = /export type Model =([^;]+);/.exec(types)?.[1];
  if (union === undefined)
    throw new Error('the SDK no longer declares `export type Model = ...;` in resources/messages/messages.d.ts');
  return [...union.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
}

describe("the SDK's model list", () => {
  const models = sdkModels();

  it('is read from the installed SDK', () => {
    // A parse that found nothing would pass the checks below vacuously.
    expect(models.length).toBeGreaterThan(5);
    expect(models).toContain(DEFAULT_MODEL);
    // The type is what the test read: one of its members must type-check as a Model.
    const sample: Model = 'claude-sonnet-5-5';
    expect(models).toContain(sample);
  });

  it('has a price, or an explicit "price unknown" entry, for every model it names', () => {
    const unknown = new Set(PRICE_UNKNOWN.map((u) => u.model));
    const neither = models.filter((m) => priceFor(m) === null && !unknown.has(m));
    expect(neither, 'add a price to lib/usage/prices.ts, or list the model in PRICE_UNKNOWN with the reason').toEqual(
      [],
    );
  });

  it('lists as "price unknown" only models that really have no price', () => {
    for (const { model, why } of PRICE_UNKNOWN) {
      expect(priceFor(model), model).toBeNull();
      expect(why, model).not.toBe('');
    }
  });

  it('knows the context window of every 5.x model it names: 1,000,000 tokens', () => {
    for (const m of models.filter((id) => /^claude-[a-z]+-5(-|$)/.test(id)))
      expect(CONTEXT_WINDOWS[m], m).toBe(1_000_000);
  });

  it('offers, when the model list cannot be fetched, the current models, the current Sonnet first', () => {
    expect(FALLBACK_MODELS[0]?.id).toBe('claude-sonnet-5-5');
    for (const m of FALLBACK_MODELS) expect(models, m.id).toContain(m.id);
  });
});
