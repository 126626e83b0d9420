/**
 * Anthropic's list prices, kept as dated data: refresh with each release (and move PRICES_AS_OF).
 * `estimateCost` is what the ledger stores with each row; it returns null for a model not listed
 * here, and the screens then say "cost unknown" rather than guess.
 *
 * Matching: an entry's `prefix` matches a model id that equals it or continues with a snapshot
 * suffix (`-20251101`, `-latest`), so 'claude-opus-4-5' matches 'claude-opus-4-5-20251101'. When
 * several match, the longest prefix wins. A newer point release ('claude-opus-4-9') deliberately
 * does not fall back to 'claude-opus-4': Opus 4 and Opus 4.5 differ threefold in price.
 *
 * Prompt-cache prices that Anthropic has not published for a model are null: a request that wrote
 * or read the cache on such a model has an unknown cost, not a guessed one.
 */
import type { TokenUsage } from '../storage/db';

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
  /** Writing the prompt cache with a 5-minute lifetime: 1.25x input where published; null when not. */
  cacheWrite: number | null;
  /** Writing the prompt cache with a 1-hour lifetime: 2x input where published; null when not. */
  cacheWrite1h: number | null;
  /** Reading the prompt cache: 0.1x input where published; null when not. */
  cacheRead: number | null;
  /** A model priced by prompt length (Haiku 5.5): prompts over `tokens` cost `price` instead. */
  longPrompt?: { tokens: number; price: Price };
}

/** The prompt cache's lifetime for what a request wrote to it. */
export type CacheTtl = '5m' | '1h';

/** A model id (or the prefix of its dated snapshots) and its price; the id names the model. */
export interface PriceEntry {
  prefix: string;
  price: Price;
}

/**
 * From https://platform.claude.com/docs/en/about-claude/pricing ("Model pricing") and, for the 5.x
 * models, Anthropic's model pages (Oct-Nov 2026).
 */
export const PRICES_AS_OF = '2026-11-30';

/** A model whose cache prices follow the published multipliers: writes 1.25x (5 min) and 2x (1 h), reads 0.1x. */
const list = (input: number, output: number): Price => ({
  input,
  output,
  cacheWrite: round6(input * 1.25),
  cacheWrite1h: round6(input * 2),
  cacheRead: round6(input * 0.1),
});

/** A model whose cache prices are given one by one; a missing one stays unknown. */
const listed = (
  input: number,
  output: number,
  cache: Partial<Pick<Price, 'cacheWrite' | 'cacheWrite1h' | 'cacheRead'>> = {},
): Price => ({
  input,
  output,
  cacheWrite: cache.cacheWrite ?? null,
  cacheWrite1h: cache.cacheWrite1h ?? null,
  cacheRead: cache.cacheRead ?? null,
});

const SONNET_5 = listed(2, 10, { cacheRead: 0.2, cacheWrite: 2.5, cacheWrite1h: 4 });

const OPUS_45 = list(5, 25);
const OPUS_4 = list(15, 75);
const SONNET = list(3, 15);

export const PRICES: readonly PriceEntry[] = [
  { prefix: 'claude-fable-5-1', price: listed(10, 50) },
  // The cache read is as reported, not yet on the model's page; its cache writes are not published.
  { prefix: 'claude-opus-5-5', price: listed(4, 20, { cacheRead: 0.2 }) },
  { prefix: 'claude-sonnet-5-5', price: SONNET_5 },
  { prefix: 'claude-sonnet-5', price: SONNET_5 },
  { prefix: 'claude-opus-5', price: listed(5, 25) },
  {
    prefix: 'claude-haiku-5-5',
    price: { ...listed(0.1, 0.5, { cacheWrite: 0.125 }), longPrompt: { tokens: 100_000, price: listed(0.5, 2.5) } },
  },
  { prefix: 'claude-opus-4-7', price: OPUS_45 },
  { prefix: 'claude-opus-4-6', price: OPUS_45 },
  { prefix: 'claude-opus-4-5', price: OPUS_45 },
  { prefix: 'claude-opus-4-1', price: OPUS_4 },
  { prefix: 'claude-opus-4-0', price: OPUS_4 },
  { prefix: 'claude-opus-4', price: OPUS_4 },
  { prefix: 'claude-3-opus', price: OPUS_4 },
  { prefix: 'claude-sonnet-4-6', price: SONNET },
  { prefix: 'claude-sonnet-4-5', price: SONNET },
  { prefix: 'claude-sonnet-4-0', price: SONNET },
  { prefix: 'claude-sonnet-4', price: SONNET },
  { prefix: 'claude-3-7-sonnet', price: SONNET },
  { prefix: 'claude-haiku-4-5', price: list(1, 5) },
  { prefix: 'claude-3-5-haiku', price: list(0.8, 4) },
  { prefix: 'claude-3-haiku', price: list(0.25, 1.25) },
];

/**
 * Models the SDK names (its `Model` type) that deliberately have no price here: Anthropic's pages
 * give none we could confirm, so their cost shows as unknown. A test fails when the SDK names a
 * model that is neither priced above nor listed here, so a new model is a decision, not an oversight.
 */
