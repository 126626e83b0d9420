import { useLiveQuery } from 'dexie-react-hooks';
import { levelFor } from '@/lib/badge/badge-text';
import { leftIn, passedText, type PeriodSpend } from '@/lib/limits/budget';
import { budgetReached, leastNextUsd } from '@/lib/limits/budget-reached';
import { readBudgetView } from '@/lib/limits/budget-store';
import { getDb } from '@/lib/storage/db';
import { settingsItem } from '@/lib/settings/settings-items';
import { formatUsd } from '@/lib/usage/summary';
import { useStored } from '../settings/use-stored';

const when = (p: PeriodSpend) => (p.period === 'month' ? 'this month' : 'today');

/**
 * Dollars left of the spend budget this month and today, beside the requests left; nothing when no
 * budget is set. In pause mode, a period with too little left for the next request says the budget
 * is reached rather than show dollars no message can use.
 */
export function BudgetLeft({ now }: { now: number }) {
  // Read again each minute as well as on every write, so a period that turns shows without one.
  const minute = Math.floor(now / 60_000);
  const view = useLiveQuery(() => readBudgetView(getDb(), Date.now()), [minute]);
  const settings = useStored(settingsItem);
  if (!view) return null;
  const leastNext = settings && leastNextUsd(view.budget, settings);
  const passed = view.budget.whenReached === 'warn' ? view.periods.filter((p) => p.settled >= p.limit) : [];
  return (
    <>
      <div className="quota-row" data-testid="quota-budget">
        {view.periods.map((p) => {
          if (view.budget.whenReached === 'pause' && budgetReached(p, view.budget, leastNext)) {
            return (
              <span key={p.period} className="level-none" data-testid={`quota-budget-${p.period}`}>
                <strong>Budget reached</strong> {when(p)}: {formatUsd(p.settled)} of {formatUsd(p.limit)} spent
              </span>
            );
          }
          const level = levelFor(leftIn(p), p.limit);
          return (
            <span key={p.period} className={`level-${level}`} data-testid={`quota-budget-${p.period}`}>
              <strong>{formatUsd(leftIn(p))}</strong> of {formatUsd(p.limit)} left {when(p)}
            </span>
          );
        })}
      </div>
      {passed.length > 0 && (
        <p className="quota-paused" role="status" data-testid="quota-budget-passed">
          Budget passed: {passed.map(passedText).join('; ')}. Pace keeps sending (warn only).
        </p>
      )}
    </>
  );
}
