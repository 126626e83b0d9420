/** What the toolbar icon shows: quota -> badge text, colour and tooltip. Pure; applied in lib/badge/badge-updater.ts. */
import type { Quota } from '../limits/admission';
import { formatCount, formatReset } from '../limits/format';
import { noMonthCap } from '../limits/plans';
import type { Limits, BadgeCount } from '../storage/rows';
import { compactUsd, leftIn, type PeriodSpend } from '../limits/budget';
import { formatUsd } from '../usage/summary';

export interface BadgeView {
  text: string;
  color: string;
  title: string;
}

export const BADGE_COLORS = { ok: '#2e7d32', low: '#b26a00', none: '#c62828', wait: '#455a64' } as const;

export type Level = 'ok' | 'low' | 'none';

/** The one colour rule of the badge and the popup: none left, 20% or less left, or more. */
export function levelFor(left: number, of: number): Level {
  if (left <= 0) return 'none';
  return of > 0 && left / of <= 0.2 ? 'low' : 'ok';
}

/** A count in at most four characters: 4812, 12k, 250k, 3M. */
export function compactCount(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${Math.floor(n / 1000)}k`;
  if (n < 1_000_000_000) return `${Math.floor(n / 1_000_000)}M`;
  return `${Math.floor(n / 1_000_000_000)}B`;
}

/** What of the queue the badge shows (the popup's whole view is lib/queue/queue-view.ts's QueueView). */
export interface QueueWait {
  /** Jobs waiting to be sent. */
  waiting: number;
  /** When the job at the head of the queue may go, if it waits for the minute window. */
  minuteWaitUntil: number | null;
}

/** The spend budget's periods (lib/limits/budget.ts) and what the badge counts down. */
export interface BudgetBadge {
  count: BadgeCount;
  periods: PeriodSpend[];
}

/** The request count the badge counts down and the popup colours: the month's, or with no monthly cap (a tier preset) the minute's. */
export function countedFigure(limits: Limits, q: Quota): { per: 'minute' | 'month'; left: number; level: Level } {
  if (noMonthCap(limits)) return { per: 'minute', left: q.minuteLeft, level: levelFor(q.minuteLeft, limits.perMinute) };
  return { per: 'month', left: q.monthLeft, level: levelFor(q.monthLeft, limits.perMonth) };
}

export function badgeFor(
  now: number,
  limits: Limits,
  q: Quota,
  queue: QueueWait,
  budget: BudgetBadge | null = null,
): BadgeView {
  const counted = countedFigure(limits, q);
  const uncapped = counted.per === 'minute';
  const parts = [
    uncapped
      ? `Pace: ${formatCount(q.minuteLeft)} of ${formatCount(limits.perMinute)} requests left this minute (no monthly request cap)`
      : `Pace: ${formatCount(q.monthLeft)} of ${formatCount(limits.perMonth)} requests left this month (resets ${formatReset(q.monthResetAt, limits.monthStart)})`,
    ...(uncapped ? [] : [`${formatCount(q.minuteLeft)} of ${formatCount(limits.perMinute)} left this minute`]),
  ];
  for (const p of budget?.periods ?? [])
    parts.push(
      `${formatUsd(leftIn(p))} of the ${formatUsd(p.limit)} budget left ${p.period === 'month' ? 'this month' : 'today'}`,
    );
  if (queue.waiting > 0) parts.push(`${formatCount(queue.waiting)} waiting to be sent`);
  const title = parts.join('\n');
  if (queue.minuteWaitUntil !== null && queue.minuteWaitUntil > now && q.monthLeft > 0) {
    const seconds = Math.ceil((queue.minuteWaitUntil - now) / 1000);
    return { text: `${Math.min(seconds, 999)}s`, color: BADGE_COLORS.wait, title };
  }
  const spend = budget && budget.count !== 'requests' ? budgetBadge(budget.count, budget.periods) : null;
  return spend ? { ...spend, title } : { text: compactCount(counted.left), color: BADGE_COLORS[counted.level], title };
}

/** The budget's tightest period as the badge: dollars ("$3.2") or percent ("64%") left, coloured as the requests are. */
function budgetBadge(count: Exclude<BadgeCount, 'requests'>, periods: PeriodSpend[]): Omit<BadgeView, 'title'> | null {
  const shareOf = (p: PeriodSpend) => (p.limit > 0 ? leftIn(p) / p.limit : 0);
  const tightest = periods.reduce<PeriodSpend | null>((a, p) => (a === null || shareOf(p) < shareOf(a) ? p : a), null);
  if (!tightest) return null;
  const color = BADGE_COLORS[levelFor(leftIn(tightest), tightest.limit)];
  return {
    text: count === 'dollars' ? compactUsd(leftIn(tightest)) : `${Math.floor(shareOf(tightest) * 100)}%`,
    color,
  };
}
