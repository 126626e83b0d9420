/**
 * The usage dashboard's model, computed from the day and month totals only (pure: no Dexie, the
 * clock passed in). `summarize` gives everything the page draws and says; the page formats nothing
 * but numbers it is handed.
 */
import { formatCount, formatDay } from '../limits/format';
import { monthWindow } from '../limits/month-window';
import { noMonthCap, PLANS } from '../limits/plans';
import type { Limits, MonthStart } from '../storage/rows';
import type { UsageDay, UsageMonth } from '../storage/db';
import { dayKey, percentile } from './totals';

export const SERIES_DAYS = 30;
const DAY_MS = 86_400_000;
/** Frequent 429s: this many a day on average over the last week... */
const RATE_LIMITED_PER_DAY = 3;
/** ...or this share of the week's requests (with at least MIN_RATE_LIMITED of them). */
const RATE_LIMITED_SHARE = 0.05;
const MIN_RATE_LIMITED = 3;
const WEEK_DAYS = 7;
const TOP_CONVERSATIONS = 5;

interface DayPoint {
  /** Local date, 'YYYY-MM-DD'. */
  day: string;
  /** Local midnight starting the day (for the charts' x axis). */
  start: number;
  requests: number;
  /** The plan's daily pace: perMonth / days in the current month. */
  pace: number;
  inputTokens: number;
  outputTokens: number;
  /** inputTokens + outputTokens. */
  tokens: number;
  errors: number;
  rateLimited: number;
  cacheHits: number;
  costUsd: number;
  /** Web searches run that day and their cost (part of `costUsd`). */
  webSearches: number;
  webSearchUsd: number;
}

export interface Projection {
  /** Requests by the end of the month at the month-to-date rate (rounded). */
  requests: number;
  /** When the month's limit is reached at that rate, if before the month ends. */
  reachesLimitAt: number | null;
  sentence: string;
}

interface Suggestion {
  reason: 'projection' | 'rate_limited' | 'both';
  /** The smallest plan that fits, or null when none does. */
  plan: keyof typeof PLANS | null;
  text: string;
}

export interface UsageSummary {
  /** Nothing sent and nothing answered from the cache, in the last 30 days or this month. */
  empty: boolean;
  /** The last 30 local days, oldest first, today last; a day without usage is zeros. */
  days: DayPoint[];
  dailyPace: number;
  month: {
    key: string;
    start: number;
    end: number;
    requests: number;
    perMonth: number;
    costUsd: number;
    /** Requests whose cost is unknown (model not in the price table): not in `costUsd`. */
    unknownCost: number;
    errors: number;
    rateLimited: number;
    /** Web searches run this month and what they cost at $0.01 each (part of `costUsd`). */
    webSearches: number;
    webSearchUsd: number;
  };
  projection: Projection;
  /** Milliseconds, as histogram bucket upper bounds; null when nothing was measured. */
  latency: { median: number | null; p95: number | null; ttftMedian: number | null; ttftP95: number | null };
  /** `inputCostUsd`: the prompt's part (input, cache writes and reads); null when not recorded. */
  topConversations: { id: string; title: string | null; costUsd: number; inputCostUsd: number | null }[];
  /** Pace's response cache (`hits`, `savedUsd`) and what Anthropic's prompt cache saved. */
  cache: { hits: number; savedUsd: number; promptCacheSavedUsd: number };
  suggestion: Suggestion | null;
}

export interface SummaryInput {
  days: UsageDay[];
  month: UsageMonth | undefined;
  limits: Limits;
  now: number;
  titles?: Record<string, string>;
}

/** The summary with the conversations' titles filled in (known only once their ids are). */
export function withTitles(summary: UsageSummary, titles: Record<string, string>): UsageSummary {
  return { ...summary, topConversations: summary.topConversations.map((c) => ({ ...c, title: titles[c.id] ?? null })) };
}

