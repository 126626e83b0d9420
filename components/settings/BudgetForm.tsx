import { useLiveQuery } from 'dexie-react-hooks';
import { NO_BUDGET, type BudgetErrors, type BudgetInput } from '@/lib/limits/budget';
import type { Budget } from '@/lib/storage/rows';
import { readBudget } from '@/lib/limits/budget-store';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { getDb } from '@/lib/storage/db';
import { FieldError, notSaved, SaveRow } from './form-parts';
import { useDraft } from './use-draft';

type Draft = { monthlyUsd: string; dailyUsd: string; whenReached: string; unknownPriceUsd: string; badge: string };

const amount = (n: number | null) => (n === null ? '' : String(n));
const toDraft = (b: Budget): Draft => ({
  ...b,
  monthlyUsd: amount(b.monthlyUsd),
  dailyUsd: amount(b.dailyUsd),
  unknownPriceUsd: amount(b.unknownPriceUsd),
});

/** The spend budget in US dollars; the background checks it and applies it at once. */
export function BudgetForm({ client }: { client: BackgroundClient }) {
  // useLiveQuery gives undefined while loading: null (no budget saved) is a loaded value.
  const saved = useLiveQuery(async () => (await readBudget(getDb())) ?? NO_BUDGET, []);
  const form = useDraft<Budget, Draft, keyof BudgetErrors>(saved, toDraft);
  const { draft, errors, message } = form;

  if (!draft) return null;
  const change = (patch: Partial<Draft>) => form.edit({ ...draft, ...patch });

  const save = async () => {
    const r = await client.request('budget.save', draft satisfies BudgetInput);
    if (r.ok)
      form.saved(
        r.data,
        r.data.monthlyUsd === null && r.data.dailyUsd === null
          ? 'Saved: no spend budget.'
          : 'Saved: the budget applies at once, to waiting messages too.',
      );
    else form.failed(r.error.fields ?? {}, notSaved(r.error.message));
  };

  return (
    <section aria-labelledby="budget-heading">
      <h2 id="budget-heading">Spend budget</h2>
      <p className="hint">
        The most Pace may spend, in US dollars at Anthropic&apos;s list prices. Each request holds its worst case (its
        prompt and the whole answer length) until its answer says what it cost, so several at once cannot pass the
        budget. Leave empty for none.
      </p>
      <label htmlFor="budget-monthly">Monthly budget (US$)</label>
      <input
        id="budget-monthly"
        inputMode="decimal"
        placeholder="none"
        value={draft.monthlyUsd}
        onChange={(e) => change({ monthlyUsd: e.target.value })}
      />
      <FieldError error={errors.monthlyUsd} />
      <label htmlFor="budget-daily">Daily budget (US$)</label>
      <input
        id="budget-daily"
        inputMode="decimal"
        placeholder="none"
        value={draft.dailyUsd}
        onChange={(e) => change({ dailyUsd: e.target.value })}
      />
      <FieldError error={errors.dailyUsd} />
      <div className="row" role="radiogroup" aria-label="When the budget is reached">
        <label className="check">
          <input
            type="radio"
            name="when-reached"
            value="pause"
            checked={draft.whenReached === 'pause'}
            onChange={() => change({ whenReached: 'pause' })}
          />
          Pause: send nothing more until the month (or day) turns
        </label>
        <label className="check">
          <input
            type="radio"
            name="when-reached"
            value="warn"
            checked={draft.whenReached === 'warn'}
            onChange={() => change({ whenReached: 'warn' })}
          />
          Warn only: keep sending, and say the budget is passed
        </label>
      </div>
      <FieldError error={errors.whenReached} />
      <label htmlFor="budget-unknown">Count unknown prices as (US$ per million tokens)</label>
      <input
        id="budget-unknown"
        inputMode="decimal"
        placeholder="refuse models with no known price"
        value={draft.unknownPriceUsd}
        onChange={(e) => change({ unknownPriceUsd: e.target.value })}
      />
      <FieldError error={errors.unknownPriceUsd} />
      <label htmlFor="budget-badge">The toolbar badge counts down</label>
      <select id="budget-badge" value={draft.badge} onChange={(e) => change({ badge: e.target.value })}>
        <option value="requests">Requests left this month</option>
        <option value="dollars">Dollars left of the budget</option>
        <option value="percent">Percent of the budget left</option>
      </select>
      <FieldError error={errors.badge} />
      <SaveRow label="Save budget" onSave={() => void save()} message={message} testId="budget-message" />
    </section>
  );
}
