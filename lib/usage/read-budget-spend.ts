/** The usage page's spend against the budget, read from the budget and the day totals; null without a monthly budget. */
import { readBudgetView } from '../limits/budget-store';
import { monthWindow } from '../limits/month-window';
import type { PaceDB } from '../storage/db';
import { budgetSpend, type BudgetSpend } from './budget-summary';
import { dayKey } from './totals';

export async function readBudgetSpend(db: PaceDB, now: number): Promise<BudgetSpend | null> {
  const view = await readBudgetView(db, now);
  const month = view?.periods.find((p) => p.period === 'month');
  if (!view || !month) return null;
  const start = monthWindow(now, view.monthStart).start;
  const days = await db.usageDays.where('day').between(dayKey(start), dayKey(now), true, true).toArray();
  return budgetSpend(now, month, start, days, view.monthStart);
}
