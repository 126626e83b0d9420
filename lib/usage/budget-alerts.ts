/**
 * The spend budget's alerts (pure): at 80%, 95% and 100% of each period's budget, once each per
 * period, by the same rules as the request alerts (lib/usage/alerts.ts `dueAlerts`). Only what is
 * spent counts, not what requests on their way hold; a budget reached (lib/limits/budget-reached.ts:
 * in pause mode, too little left for the next request) counts as 100%. In warn-only mode the 100%
 * alert always shows: it is how that mode warns.
 */
import type { PeriodSpend } from '../limits/budget';
import type { Budget } from '../storage/rows';
import { budgetReached } from '../limits/budget-reached';
import type { BudgetAlertState } from '../storage/db';
import { dueAlerts, type AlertToggles, type Threshold } from './alerts';
import { formatUsd } from './summary';

export interface DueBudgetAlert {
  period: PeriodSpend;
  threshold: Threshold;
}

export function dueBudgetAlerts(
  state: BudgetAlertState | null,
  budget: Budget,
  periods: PeriodSpend[],
  enabled: AlertToggles,
  /** The least the next request reserves (lib/limits/budget-reached.ts `leastNextUsd`); null when unknown. */
  leastNext: number | null = null,
): { fire: DueBudgetAlert[]; state: BudgetAlertState } {
  const toggles = budget.whenReached === 'warn' ? { ...enabled, at100: true } : enabled;
  const next: BudgetAlertState = {
    month: state?.month ?? { month: '', fired: [] },
    day: state?.day ?? { month: '', fired: [] },
  };
  const fire: DueBudgetAlert[] = [];
  for (const p of periods) {
    const used = budgetReached(p, budget, leastNext) ? Math.max(p.settled, p.limit) : p.settled;
    const due = dueAlerts(next[p.period], p.key, used, p.limit, toggles);
    next[p.period] = due.state;
    for (const threshold of due.fire) fire.push({ period: p, threshold });
  }
  return { fire, state: next };
}

/** The notification; `resetText` is when the period turns ("1 Dec, 00:00 UTC"). */
export function budgetAlertText(
  { period: p, threshold }: DueBudgetAlert,
  budget: Budget,
  resetText: string,
): { title: string; body: string } {
  const which = p.period === 'month' ? "this month's" : "today's";
  const spent = `${formatUsd(p.settled)} of your ${formatUsd(p.limit)} ${p.period === 'month' ? 'monthly' : 'daily'} budget spent`;
  if (threshold < 100)
    return { title: `Pace: ${threshold}% of ${which} spend budget used`, body: `${spent}; it resets ${resetText}.` };
  return budget.whenReached === 'warn'
    ? {
        title: `Pace: ${which} spend budget is passed`,
        body: `${spent}. Warn only: Pace keeps sending; choose "Pause" under Spend budget in the options to stop at the budget.`,
      }
    : { title: `Pace: ${which} spend budget is used`, body: `${spent}. Pace sends nothing more until ${resetText}.` };
}
