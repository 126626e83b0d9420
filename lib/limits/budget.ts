/**
 * The spend budget in US dollars (pure): its settings and their check, and the decision admission
 * makes with it. lib/limits/budget-store.ts reads and writes the records; this file only decides.
 *
 * How it holds: admission reserves each request's worst case (`worstCaseUsd`: the estimated input
 * at the input price, or the prompt-cache write price when that is higher, plus `max_tokens` at the
 * output price) beside what is already spent; when the attempt ends, the reservation is replaced by
 * what the answer's `usage` cost (`settledExtraUsd` says what the ledger's totals do not already
 * hold). In 'pause' mode a request that does not fit waits for the requests on their way to settle,
 * or is refused when nothing could make room before the period turns.
 */
import {
  BADGE_COUNTS,
  WHEN_REACHED,
  type BadgeCount,
  type Budget,
  type MonthStart,
  type PaceError,
  type Reservation,
  type SpendState,
  type WhenReached,
} from '../storage/rows';
import { isObject } from '../is-object';
import {
  BATCH_PRICE_FACTOR,
  isUsd,
  priceFor,
  WEB_SEARCH_USD,
  webSearchUsd,
  type CacheTtl,
  type Price,
} from '../usage/prices';
import { formatUsd } from '../usage/summary';
import { dayKey } from '../usage/totals';
import { formatReset } from './format';
import { monthWindow } from './month-window';
import type { TokenUsage } from '../storage/db';

export const NO_BUDGET: Budget = {
  monthlyUsd: null,
  dailyUsd: null,
  whenReached: 'pause',
  unknownPriceUsd: null,
  badge: 'requests',
};
const MAX_BUDGET_USD = 1_000_000;
/** The most searches a message may run (the setting's top, lib/settings/validate.ts). */
const MAX_WEB_SEARCHES_ASKED = 10;
const MAX_UNKNOWN_PRICE_USD = 1_000;

export const hasBudget = (b: Budget | null): b is Budget =>
  b !== null && (b.monthlyUsd !== null || b.dailyUsd !== null);

export const NO_SPEND: SpendState = { reserved: {}, extra: {} };

/** What admission needs to price a request: the model it will use, its estimated input, its `max_tokens`. */
export interface RequestCost {
  model: string;
  inputTokens: number;
  maxTokens: number;
  /** The prompt cache's lifetime when it is on: the input may be written to it, at its price. */
  promptCache?: CacheTtl;
  /** `inputTokens` is not the API's count: a long-prompt price tier near it is taken to apply. */
  estimated?: boolean;
  /** A request of a Message Batch: every token at the batch price (lib/usage/prices.ts BATCH_PRICE_FACTOR). */
  batch?: boolean;
  /**
   * The web searches it may run: its web_search tool's `max_uses` (`maxWebSearches`), each at
   * WEB_SEARCH_USD, batch or not; absent or 0 without the tool.
   */
  webSearches?: number;
}

/** The searches a request may run: its `web_search` tool's `max_uses` (0 without the tool; a tool without a figure, 10, the most Pace asks for). */
export function maxWebSearches(request: object): number {
  const tools = (request as { tools?: unknown }).tools;
  let most = 0;
  for (const tool of Array.isArray(tools) ? (tools as unknown[]) : []) {
    if (!isObject(tool) || tool.name !== 'web_search') continue;
    const uses = tool.max_uses;
    most += typeof uses === 'number' && Number.isInteger(uses) && uses >= 0 ? uses : MAX_WEB_SEARCHES_ASKED;
  }
  return most;
}

/** The ledger's settled cost (`costUsd` of the day and month totals) of the periods `now` falls in. */
export interface LedgerCost {
  month: number;
  day: number;
}

type Period = 'month' | 'day';

export interface PeriodSpend {
  period: Period;
  limit: number;
  /** Spent and ended: the ledger's cost plus the extra. */
  settled: number;
  /** Held by requests on their way. */
  reserved: number;
  /** When the period turns. */
  end: number;
  key: string;
}

export type BudgetDecision =
  | { ok: true; reserve: Reservation | null }
  | { ok: false; reason: 'budget'; retryAt: number }
  | { ok: false; reason: 'refused'; error: PaceError };

