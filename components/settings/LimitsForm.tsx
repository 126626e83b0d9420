import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useState } from 'react';
import { formatCount } from '@/lib/limits/format';
import { readLimits } from '@/lib/limits/limiter-store';
import { PLANS, type Limits, type LimitsErrors, type LimitsInput } from '@/lib/limits/plans';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { getDb } from '@/lib/storage/db';
import { FieldError, notSaved, SaveRow } from './form-parts';

type Draft = { plan: string; perMinute: string; perMonth: string; smooth: boolean; monthStart: string };

const toDraft = (l: Limits): Draft => ({ ...l, perMinute: String(l.perMinute), perMonth: String(l.perMonth) });

/** The plan picker and its figures; the background validates and applies them at once. */
export function LimitsForm({ client }: { client: BackgroundClient }) {
  const saved = useLiveQuery(() => readLimits(getDb()), []);
  const [draft, setDraft] = useState<Draft | null>(null);
  /** The user changed a field since the draft last matched the saved limits (which another page may change). */
  const [edited, setEdited] = useState(false);
  const [errors, setErrors] = useState<LimitsErrors>({});
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    if (saved && !edited) setDraft(toDraft(saved));
  }, [saved, edited]);

  if (!draft) return null;
  const change = (patch: Partial<Draft>) => {
    const next = { ...draft, ...patch };
    if (patch.plan === 'free' || patch.plan === 'paid') {
      next.perMinute = String(PLANS[patch.plan].perMinute);
      next.perMonth = String(PLANS[patch.plan].perMonth);
    }
    setDraft(next);
    setEdited(true);
    setErrors({});
    setMessage(null);
  };

  const save = async () => {
    const r = await client.request('limits.save', draft satisfies LimitsInput);
    if (r.ok) {
      setDraft(toDraft(r.data));
      setEdited(false);
      setErrors({});
      setMessage('Saved: the new limits apply at once, to waiting messages too.');
    } else {
      setErrors(r.error.fields ?? {});
      setMessage(notSaved(r.error.message));
    }
  };

  const custom = draft.plan === 'custom';
  return (
    <section aria-labelledby="limits-heading">
      <h2 id="limits-heading">Request limits</h2>
      <p className="hint">
        Pace sends at most this many requests in any rolling minute and in a calendar month, queuing the rest. Pick your
        Anthropic plan, or your own figures.
      </p>
      <div className="row" role="radiogroup" aria-label="Plan">
        {(['free', 'paid', 'custom'] as const).map((plan) => (
          <label key={plan} className="check">
            <input type="radio" name="plan" value={plan} checked={draft.plan === plan} onChange={() => change({ plan })} />
            {plan === 'custom' ? 'Custom' : `${PLANS[plan].label} (${PLANS[plan].perMinute}/min, ${formatCount(PLANS[plan].perMonth)}/month)`}
          </label>
        ))}
      </div>
      <label htmlFor="per-minute">Requests per minute</label>
      <input id="per-minute" inputMode="numeric" disabled={!custom} value={draft.perMinute} onChange={(e) => change({ perMinute: e.target.value })} />
      <FieldError error={errors.perMinute} />
      <label htmlFor="per-month">Requests per month</label>
      <input id="per-month" inputMode="numeric" disabled={!custom} value={draft.perMonth} onChange={(e) => change({ perMonth: e.target.value })} />
      <FieldError error={errors.perMonth} />
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