export function summarize({ days, month, limits, now, titles = {} }: SummaryInput): UsageSummary {
  const window = monthWindow(now, limits.monthStart);
  const daysInMonth = Math.round((window.end - window.start) / DAY_MS);
  const dailyPace = limits.perMonth / daysInMonth;
  const series = lastDays(days, now, dailyPace);

  const used = month?.requests ?? 0;
  const projection = project(used, limits.perMonth, now, window, limits.monthStart);
  const week = series.slice(-WEEK_DAYS);
  const weekRateLimited = sum(week, (d) => d.rateLimited);
  const weekRequests = sum(week, (d) => d.requests);

  const topConversations = Object.entries(month?.conversations ?? {})
    .filter(([, cost]) => cost > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, TOP_CONVERSATIONS)
    .map(([id, costUsd]) => ({ id, title: null, costUsd, inputCostUsd: month?.conversationsInput?.[id] ?? null }));

  const empty = !month?.requests && !month?.cacheHits && series.every((d) => d.requests === 0 && d.cacheHits === 0);

  return withTitles(
    {
      empty,
      days: series,
      dailyPace,
      month: {
        key: window.key,
        start: window.start,
        end: window.end,
        requests: used,
        perMonth: limits.perMonth,
        costUsd: month?.costUsd ?? 0,
        unknownCost: month?.unknownCost ?? 0,
        errors: month?.errors ?? 0,
        rateLimited: month?.rateLimited ?? 0,
        webSearches: month?.webSearches ?? 0,
        webSearchUsd: month?.webSearchUsd ?? 0,
      },
      projection,
      latency: {
        median: month ? percentile(month.latency, 50) : null,
        p95: month ? percentile(month.latency, 95) : null,
        ttftMedian: month ? percentile(month.ttft, 50) : null,
        ttftP95: month ? percentile(month.ttft, 95) : null,
      },
      topConversations,
      cache: {
        hits: month?.cacheHits ?? 0,
        savedUsd: month?.savedUsd ?? 0,
        promptCacheSavedUsd: month?.promptCacheSavedUsd ?? 0,
      },
      suggestion: suggest(limits, projection.requests, used, weekRateLimited, weekRequests),
    },
    titles,
  );
}

function lastDays(days: UsageDay[], now: number, pace: number): DayPoint[] {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const today = new Date(now);
  const out: DayPoint[] = [];
  for (let back = SERIES_DAYS - 1; back >= 0; back--) {
    // The Date constructor normalises day 0, -1... into the previous month, at local midnight.
    const start = new Date(today.getFullYear(), today.getMonth(), today.getDate() - back).getTime();
    const key = dayKey(start);
    const d = byDay.get(key);
    out.push({
      day: key,
      start,
      requests: d?.requests ?? 0,
      pace,
      inputTokens: d?.inputTokens ?? 0,
      outputTokens: d?.outputTokens ?? 0,
      tokens: (d?.inputTokens ?? 0) + (d?.outputTokens ?? 0),
      errors: d?.errors ?? 0,
      rateLimited: d?.rateLimited ?? 0,
      cacheHits: d?.cacheHits ?? 0,
      costUsd: d?.costUsd ?? 0,
      webSearches: d?.webSearches ?? 0,
      webSearchUsd: d?.webSearchUsd ?? 0,
    });
  }
  return out;
}

/**
 * Linear: the month-to-date rate carried on to the month's end. The rate is taken over at least
 * one day, so a few requests in the month's first minutes do not project to thousands.
 */
