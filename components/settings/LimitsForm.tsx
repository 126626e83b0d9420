import { useLiveQuery } from 'dexie-react-hooks';
import { readLimits } from '@/lib/limits/limiter-store';
import { PLAN_IDS, PLANS, planLabel, TIERS_AS_OF, type LimitsErrors, type LimitsInput } from '@/lib/limits/plans';
import type { Limits } from '@/lib/storage/rows';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { getDb } from '@/lib/storage/db';
import { FieldError, notSaved, SaveRow } from './form-parts';
import { LearnedLimits } from './LearnedLimits';
import { useDraft } from './use-draft';

type Draft = {
  plan: string;
  perMinute: string;
  perMonth: string;
  smooth: boolean;
  monthStart: string;
  inputPerMinute: string;
  outputPerMinute: string;
};

const optional = (n: number | null | undefined) => (n ? String(n) : '');
const toDraft = (l: Limits): Draft => ({
  ...l,
  perMinute: String(l.perMinute),
  perMonth: String(l.perMonth),
  inputPerMinute: optional(l.inputPerMinute),
  outputPerMinute: optional(l.outputPerMinute),
});

/** The plan picker and its figures; the background validates and applies them at once. */
export function LimitsForm({ client }: { client: BackgroundClient }) {
  const saved = useLiveQuery(() => readLimits(getDb()), []);
  const form = useDraft<Limits, Draft, keyof LimitsErrors>(saved, toDraft);
  const { draft, errors, message } = form;

  if (!draft) return null;
  const change = (patch: Partial<Draft>) => {
    const next = { ...draft, ...patch };
    if (patch.plan !== undefined && patch.plan !== 'custom') {
      const p = PLANS[patch.plan as keyof typeof PLANS];
      Object.assign(next, {
        perMinute: String(p.perMinute),
        perMonth: String(p.perMonth),
        inputPerMinute: optional(p.inputPerMinute),
        outputPerMinute: optional(p.outputPerMinute),
      });
    }
    form.edit(next);
  };

  const save = async () => {
    const r = await client.request('limits.save', draft satisfies LimitsInput);
    if (r.ok) form.saved(r.data, 'Saved: the new limits apply at once, to waiting messages too.');
    else form.failed(r.error.fields ?? {}, notSaved(r.error.message));
  };

  const custom = draft.plan === 'custom';
  return (
    <section aria-labelledby="limits-heading">
      <h2 id="limits-heading">Request limits</h2>
      <p className="hint">
        Pace sends at most this many requests in any rolling minute and in a calendar month, queuing the rest. Pick your
        Anthropic plan, or your own figures.
      </p>
      <LearnedLimits client={client} />
      <div className="row" role="radiogroup" aria-label="Plan">
        {[...PLAN_IDS, 'custom' as const].map((plan) => (
          <label key={plan} className="check">
            <input
              type="radio"
              name="plan"
              value={plan}
              checked={draft.plan === plan}
              onChange={() => change({ plan })}
            />
            {plan === 'custom' ? 'Custom' : planLabel(plan)}
          </label>
        ))}
      </div>
      <p className="hint">
        Anthropic&apos;s tiers as of {TIERS_AS_OF}, for the default model class; their spend cap is Anthropic&apos;s,
        not a Pace limit.
      </p>
      <label htmlFor="per-minute">Requests per minute</label>
      <input
        id="per-minute"
        inputMode="numeric"
        disabled={!custom}
        value={draft.perMinute}
        onChange={(e) => change({ perMinute: e.target.value })}
      />
      <FieldError error={errors.perMinute} />
      <label htmlFor="per-month">Requests per month</label>
      <input
        id="per-month"
        inputMode="numeric"
        disabled={!custom}
        value={draft.perMonth}
        onChange={(e) => change({ perMonth: e.target.value })}
      />
      <FieldError error={errors.perMonth} />
      <label htmlFor="input-per-minute">Input tokens per minute (empty: no limit)</label>
      <input
        id="input-per-minute"
        inputMode="numeric"
        disabled={!custom}
        value={draft.inputPerMinute}
        onChange={(e) => change({ inputPerMinute: e.target.value })}
      />
      <FieldError error={errors.inputPerMinute} />
      <label htmlFor="output-per-minute">Output tokens per minute (empty: no limit)</label>
      <input
        id="output-per-minute"
        inputMode="numeric"
        disabled={!custom}
        value={draft.outputPerMinute}
        onChange={(e) => change({ outputPerMinute: e.target.value })}
      />
      <FieldError error={errors.outputPerMinute} />
      <p className="hint">
        Token limits count in any rolling minute, as Anthropic does: input is the prompt and prompt-cache writes (cache
        reads are free), estimated before sending; output counts as answers are written, and the next message waits
        while the minute has no room for a whole answer.
      </p>
      <label htmlFor="month-start">The month starts</label>
      <select id="month-start" value={draft.monthStart} onChange={(e) => change({ monthStart: e.target.value })}>
        <option value="utc">00:00 UTC on the 1st (when Anthropic resets)</option>
        <option value="local">Local midnight on the 1st</option>
      </select>
      <label className="check">
        <input type="checkbox" checked={draft.smooth} onChange={(e) => change({ smooth: e.target.checked })} />
        Smooth: spread requests evenly (one every 60/N seconds) instead of a burst of N
      </label>
      <SaveRow label="Save limits" onSave={() => void save()} message={message} testId="limits-message" />
    </section>
  );
}
