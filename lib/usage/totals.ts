/**
 * Folding usage rows into day and month totals (pure). The ledger calls `addRow` / `addMonthRow`
 * for each row it writes, under `dayKey(row.at)` and under each of `monthKeys(row.at)`; the
 * dashboard reads only those totals, never the rows.
 *
 * What counts where:
 * - a row sent to the API (`fromCache` false) is one request; it is `ok` when its outcome is 'ok'
 *   and an error otherwise; it is rate limited when its outcome is 'rate_limited' or its status is
 *   429; its tokens, web searches and their cost, cost, what Anthropic's prompt cache saved, and times are added (an unknown
 *   cost counts in `unknownCost`); a month also keeps each conversation's cost and its prompt part;
 * - a row served from the cache is a cache hit: it adds its `savedUsd` and nothing else (no tokens
 *   were spent and no time was waited on the API);
 * - a row still `sending` (written when the send was admitted, see lib/usage/ledger-store.ts) is
 *   one request, neither ok nor an error yet, with no time measured; one `interrupted` (the worker
 *   was stopped before the attempt ended) is an error with no time measured.
 *
 * When a row changes (a send in flight ends), the ledger takes the old row out (`removeRow`) and
 * puts the new one in, so each send is counted once.
 */
import type { UsageMonth, UsageRow, UsageTotals } from '../storage/db';
import { pad } from '../limits/format';

/**
 * Upper bounds (ms) of the latency histogram's buckets: log-spaced from 50 ms to 10 min, rounded to
 * two significant figures. Bucket i holds values in (bound[i-1], bound[i]]; one more bucket at the
 * end holds everything above 10 min. Stored histograms depend on these: never change them, only
 * append (a longer table still reads old histograms, their missing buckets being zero).
 */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  50, 64, 81, 100, 130, 170, 210, 270, 340, 440, 560, 710, 900, 1100, 1500, 1900, 2400, 3000, 3800, 4900, 6200, 7900,
  10000, 13000, 16000, 21000, 26000, 33000, 42000, 54000, 69000, 87000, 110000, 140000, 180000, 230000, 290000, 370000,
  470000, 600000,
];

/** The outcome of a send admitted and counted whose attempt has not ended yet. */
export const IN_FLIGHT = 'sending';
/** The outcome of a send whose attempt never ended: the worker was stopped in the middle of it. */
export const INTERRUPTED = 'interrupted';
/** The outcome of a request counted into a Message Batch whose answer has not arrived: on its way, like IN_FLIGHT, but for hours. */
export const BATCHED = 'batched';

/** Buckets in a histogram: one per bound, plus the overflow bucket. */
export const HISTOGRAM_SIZE = LATENCY_BUCKETS_MS.length + 1;

export function emptyTotals(): UsageTotals {
  return {
    requests: 0,
    ok: 0,
    errors: 0,
    rateLimited: 0,
    cacheHits: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheTokens: 0,
    costUsd: 0,
    unknownCost: 0,
    savedUsd: 0,
    promptCacheSavedUsd: 0,
    webSearches: 0,
    webSearchUsd: 0,
    latency: new Array<number>(HISTOGRAM_SIZE).fill(0),
    ttft: new Array<number>(HISTOGRAM_SIZE).fill(0),
  };
}

