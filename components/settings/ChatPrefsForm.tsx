import { useEffect, useState } from 'react';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { KEEP_DAYS, THEMES, type ChatPrefs, type KeepDays, type Theme } from '@/lib/settings/chat-prefs';
import { chatPrefsItem } from '@/lib/settings/settings-items';
import { FieldError, notSaved, SaveRow } from './form-parts';
import { useStored } from './use-stored';

const THEME_LABELS: Record<Theme, string> = { system: 'System', light: 'Light', dark: 'Dark' };
const keepLabel = (d: KeepDays) => (d === null ? 'Forever' : `${d} days`);

/**
 * The pages' theme (applied as soon as it is picked) and how long chats are kept (saved with the
 * button: a shorter retention deletes the older chats at once). The background checks and saves both.
 */
export function ChatPrefsForm({ client }: { client: BackgroundClient }) {
  const stored = useStored(chatPrefsItem);
  const [keepDays, setKeepDays] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [themeError, setThemeError] = useState<string | null>(null);
  // The theme picked here shows at once; the stored value (this page's save, or another page's) takes over when it changes.
  const [picked, setPicked] = useState<Theme | null>(null);
  useEffect(() => setPicked(null), [stored?.theme]);
  if (!stored) return null;
  const keepDraft = keepDays ?? String(stored.keepDays ?? 'forever');

  const save = async (prefs: { keepDays: string | number; theme: string }): Promise<ChatPrefs | string> => {
    const r = await client.request('chatPrefs.save', prefs);
    return r.ok ? r.data : r.error.message;
  };

  const pickTheme = async (theme: Theme) => {
    setPicked(theme);
    const r = await save({ keepDays: stored.keepDays ?? 'forever', theme });
    setThemeError(typeof r === 'string' ? notSaved(r) : null);
    if (typeof r === 'string') setPicked(null);
  };

  const saveKeep = async () => {
    const r = await save({ keepDays: keepDraft, theme: stored.theme });
    if (typeof r === 'string') {
      setMessage(notSaved(r));
      return;
    }
    setKeepDays(null);
    setMessage(
      r.keepDays === null
        ? 'Saved. Chats are kept until you delete them.'
        : `Saved. Chats untouched for ${r.keepDays} days are deleted.`,
    );
  };

  return (
    <section aria-labelledby="chats-heading">
      <h2 id="chats-heading">Look and chats</h2>
      <fieldset>
        <legend>Theme</legend>
        {THEMES.map((t) => (
          <label key={t} className="check">
            <input
              type="radio"
              name="theme"
              value={t}
              checked={(picked ?? stored.theme) === t}
              onChange={() => void pickTheme(t)}
            />
            {THEME_LABELS[t]}
          </label>
        ))}
        <p className="hint">System follows your browser&apos;s light or dark setting.</p>
        <FieldError error={themeError} />
      </fieldset>
      <label htmlFor="keep-days">Keep chats for</label>
      <select id="keep-days" value={keepDraft} onChange={(e) => setKeepDays(e.target.value)}>
        {KEEP_DAYS.map((d) => (
          <option key={String(d)} value={String(d ?? 'forever')}>
            {keepLabel(d)}
          </option>
        ))}
      </select>
      <p className="hint">
        Chats not used for this long are deleted with their messages, each day and when you save. Usage counts stay.
      </p>
      <SaveRow label="Save" onSave={() => void saveKeep()} message={message} testId="chat-prefs-message" />
    </section>
  );
}
