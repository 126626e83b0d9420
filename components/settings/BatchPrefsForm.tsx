import type { BackgroundClient } from '@/lib/messaging/page-client';
import { checkBatchPrefs, type BatchPrefs, type BatchPrefsErrors } from '@/lib/settings/batch-prefs';
import { batchPrefsItem } from '@/lib/settings/settings-items';
import { FieldError, notSaved, SaveRow } from './form-parts';
import { useDraft } from './use-draft';
import { useStored } from './use-stored';

type Draft = { sendLater: boolean; gatherSeconds: string; firstPollSeconds: string; maxPollSeconds: string };

const toDraft = (p: BatchPrefs): Draft => ({
  sendLater: p.sendLater,
  gatherSeconds: String(p.gatherSeconds),
  firstPollSeconds: String(p.firstPollSeconds),
  maxPollSeconds: String(p.maxPollSeconds),
});

/**
 * "Later, half price": whether new messages go as a Message Batch by default, how long questions
 * are gathered into one batch, and how often a running batch is looked at.
 */
export function BatchPrefsForm({ client }: { client: BackgroundClient }) {
  const stored = useStored(batchPrefsItem);
  const form = useDraft<BatchPrefs, Draft, keyof BatchPrefsErrors>(stored, toDraft);
  const { draft, errors, message } = form;
  if (!draft) return null;
  const change = (patch: Partial<Draft>) => form.edit({ ...draft, ...patch });

  const save = async () => {
    const checked = checkBatchPrefs(draft);
    if (!checked.ok) {
      form.failed(checked.errors, notSaved('fix the fields marked below.'));
      return;
    }
    const r = await client.request('batchPrefs.save', draft);
    if (!r.ok) {
      form.failed(r.error.fields ?? {}, notSaved(r.error.message));
      return;
    }
    form.saved(r.data, 'Saved.');
  };

  return (
    <section aria-labelledby="batch-heading">
      <h2 id="batch-heading">Later, half price</h2>
      <p className="hint">
        A message sent &quot;later&quot; goes with others as one Message Batch: every token costs half, and the answer
        usually arrives within an hour (always within 24 hours). Each question counts once against the month when its
        batch is sent.
      </p>
      <label className="check">
        <input
          type="checkbox"
          checked={draft.sendLater}
          onChange={(e) => change({ sendLater: e.target.checked })}
          data-testid="send-later-default"
        />
        Send new messages later, at half price, by default
      </label>
      <label htmlFor="batch-gather">Gather questions for (seconds) before sending them as one batch</label>
      <input
        id="batch-gather"
        inputMode="numeric"
        value={draft.gatherSeconds}
        onChange={(e) => change({ gatherSeconds: e.target.value })}
      />
      <FieldError error={errors.gatherSeconds} />
      <label htmlFor="batch-first-poll">First look at a batch after (seconds)</label>
      <input
        id="batch-first-poll"
        inputMode="numeric"
        value={draft.firstPollSeconds}
        onChange={(e) => change({ firstPollSeconds: e.target.value })}
      />
      <FieldError error={errors.firstPollSeconds} />
      <label htmlFor="batch-max-poll">Then look at most every (seconds)</label>
      <input
        id="batch-max-poll"
        inputMode="numeric"
        value={draft.maxPollSeconds}
        onChange={(e) => change({ maxPollSeconds: e.target.value })}
      />
      <FieldError error={errors.maxPollSeconds} />
      <SaveRow label="Save" onSave={() => void save()} message={message} testId="batch-prefs-message" />
    </section>
  );
}
