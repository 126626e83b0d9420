/**
 * Anthropic's list prices, kept as dated data: refresh with each release (and move PRICES_AS_OF).
 * `estimateCost` is what the ledger stores with each row; it returns null for a model not listed
 * here, and the screens then say "cost unknown" rather than guess.
 *
 * Matching: an entry's `prefix` matches a model id that equals it or continues with a snapshot
 * suffix (`-20251101`, `-latest`), so 'claude-opus-4-5' matches 'claude-opus-4-5-20251101'. When
 * several match, the longest prefix wins. A newer point release ('claude-opus-4-9') deliberately
 * does not fall back to 'claude-opus-4': Opus 4 and Opus 4.5 differ threefold in price.
 */
import type { TokenUsage } from '../storage/db';

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
  /** Writing the prompt cache (5-minute lifetime): 1.25x input. */
  cacheWrite: number;
  /** Reading the prompt cache: 0.1x input. */
  cacheRead: number;
}

export interface PriceEntry {
  prefix: string;
  label: string;
  price: Price;
}

/** From https://platform.claude.com/docs/en/about-claude/pricing ("Model pricing"). */
export const PRICES_AS_OF = '2026-11-27';

const list = (input: number, output: number): Price => ({
  input,
  output,
  cacheWrite: round6(input * 1.25),
  cacheRead: round6(input * 0.1),
});

const OPUS_45 = list(5, 25);
const OPUS_4 = list(15, 75);
const SONNET = list(3, 15);

export const PRICES: readonly PriceEntry[] = [
  { prefix: 'claude-opus-4-7', label: 'Claude Opus 4.7', price: OPUS_45 },
  { prefix: 'claude-opus-4-6', label: 'Claude Opus 4.6', price: OPUS_45 },
  { prefix: 'claude-opus-4-5', label: 'Claude Opus 4.5', price: OPUS_45 },
  { prefix: 'claude-opus-4-1', label: 'Claude Opus 4.1', price: OPUS_4 },
  { prefix: 'claude-opus-4-0', label: 'Claude Opus 4', price: OPUS_4 },
  { prefix: 'claude-opus-4', label: 'Claude Opus 4', price: OPUS_4 },
  { prefix: 'claude-3-opus', label: 'Claude Opus 3', price: OPUS_4 },
  { prefix: 'claude-sonnet-4-6', label: 'Claude Sonnet 4.6', price: SONNET },
  { prefix: 'claude-sonnet-4-5', label: 'Claude Sonnet 4.5', price: SONNET },
  { prefix: 'claude-sonnet-4-0', label: 'Claude Sonnet 4', price: SONNET },
  { prefix: 'claude-sonnet-4', label: 'Claude Sonnet 4', price: SONNET },
  { prefix: 'claude-3-7-sonnet', label: 'Claude Sonnet 3.7', price: SONNET },
  { prefix: 'claude-haiku-4-5', label: 'Claude Haiku 4.5', price: list(1, 5) },
  { prefix: 'claude-3-5-haiku', label: 'Claude Haiku 3.5', price: list(0.8, 4) },
  { prefix: 'claude-3-haiku', label: 'Claude Haiku 3', price: list(0.25, 1.25) },
];

const SNAPSHOT = /^-(\d{8}|latest)$/;

function matches(model: string, prefix: string): boolean {
  return model === prefix || (model.startsWith(prefix) && SNAPSHOT.test(model.slice(prefix.length)));
}

/** The price entry for a model id, or null when the table does not list it. */
export function priceEntryFor(model: string): PriceEntry | null {
  const id = model.trim().toLowerCase();
  let best: PriceEntry | null = null;
  for (const entry of PRICES) {
    if (matches(id, entry.prefix) && (!best || entry.prefix.length > best.prefix.length)) best = entry;
  }
  return best;
}

export function priceFor(model: string): Price | null {
  return priceEntryFor(model)?.price ?? null;
}

/** Estimated USD for one request's tokens; null when the model's price is unknown. */
export function estimateCost(model: string, usage: TokenUsage): number | null {
  const p = priceFor(model);
  if (!p) return null;
  const perMillion =
    usage.inputTokens * p.input +
    usage.outputTokens * p.output +
    usage.cacheCreationTokens * p.cacheWrite +
    usage.cacheReadTokens * p.cacheRead;
  return perMillion / 1_000_000;
}

/** Keeps derived prices exact (0.8 x 0.1 is 0.08, not 0.08000000000000002). */
function round6(n: number): number {
  return Math.round(n * 1_000_000) / 1_000_000;
}