/** Rounding noise in sums of dollars: never a reason to refuse or to pass. */
const EPSILON = 1e-9;

/** The local day `now` falls in: from midnight to midnight. */
export function dayWindow(now: number): { start: number; end: number; key: string } {
  const d = new Date(now);
  const start = new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const end = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
  return { start, end, key: dayKey(now) };
}

/** The budget's periods at `now` (only those with a figure), with what is settled and reserved in each. */
export function periodSpends(
  now: number,
  monthStart: MonthStart,
  budget: Budget | null,
  spend: SpendState,
  ledger: LedgerCost,
): PeriodSpend[] {
  if (!hasBudget(budget)) return [];
  const out: PeriodSpend[] = [];
  // A damaged figure (NaN, negative) is none here: never a NaN spend, which every comparison would pass.
  const usd = (v: number | undefined) => (isUsd(v) ? v : 0);
  const reservedIn = (w: { start: number; end: number }) =>
    Object.values(spend.reserved).reduce((sum, r) => (r.at >= w.start && r.at < w.end ? sum + usd(r.usd) : sum), 0);
  if (budget.monthlyUsd !== null) {
    const w = monthWindow(now, monthStart);
    out.push({
      period: 'month',
      limit: budget.monthlyUsd,
      settled: usd(ledger.month) + usd(spend.extra[w.key]),
      reserved: reservedIn(w),
      end: w.end,
      key: w.key,
    });
  }
  if (budget.dailyUsd !== null) {
    const w = dayWindow(now);
    out.push({
      period: 'day',
      limit: budget.dailyUsd,
      settled: usd(ledger.day) + usd(spend.extra[w.key]),
      reserved: reservedIn(w),
      end: w.end,
      key: w.key,
    });
  }
  return out;
}

/** Dollars still free in a period: the budget less what is spent and what requests on their way hold. */
export const leftIn = (p: PeriodSpend) => Math.max(0, p.limit - p.settled - p.reserved);

/**
 * The price a budget counts a model at: its list price, with any price Anthropic has not published
 * (the whole model, or its prompt cache) at the "count unknown prices as" figure; null when the model
 * is not listed and there is no figure.
 */
export function budgetPrice(
  model: string,
  unknownPriceUsd: number | null,
): { price: Price; unknownPrice?: number } | null {
  const listed = priceFor(model);
  if (!listed) {
    if (unknownPriceUsd === null) return null;
    const x = unknownPriceUsd;
    return { price: { input: x, output: x, cacheWrite: x, cacheWrite1h: x, cacheRead: x }, unknownPrice: x };
  }
  if (unknownPriceUsd === null) return { price: listed };
  const fill = (p: Price): Price => ({
    ...p,
    cacheWrite: p.cacheWrite ?? unknownPriceUsd,
    cacheWrite1h: p.cacheWrite1h ?? unknownPriceUsd,
    cacheRead: p.cacheRead ?? unknownPriceUsd,
    ...(p.longPrompt ? { longPrompt: { tokens: p.longPrompt.tokens, price: fill(p.longPrompt.price) } } : {}),
  });
  return { price: fill(listed), unknownPrice: unknownPriceUsd };
}

/** The prices that apply to a prompt of `promptTokens` (Haiku 5.5 costs more above 100,000). */
const tierFor = (price: Price, promptTokens: number): Price =>
  price.longPrompt && promptTokens > price.longPrompt.tokens ? price.longPrompt.price : price;

/** An input figure that is not the API's count is "near" a long-prompt tier from this share of its threshold on. */
const NEAR_LONG_PROMPT = 0.5;

/**
 * The most a request can cost: every input token at the higher of the input price and (prompt cache
 * on) the cache write price, and all of `max_tokens` at the output price (thinking included: it is
 * output), at the long-prompt tier when the input is past its threshold (or, only estimated, near
 * it), the tokens at the batch price for a batch; plus `webSearches` searches at full price. Null
 * when the cache is on and its write price is not known.
 */
export function worstCaseUsd(price: Price, request: RequestCost): number | null {
  const tokens = worstTokensUsd(price, request);
  if (tokens === null) return null;
  return tokens * (request.batch ? BATCH_PRICE_FACTOR : 1) + searchesUsd(request);
}