export function project(
  used: number,
  perMonth: number,
  now: number,
  window: { start: number; end: number },
  mode: MonthStart,
): Projection {
  const end = formatDay(window.end, mode);
  if (noMonthCap({ perMonth })) {
    const elapsedMs = Math.min(window.end - window.start, Math.max(now - window.start, DAY_MS));
    const requests = used <= 0 ? 0 : Math.round(used + (used / elapsedMs) * Math.max(0, window.end - now));
    return {
      requests,
      reachesLimitAt: null,
      sentence: `At this pace you will send about ${formatCount(requests)} requests by ${end}; this plan has no monthly request cap.`,
    };
  }
  if (used <= 0)
    return {
      requests: 0,
      reachesLimitAt: null,
      sentence: `Nothing sent yet this month; ${formatCount(perMonth)} requests are left until ${end}.`,
    };
  if (used >= perMonth) {
    return {
      requests: used,
      reachesLimitAt: null,
      sentence: `You have used all ${formatCount(perMonth)} requests of this month; they reset on ${end}.`,
    };
  }
  const elapsed = Math.min(window.end - window.start, Math.max(now - window.start, DAY_MS));
  const rate = used / elapsed;
  const requests = Math.round(used + rate * Math.max(0, window.end - now));
  const reachAt = now + (perMonth - used) / rate;
  if (reachAt < window.end) {
    return {
      requests,
      reachesLimitAt: reachAt,
      sentence: `At this pace you reach ${formatCount(perMonth)} requests on ${formatDay(reachAt, mode)}.`,
    };
  }
  return {
    requests,
    reachesLimitAt: null,
    sentence: `At this pace you will use about ${formatCount(about(requests, perMonth))} of ${formatCount(perMonth)} requests by ${end}.`,
  };
}

/** Two significant figures (3,187 -> 3,200), unless that would round up to the limit. */
function about(n: number, limit: number): number {
  if (n < 100) return n;
  const step = 10 ** (Math.floor(Math.log10(n)) - 1);
  const r = Math.round(n / step) * step;
  return r >= limit && n < limit ? n : r;
}

function suggest(
  limits: Limits,
  projected: number,
  used: number,
  weekRateLimited: number,
  weekRequests: number,
): Suggestion | null {
  const over = Math.max(projected, used) > limits.perMonth;
  const refused =
    weekRateLimited >= RATE_LIMITED_PER_DAY * WEEK_DAYS ||
    (weekRateLimited >= MIN_RATE_LIMITED && weekRequests > 0 && weekRateLimited / weekRequests >= RATE_LIMITED_SHARE);
  if (!over && !refused) return null;

  const need = Math.max(projected, used);
  const limit = formatCount(limits.perMonth);
  const overWhat = limits.plan === 'custom' ? `your limit of ${limit}` : `${PLANS[limits.plan].label}'s ${limit}`;
  const candidates = (Object.keys(PLANS) as (keyof typeof PLANS)[])
    .map((id) => ({ id, ...PLANS[id] }))
    // Anthropic's tiers cap spend, not requests a month: they are presets for the per-minute limits, not suggestions here.
    .filter((p) => p.spendCapUsd === undefined)
    .sort((a, b) => a.perMonth - b.perMonth || a.perMinute - b.perMinute);
  const fit = candidates.find(
    (p) =>
      p.id !== limits.plan &&
      p.perMonth >= Math.max(need, limits.perMonth) &&
      (!over || p.perMonth > limits.perMonth) &&
      (!refused || p.perMinute > limits.perMinute),
  );

  const parts: string[] = [];
  if (over) parts.push(`Projected ${formatCount(about(need, Infinity))} requests this month, over ${overWhat}.`);
  if (refused) {
    const share = weekRequests > 0 ? Math.round((weekRateLimited / weekRequests) * 1000) / 10 : 0;
    parts.push(
      `Anthropic refused ${formatCount(weekRateLimited)} requests as rate limited in the last 7 days (${share}% of those sent).`,
    );
  }
  parts.push(
    fit
      ? `${fit.label} allows ${formatCount(fit.perMonth)} a month and ${formatCount(fit.perMinute)} a minute.`
      : 'No plan here allows more: set Custom limits that match your Anthropic account.',
  );
  return {
    reason: over && refused ? 'both' : over ? 'projection' : 'rate_limited',
    plan: fit?.id ?? null,
    text: parts.join(' '),
  };
}

/** "$12.40", "$0.0042" (a cent is too coarse for a single short answer), "$0.00". */
export function formatUsd(n: number): string {
  if (n > 0 && n < 0.01) return `$${n.toFixed(4)}`;
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** "340 ms", "1.9 s", "2 min"; "-" when nothing was measured. */
export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })} s`;
  return `${(ms / 60_000).toLocaleString('en-US', { maximumFractionDigits: 1 })} min`;
}

function sum<T>(xs: T[], f: (x: T) => number): number {
  return xs.reduce((a, x) => a + f(x), 0);
}
