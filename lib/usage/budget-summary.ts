/**
 * The usage page's spend against the monthly budget (pure): this month's spend day by day, added
 * up, beside the budget, and the projection in dollars ("at this pace you reach $20.00 on 24 Dec").
 */
import { formatDay } from '../limits/format';
import type { MonthStart } from '../storage/rows';
import type { PeriodSpend } from '../limits/budget';
import type { UsageDay } from '../storage/db';
import { formatUsd } from './summary';
import { dayKey } from './totals';

const DAY_MS = 24 * 60 * 60 * 1000;

interface BudgetSpendDay {
  start: number;
  spent: number;
  /** Spent this month up to the end of this day. */
  total: number;
}

export interface BudgetSpend {
  limit: number;
  spent: number;
  days: BudgetSpendDay[];
  reachesBudgetAt: number | null;
  sentence: string;
}

/** `month` is the budget's month (its settled spend and end); `days` the ledger's local days. */
export function budgetSpend(
  now: number,
  month: PeriodSpend,
  start: number,
  days: UsageDay[],
  mode: MonthStart,
): BudgetSpend {
  const byKey = new Map(days.map((d) => [d.day, d.costUsd]));
  const out: BudgetSpendDay[] = [];
  let total = 0;
  for (
    let t = new Date(start).setHours(0, 0, 0, 0);
    t <= now;
    t = new Date(new Date(t).setDate(new Date(t).getDate() + 1)).getTime()
  ) {
    const spent = byKey.get(dayKey(t)) ?? 0;
    total += spent;
    out.push({ start: t, spent, total });
  }
  return {
    limit: month.limit,
    spent: month.settled,
    days: out,
    ...projectSpend(month.settled, month.limit, now, start, month.end, mode),
  };
}

/** Linear, as the request projection: the month-to-date rate (over at least a day) carried on to the month's end. */
export function projectSpend(
  spent: number,
  limit: number,
  now: number,
  start: number,
  end: number,
  mode: MonthStart,
): { reachesBudgetAt: number | null; sentence: string } {
  const endText = formatDay(end, mode);
  if (spent <= 0)
    return {
      reachesBudgetAt: null,
      sentence: `Nothing spent yet this month; ${formatUsd(limit)} of budget until ${endText}.`,
    };
  if (spent >= limit)
    return {
      reachesBudgetAt: null,
      sentence: `You have spent ${formatUsd(spent)} of your ${formatUsd(limit)} budget this month; it resets on ${endText}.`,
    };
  const rate = spent / Math.min(end - start, Math.max(now - start, DAY_MS));
  const reachAt = now + (limit - spent) / rate;
  if (reachAt < end)
    return {
      reachesBudgetAt: reachAt,
      sentence: `At this pace you reach ${formatUsd(limit)} on ${formatDay(reachAt, mode)}.`,
    };
  const projected = spent + rate * Math.max(0, end - now);
  return {
    reachesBudgetAt: null,
    sentence: `At this pace you will spend about ${formatUsd(projected)} of your ${formatUsd(limit)} budget by ${endText}.`,
  };
}