/** What the request's `webSearches` may cost (a figure that is not a count is taken as the most Pace asks for). */
function searchesUsd(request: RequestCost): number {
  const n = request.webSearches;
  if (n === undefined || n === 0) return 0;
  return Number.isInteger(n) && n > 0 ? n * WEB_SEARCH_USD : MAX_WEB_SEARCHES_ASKED * WEB_SEARCH_USD;
}

function worstTokensUsd(price: Price, request: RequestCost): number | null {
  // An estimate near the threshold may really be past it, and then the whole prompt costs the higher tier.
  const near =
    request.estimated && price.longPrompt && request.inputTokens > price.longPrompt.tokens * NEAR_LONG_PROMPT;
  const p = near ? price.longPrompt!.price : tierFor(price, request.inputTokens);
  let inputPrice = p.input;
  if (request.promptCache) {
    const write = request.promptCache === '1h' ? p.cacheWrite1h : p.cacheWrite;
    if (write === null) return null;
    inputPrice = Math.max(inputPrice, write);
  }
  return (request.inputTokens * inputPrice + request.maxTokens * p.output) / 1_000_000;
}

/** What `usage` costs at `price` (the tier by the whole prompt); null when it used a price that is not known. */
function usageUsd(price: Price, usage: TokenUsage, ttl: CacheTtl = '5m'): number | null {
  const p = tierFor(price, usage.inputTokens + usage.cacheCreationTokens + usage.cacheReadTokens);
  const write = ttl === '1h' ? p.cacheWrite1h : p.cacheWrite;
  if ((usage.cacheCreationTokens > 0 && write === null) || (usage.cacheReadTokens > 0 && p.cacheRead === null))
    return null;
  return (
    (usage.inputTokens * p.input +
      usage.cacheCreationTokens * (write ?? 0) +
      usage.cacheReadTokens * (p.cacheRead ?? 0) +
      usage.outputTokens * p.output) /
      1_000_000 +
    webSearchUsd(usage.webSearches)
  );
}

/** How soon a request held for want of its cost (a budget set after it was measured) is measured again. */
export const UNMEASURED_RETRY_MS = 1000;

/**
 * Admission's budget check for one request at `now`. No budget: nothing to check or reserve. A
 * budget but the request's cost unknown to the caller (`request` null: it was measured before the
 * budget was saved): it waits to be measured again, never goes unreserved.
 */
export function decideBudget(
  now: number,
  monthStart: MonthStart,
  budget: Budget | null,
  spend: SpendState,
  ledger: LedgerCost,
  request: RequestCost | null,
): BudgetDecision {
  if (!hasBudget(budget)) return { ok: true, reserve: null };
  if (request === null) return { ok: false, reason: 'budget', retryAt: now + UNMEASURED_RETRY_MS };
  const priced = budgetPrice(request.model, budget.unknownPriceUsd);
  const worst = priced && worstCaseUsd(priced.price, request);
  if (!priced || worst === null)
    return { ok: false, reason: 'refused', error: unknownPriceError(request.model, priced !== null) };
  // A worst case that is not a number of dollars (a request measured from damaged figures) is never reserved or let through.
  if (!isUsd(worst))
    return {
      ok: false,
      reason: 'refused',
      error: {
        code: 'budget',
        message: 'Not sent: Pace could not work out what this request could cost, and a spend budget is set.',
        action: 'open_options',
      },
    };
  const reserve: Reservation = {
    usd: worst,
    at: now,
    ...(priced.unknownPrice === undefined ? {} : { unknownPrice: priced.unknownPrice }),
  };
  if (budget.whenReached === 'warn') return { ok: true, reserve };
  let retryAt: number | null = null;
  for (const p of periodSpends(now, monthStart, budget, spend, ledger)) {
    // Only what is on its way can give room back before the period turns.
    if (worst > p.limit - p.settled + EPSILON)
      return { ok: false, reason: 'refused', error: overBudgetError(worst, p, monthStart, request) };
    if (worst > p.limit - p.settled - p.reserved + EPSILON) retryAt = Math.max(retryAt ?? 0, p.end);
  }
  return retryAt === null ? { ok: true, reserve } : { ok: false, reason: 'budget', retryAt };
}

