import { useLiveQuery } from 'dexie-react-hooks';
import { useState } from 'react';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { checkUsagePrefs, type UsagePrefs, type UsagePrefsErrors } from '@/lib/settings/usage-prefs';
import { cacheStats } from '@/lib/cache/response-cache';
import { getDb } from '@/lib/storage/db';
import { usagePrefsItem } from '@/lib/settings/settings-items';
import { FieldError, notSaved, SaveRow } from './form-parts';
import { useDraft } from './use-draft';
import { useStored } from './use-stored';

type Draft = { cacheHours: string; retentionDays: string; alerts: UsagePrefs['alerts'] };

const toDraft = (p: UsagePrefs): Draft => ({
  ...p,
  cacheHours: String(p.cacheHours),
  retentionDays: String(p.retentionDays),
});

const ALERTS: { key: keyof UsagePrefs['alerts']; label: string }[] = [
  { key: 'at80', label: "This month's use passes 80% of the monthly limit" },
  { key: 'at95', label: 'It passes 95%' },
  { key: 'at100', label: 'The monthly limit is reached' },
  { key: 'refused', label: 'Anthropic starts refusing requests (rate limited or spend cap)' },
];

/**
 * The response cache's lifetime, how long usage detail is kept, and which alerts to show. The
 * background checks and saves them; the form follows the stored value until it is edited.
 */
export function UsagePrefsForm({ client }: { client: BackgroundClient }) {
  const stored = useStored(usagePrefsItem);
  const form = useDraft<UsagePrefs, Draft, keyof UsagePrefsErrors>(stored, toDraft);
  const { draft, errors, message } = form;
  const [cleared, setCleared] = useState<string | null>(null);
  const entries = useLiveQuery(async () => (await cacheStats(getDb())).entries, []);

  if (!draft) return null;
  const change = (patch: Partial<Draft>) => form.edit({ ...draft, ...patch });

  const save = async () => {
    const checked = checkUsagePrefs(draft);
    if (!checked.ok) {
      form.failed(checked.errors, notSaved('fix the fields marked below.'));
      return;
    }
    const r = await client.request('usagePrefs.save', draft);
    if (!r.ok) {
      form.failed(r.error.fields ?? {}, notSaved(r.error.message));
      return;
    }
    form.saved(r.data, r.data.cacheHours === 0 ? 'Saved. The cache is off and its answers were removed.' : 'Saved.');
  };

  const clear = async () => {
    const r = await client.request('cache.clear', {});
    setCleared(
      r.ok
        ? `Cleared ${r.data.cleared.toLocaleString('en-US')} cached answer${r.data.cleared === 1 ? '' : 's'}.`
        : r.error.message,
    );
  };

  return (
    <section aria-labelledby="usage-heading">
      <h2 id="usage-heading">Cache, usage and alerts</h2>
      <p className="hint">
        The same question asked again within the cache's lifetime is answered from this browser at once, free: nothing
        is sent and nothing counts against your limits. &quot;Ask again&quot; on an answer always goes to Claude.
      </p>
      <label htmlFor="cache-hours">Keep cached answers for (hours, 0 turns the cache off)</label>
      <input
        id="cache-hours"
        inputMode="numeric"
        value={draft.cacheHours}
        onChange={(e) => change({ cacheHours: e.target.value })}
      />
      <FieldError error={errors.cacheHours} />
      <div className="row">
        <button type="button" onClick={() => void clear()} data-testid="clear-cache">
          Clear cache
        </button>
        <span className="hint" data-testid="cache-entries">
          {cleared ?? `${(entries ?? 0).toLocaleString('en-US')} answer${entries === 1 ? '' : 's'} cached`}
        </span>
      </div>
      <label htmlFor="retention-days">Keep usage detail for (days; monthly totals are always kept)</label>
      <input
        id="retention-days"
        inputMode="numeric"
        value={draft.retentionDays}
        onChange={(e) => change({ retentionDays: e.target.value })}
      />
      <FieldError error={errors.retentionDays} />
      <fieldset>
        <legend>Notify me when</legend>
        {ALERTS.map(({ key, label }) => (
          <label key={key} className="check">
            <input
              type="checkbox"
              checked={draft.alerts[key]}
              onChange={(e) => change({ alerts: { ...draft.alerts, [key]: e.target.checked } })}
            />
            {label}
          </label>
        ))}
      </fieldset>
      <SaveRow label="Save" onSave={() => void save()} message={message} testId="usage-prefs-message" />
    </section>
  );
}
