/**
 * Browser notifications for the spend budget (80%, 95%, 100% of each period, once each): decided
 * and recorded in one transaction, so two checks at once never show the same alert twice.
 */
import { coalesce } from '../coalesce';
import { formatReset } from '../limits/format';
import { hasBudget, periodSpends } from '../limits/budget';
import { leastNextUsd } from '../limits/budget-reached';
import { loadSpend, readBudget } from '../limits/budget-store';
import { readLimits } from '../limits/limiter-store';
import type { UsagePrefs } from '../settings/usage-prefs';
import type { PaceDB } from '../storage/db';
import { budgetAlertText, dueBudgetAlerts } from './budget-alerts';
import type { Notify } from './usage-notifications';
import { warn } from '../warn';

export interface BudgetAlertDeps {
  db: PaceDB;
  prefs: () => Promise<Pick<UsagePrefs, 'alerts'>>;
  notify: Notify;
  /** The model and answer length the next request is sent with: too little left for it is the budget reached. */
  settings: () => Promise<{ model: string; maxTokens: number }>;
  now?: () => number;
  log?: (message: string, detail?: unknown) => void;
}

export function createBudgetAlerts(deps: BudgetAlertDeps): { check(): Promise<void> } {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? warn;

  async function checkOnce(): Promise<void> {
    // Asked after every queue run: with no budget set (the usual case) one read is all it costs.
    if (!hasBudget(await readBudget(db))) return;
    const [{ alerts }, settings] = await Promise.all([deps.prefs(), deps.settings()]);
    const t = now();
    const decided = await db.transaction('rw', [db.meta, db.usageMonths, db.usageDays], async () => {
      const [loaded, limits, row] = await Promise.all([loadSpend(db, t), readLimits(db), db.meta.get('budgetAlerts')]);
      if (!hasBudget(loaded.budget)) return null;
      const periods = periodSpends(t, limits.monthStart, loaded.budget, loaded.spend, loaded.ledger(limits.monthStart));
      const due = dueBudgetAlerts(
        row?.key === 'budgetAlerts' ? row.value : null,
        loaded.budget,
        periods,
        alerts,
        leastNextUsd(loaded.budget, settings),
      );
      if (due.fire.length > 0) await db.meta.put({ key: 'budgetAlerts', value: due.state });
      return { due, budget: loaded.budget, monthStart: limits.monthStart };
    });
    for (const alert of decided?.due.fire ?? []) {
      const reset = formatReset(alert.period.end, alert.period.period === 'month' ? decided!.monthStart : 'local');
      const { title, body } = budgetAlertText(alert, decided!.budget, reset);
      await deps.notify(`pace-budget-${alert.period.key}-${alert.threshold}`, title, body);
    }
  }

  const check = coalesce(checkOnce, (err) => log('could not check the budget alerts', err));
  return { check };
}