/**
 * When the attempt of a reserved send ends: what the budget counts beyond the ledger's own totals
 * (which hold `gatewayUsd` when a gateway priced the answer, `listUsd` otherwise). A cut-off send
 * (its usage never known) counts its worst case. An answer counts at list prices (`listUsd`), or,
 * with no list price, at the budget's "count unknown prices as" figure (its worst case without
 * one); a gateway's own figure never lowers that (a gateway charging $0 or a discount cannot let
 * the budget run past), and stands alone only where no price is known.
 */
export function settledExtraUsd(
  reservation: Reservation,
  ended: {
    model: string;
    interrupted: boolean;
    listUsd: number | null;
    gatewayUsd: number | null;
    usage: TokenUsage;
    cacheTtl?: CacheTtl;
    usageUnknown?: boolean;
  },
): number {
  // A figure that is not a cost is no figure: the ledger stores it as unknown (lib/usage/ledger-store.ts).
  const known = (v: number | null) => (isUsd(v) ? v : null);
  const extra = extraOf(reservation, { ...ended, listUsd: known(ended.listUsd), gatewayUsd: known(ended.gatewayUsd) });
  // Whatever a server sent, what is added to a period is a finite number >= 0 (a damaged figure: the worst case).
  return isUsd(extra) ? extra : isUsd(reservation.usd) ? reservation.usd : 0;
}

function extraOf(reservation: Reservation, ended: Parameters<typeof settledExtraUsd>[1]): number {
  if (ended.interrupted) return reservation.usd;
  // The API billed an answer whose usage is unknown: its worst case stays, less what a gateway already put in the ledger.
  if (ended.usageUnknown) return Math.max(0, reservation.usd - (ended.gatewayUsd ?? 0));
  const priced =
    ended.listUsd === null && reservation.unknownPrice !== undefined
      ? budgetPrice(ended.model, reservation.unknownPrice)
      : null;
  const own = ended.listUsd ?? (priced && usageUsd(priced.price, ended.usage, ended.cacheTtl));
  if (ended.gatewayUsd === null) return ended.listUsd === null ? (own ?? reservation.usd) : 0;
  return Math.max(0, (own ?? ended.gatewayUsd) - ended.gatewayUsd);
}

function unknownPriceError(model: string, cacheOnly: boolean): PaceError {
  const what = cacheOnly ? `the prompt-cache price of ${model} is not published` : `${model} has no known price`;
  return {
    code: 'budget',
    message: `Not sent: ${what}, and a spend budget is set, so Pace cannot tell what this request would cost. Pick a priced model, or set "Count unknown prices as" (US dollars per million tokens) under Spend budget in the options.`,
    action: 'open_options',
  };
}

function periodName(p: PeriodSpend): string {
  return p.period === 'month' ? 'monthly' : 'daily';
}

function overBudgetError(worst: number, p: PeriodSpend, monthStart: MonthStart, request: RequestCost): PaceError {
  const left = Math.max(0, p.limit - p.settled);
  const reset = p.period === 'month' ? formatReset(p.end, monthStart) : formatReset(p.end, 'local');
  const searches = searchesUsd(request);
  const n = searches / WEB_SEARCH_USD;
  const including =
    searches > 0
      ? `, including up to ${Math.round(n)} web search${Math.round(n) === 1 ? '' : 'es'} (${formatUsd(searches)}) at $10 per 1,000`
      : '';
  return {
    code: 'budget',
    message: `Not sent: this request could cost up to ${formatUsd(worst)}${including}; ${formatUsd(left)} of your ${formatUsd(p.limit)} ${periodName(p)} budget is left; it resets ${reset}.`,
    action: 'open_options',
  };
}

/** The budget passed in warn-only mode, for the popup: "$5.40 spent of your $5.00 monthly budget". */
export function passedText(p: PeriodSpend): string {
  return `${formatUsd(p.settled)} spent of your ${formatUsd(p.limit)} ${periodName(p)} budget`;
}