/** The bucket a duration falls in (negative or NaN durations count as 0 ms). */
export function bucketOf(ms: number): number {
  const v = Number.isFinite(ms) && ms > 0 ? ms : 0;
  let lo = 0;
  let hi = LATENCY_BUCKETS_MS.length; // the overflow bucket
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= LATENCY_BUCKETS_MS[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function addTo(hist: readonly number[], ms: number, sign: 1 | -1): number[] {
  const out =
    hist.length >= HISTOGRAM_SIZE ? [...hist] : [...hist, ...new Array<number>(HISTOGRAM_SIZE - hist.length).fill(0)];
  const i = bucketOf(ms);
  out[i] = (out[i] ?? 0) + sign;
  return out;
}

/** `t` with one more row counted; `t` itself is left as it was. */
export function addRow<T extends UsageTotals>(t: T, row: UsageRow): T {
  return countRow(t, row, 1);
}

/** `t` with a row counted before taken out again (the row is about to be replaced). */
export function removeRow<T extends UsageTotals>(t: T, row: UsageRow): T {
  return countRow(t, row, -1);
}

/** Dollars as a sum may take them: a damaged figure (NaN, Infinity, negative) counts as none, so it never makes a total NaN. */
const usd = (v: number | null | undefined): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
/** A token count as a sum may take it: a damaged one counts as none. */
const count = (v: number): number => (Number.isInteger(v) && v >= 0 ? v : 0);
/** What the prompt cache saved may be negative (a request that only wrote), never NaN. */
const finite = (v: number | null | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function countRow<T extends UsageTotals>(t: T, row: UsageRow, sign: 1 | -1): T {
  if (row.fromCache) {
    return { ...t, cacheHits: t.cacheHits + sign, savedUsd: t.savedUsd + sign * usd(row.savedUsd) };
  }
  const ok = row.outcome === 'ok';
  const ended = row.outcome !== IN_FLIGHT && row.outcome !== BATCHED;
  const timed = ended && row.outcome !== INTERRUPTED;
  return {
    ...t,
    requests: t.requests + sign,
    ok: t.ok + (ok ? sign : 0),
    errors: t.errors + (ok || !ended || row.outcome === 'cache' ? 0 : sign),
    rateLimited: t.rateLimited + (row.outcome === 'rate_limited' || row.status === 429 ? sign : 0),
    inputTokens: t.inputTokens + sign * count(row.usage.inputTokens),
    outputTokens: t.outputTokens + sign * count(row.usage.outputTokens),
    cacheTokens: t.cacheTokens + sign * (count(row.usage.cacheReadTokens) + count(row.usage.cacheCreationTokens)),
    costUsd: t.costUsd + sign * usd(row.costUsd),
    unknownCost: t.unknownCost + (costUnknown(row) ? sign : 0),
    promptCacheSavedUsd: (t.promptCacheSavedUsd ?? 0) + sign * finite(row.promptCacheSavedUsd),
    webSearches: (t.webSearches ?? 0) + sign * count(row.usage.webSearches ?? 0),
    webSearchUsd: (t.webSearchUsd ?? 0) + sign * usd(row.webSearchUsd),
    latency: timed ? addTo(t.latency, row.totalMs, sign) : t.latency,
    ttft: !timed || row.ttftMs === null ? t.ttft : addTo(t.ttft, row.ttftMs, sign),
  };
}

export function emptyMonth(month: string): UsageMonth {
  return { month, ...emptyTotals(), conversations: {}, conversationsInput: {} };
}

/** `m` with one more row counted, and the row's cost added to its conversation's. */
export function addMonthRow(m: UsageMonth, row: UsageRow): UsageMonth {
  return countMonthRow(m, row, 1);
}

/** `m` with a row counted before taken out again, its cost taken from its conversation's. */
export function removeMonthRow(m: UsageMonth, row: UsageRow): UsageMonth {
  return countMonthRow(m, row, -1);
}

/** A row whose cost is not known: null, or a damaged figure taken as none. */
const costUnknown = (row: UsageRow) =>
  row.costUsd === null || (row.costUsd !== undefined && usd(row.costUsd) !== row.costUsd);

function countMonthRow(m: UsageMonth, row: UsageRow, sign: 1 | -1): UsageMonth {
  const next = countRow(m, row, sign);
  if (row.fromCache || costUnknown(row)) return next;
  const id = row.conversationId;
  const conversations = { ...m.conversations, [id]: (m.conversations[id] ?? 0) + sign * usd(row.costUsd) };
  // A row from before the prompt's part was recorded leaves it as it was (unknown, if nothing else added to it).
  if (row.inputCostUsd === undefined || row.inputCostUsd === null) return { ...next, conversations };
  const input = m.conversationsInput ?? {};
  return {
    ...next,
    conversations,
    conversationsInput: { ...input, [id]: (input[id] ?? 0) + sign * usd(row.inputCostUsd) },
  };
}

/**
 * The duration below which `p` percent of a histogram's values fall, as the upper bound of the
 * bucket holding the nearest-rank value (so "p95 <= 1.9 s", never interpolated). Values in the
 * overflow bucket report its lower bound, 10 min. Null for an empty histogram.
 */
export function percentile(hist: readonly number[], p: number): number | null {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * total));
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i] ?? 0;
    if (seen >= rank) return LATENCY_BUCKETS_MS[Math.min(i, LATENCY_BUCKETS_MS.length - 1)]!;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!;
}

/** The local date of a moment, 'YYYY-MM-DD': the key of its UsageDay. */
export function dayKey(t: number): string {
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