export const PRICE_UNKNOWN: readonly { model: string; why: string }[] = [
  { model: 'claude-fable-5-2', why: 'no published price yet' },
  { model: 'claude-fable-5', why: 'no published price confirmed' },
  { model: 'claude-mythos-5-2', why: 'no published price yet' },
  { model: 'claude-mythos-5-1', why: 'no published price confirmed' },
  { model: 'claude-mythos-5', why: 'no published price confirmed' },
  { model: 'claude-mythos-preview', why: 'a research preview without a list price (end of life 30 Jun 2026)' },
  { model: 'claude-opus-4-8', why: "no published price confirmed; not assumed to be Opus 4.7's" },
];

/**
 * A web search (the server tool `web_search`) costs $10 per 1,000 searches, whatever the model,
 * on top of the tokens its results add to the input (shared/claude-api.md, "Images, PDFs,
 * thinking, web search"). Dated data like the prices above.
 */
export const WEB_SEARCH_USD = 0.01;
export const WEB_SEARCH_PRICE_AS_OF = '2026-11-30';

/** What `searches` web searches cost (a damaged count costs nothing here: the ledger marks its usage unknown). */
export function webSearchUsd(searches: number | undefined): number {
  return typeof searches === 'number' && Number.isInteger(searches) && searches > 0 ? searches * WEB_SEARCH_USD : 0;
}

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

/** One request's estimated cost in USD, split the way the usage page shows it. */
export interface CostBreakdown {
  /** The prompt: plain input, cache writes and cache reads. */
  input: number;
  output: number;
  /** The web searches the server ran (priced per search, not per token). */
  webSearch: number;
  /** Input, output and the web searches. */
  total: number;
  /**
   * What Anthropic's prompt cache saved against sending the same prompt tokens as plain input:
   * reads at input price minus their price, less the writes' surcharge (negative when a request
   * only wrote).
   */
  promptCacheSaved: number;
}

/**
 * The estimated cost of one request's tokens; null when the model's price is unknown, or when it
 * wrote or read the prompt cache and that price is not published. `cacheTtl` is the lifetime the
 * request asked for: a 1-hour write costs more than a 5-minute one.
 */
export function costBreakdown(
  model: string,
  usage: TokenUsage,
  { cacheTtl = '5m' }: { cacheTtl?: CacheTtl } = {},
): CostBreakdown | null {
  const listedPrice = priceFor(model);
  if (!listedPrice) return null;
  const prompt = usage.inputTokens + usage.cacheCreationTokens + usage.cacheReadTokens;
  const p =
    listedPrice.longPrompt && prompt > listedPrice.longPrompt.tokens ? listedPrice.longPrompt.price : listedPrice;
  const write = cacheTtl === '1h' ? p.cacheWrite1h : p.cacheWrite;
  if ((usage.cacheCreationTokens > 0 && write === null) || (usage.cacheReadTokens > 0 && p.cacheRead === null))
    return null;
  const writes = usage.cacheCreationTokens * (write ?? 0);
  const reads = usage.cacheReadTokens * (p.cacheRead ?? 0);
  const input = (usage.inputTokens * p.input + writes + reads) / 1_000_000;
  // Thinking tokens are output tokens: the API counts them in `output_tokens`, so they are priced here.
  const output = (usage.outputTokens * p.output) / 1_000_000;
  const webSearch = webSearchUsd(usage.webSearches);
  const asPlainInput = ((usage.cacheCreationTokens + usage.cacheReadTokens) * p.input) / 1_000_000;
  return {
    input,
    output,
    webSearch,
    total: input + output + webSearch,
    promptCacheSaved: asPlainInput - (writes + reads) / 1_000_000,
  };
}

/** Message Batches cost half of every token's price (shared/claude-api.md, "Message Batches"). */
export const BATCH_PRICE_FACTOR = 0.5;

/**
 * `costBreakdown` at the batch price: the tokens halved, the web searches at full price
 * (shared/claude-api.md: "The Batch API halves input and output prices"; nothing halves a search).
 */
export function batchCostBreakdown(model: string, usage: TokenUsage): CostBreakdown | null {
  const full = costBreakdown(model, usage);
  if (!full) return null;
  const f = BATCH_PRICE_FACTOR;
  return {
    input: full.input * f,
    output: full.output * f,
    webSearch: full.webSearch,
    total: (full.input + full.output) * f + full.webSearch,
    promptCacheSaved: full.promptCacheSaved * f,
  };
}

/** Estimated USD for one request's tokens; null when the model's price is unknown. */
export function estimateCost(model: string, usage: TokenUsage, options: { cacheTtl?: CacheTtl } = {}): number | null {
  return costBreakdown(model, usage, options)?.total ?? null;
}

/** A figure the ledger and the budget may hold as dollars: a finite number, never negative. NaN, Infinity or -1 is not a cost. */
export const isUsd = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * The model an answer is priced at: the one asked for, unless the one the response names costs
 * more for these tokens. A response naming a cheaper model (or one without a known price) is
 * settled at the requested model's price: what a server says it ran never lowers the cost.
 */
export function pricedModel(
  requested: string,
  answered: string | null | undefined,
  usage: TokenUsage,
  options: { cacheTtl?: CacheTtl } = {},
): string {
  if (!answered || answered === requested) return requested;
  const asked = estimateCost(requested, usage, options);
  const named = estimateCost(answered, usage, options);
  return asked !== null && named !== null && named > asked ? answered : requested;
}

/** Keeps derived prices exact (0.8 x 0.1 is 0.08, not 0.08000000000000002). */
function round6(n: number): number {
  return Math.round(n * 1_000_000) / 1_000_000;
}