/** The badge's figure for dollars left: "$3.2", "$12", "$1.2k"; at most four characters where it can. */
export function compactUsd(usd: number): string {
  // Rounding noise (20 - 16.8 = 3.1999...) must not take a dime off.
  const n = Math.max(0, usd) + EPSILON;
  if (n < 10) return `$${(Math.floor(n * 10) / 10).toString()}`;
  if (n < 1000) return `$${Math.floor(n)}`;
  if (n < 10_000) return `$${(Math.floor(n / 100) / 10).toString()}k`;
  if (n < 1_000_000) return `$${Math.floor(n / 1000)}k`;
  return `$${Math.floor(n / 1_000_000)}M`;
}

export type BudgetInput = {
  monthlyUsd: string | number;
  dailyUsd: string | number;
  whenReached: string;
  unknownPriceUsd: string | number;
  badge: string;
};
export type BudgetErrors = Partial<Record<keyof BudgetInput, string>>;

type Parsed = { ok: true; value: number | null } | { ok: false; message: string };

/** An amount of dollars as typed ("20", "7.50", "$20", "1,000"); empty is none. */
function parseUsd(raw: string | number, label: string, max: number): Parsed {
  const text = String(raw).trim();
  if (text === '') return { ok: true, value: null };
  const shown = text.slice(0, 20);
  const typed = text.replace(/^\$/, '');
  if (/^-/.test(typed))
    return { ok: false, message: `${label} cannot be negative (got ${shown}). Leave it empty for none.` };
  // A comma only groups thousands ("1,000.50"): "7,50" is a European 7.50, never 750.
  if (typed.includes(',') && !/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(typed)) {
    return {
      ok: false,
      message: `${label}: use a dot for cents, such as 7.50; a comma may only group thousands, as in 1,000 (got "${shown}").`,
    };
  }
  const plain = typed.replace(/,/g, '');
  if (!/^\d+(\.\d+)?$/.test(plain) && !/^\.\d+$/.test(plain)) {
    return { ok: false, message: `${label} must be an amount in US dollars, such as 20 or 7.50 (got "${shown}").` };
  }
  const value = Number(plain);
  if (!Number.isFinite(value) || value > max)
    return { ok: false, message: `${label} can be at most ${formatUsd(max)} (got ${shown}).` };
  if (value <= 0)
    return { ok: false, message: `${label} must be more than $0 (got ${shown}). Leave it empty for none.` };
  return { ok: true, value };
}

/** Checks the budget form; every problem is named by its field. */
export function checkBudget(input: BudgetInput): { ok: true; value: Budget } | { ok: false; errors: BudgetErrors } {
  const errors: BudgetErrors = {};
  const monthly = parseUsd(input.monthlyUsd, 'The monthly budget', MAX_BUDGET_USD);
  const daily = parseUsd(input.dailyUsd, 'The daily budget', MAX_BUDGET_USD);
  const unknown = parseUsd(input.unknownPriceUsd, 'The price for unknown models', MAX_UNKNOWN_PRICE_USD);
  if (!monthly.ok) errors.monthlyUsd = monthly.message;
  if (!daily.ok) errors.dailyUsd = daily.message;
  if (!unknown.ok) errors.unknownPriceUsd = unknown.message;
  if (!(WHEN_REACHED as readonly unknown[]).includes(input.whenReached))
    errors.whenReached = 'Pick what happens at the budget: pause sending, or warn only.';
  if (!(BADGE_COUNTS as readonly unknown[]).includes(input.badge))
    errors.badge = 'Pick what the badge counts: requests, dollars or percent of the budget.';
  if (monthly.ok && daily.ok && monthly.value !== null && daily.value !== null && daily.value > monthly.value) {
    errors.dailyUsd = `A daily budget (${formatUsd(daily.value)}) above the monthly one (${formatUsd(monthly.value)}) never applies: lower it or leave it empty.`;
  }
  if (!monthly.ok || !daily.ok || !unknown.ok || Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      monthlyUsd: monthly.value,
      dailyUsd: daily.value,
      whenReached: input.whenReached as WhenReached,
      unknownPriceUsd: unknown.value,
      badge: input.badge as BadgeCount,
    },
  };
}
