import { useEffect, useState } from 'react';
import { browser } from 'wxt/browser';
import { FALLBACK_MODELS, type ModelInfo } from '@/lib/claude/models';
import { describeMode, type PromptCacheMode } from '@/lib/claude/prompt-cache';
import { checkBaseURL, checkPromptCache, checkSettings, DEFAULT_BASE_URL, type Settings, type SettingsErrors } from '@/lib/settings/validate';
import { promptCacheModesItem, settingsItem } from '@/lib/storage/settings';
import { FieldError, notSaved, SaveRow } from './form-parts';

type Draft = { [K in Exclude<keyof Settings, 'combineWaiting'>]: string } & { combineWaiting: boolean };

const toDraft = (s: Settings): Draft => ({ ...s, maxTokens: String(s.maxTokens) });

/** Model, answer length, system prompt and base URL; every field checked before anything is saved. */
export function SettingsForm({ models, onBaseURL }: { models: ModelInfo[] | null; onBaseURL: (url: string) => void }) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<SettingsErrors>({});
  const [message, setMessage] = useState<string | null>(null);
  const [cacheModes, setCacheModes] = useState<Record<string, PromptCacheMode>>({});

  // What each base URL accepts is learned by the background as it sends: shown live.
  useEffect(() => {
    void promptCacheModesItem.getValue().then(setCacheModes);
    return promptCacheModesItem.watch(setCacheModes);
  }, []);

  useEffect(() => {
    void settingsItem.getValue().then((s) => {
      setDraft(toDraft(s));
      onBaseURL(s.baseURL);
    });
  }, [onBaseURL]);

  if (!draft) return null;
  const options = withCurrent(models ?? [...FALLBACK_MODELS], draft.model);

  const change = <K extends keyof Draft>(field: K, value: Draft[K]) => {
    setDraft({ ...draft, [field]: value });
    setErrors({ ...errors, [field]: undefined });
    setMessage(null);
    if (field === 'baseURL') onBaseURL(String(value));
  };

  const save = () => {
    const checked = checkSettings(draft);
    if (!checked.ok) {
      setErrors(checked.errors);
      setMessage(notSaved('fix the fields marked below.'));
      return;
    }
    // A new origin needs the user's permission, asked for from this click before any await.
    const origin = new URL(checked.value.baseURL).origin;
    const asked = origin === new URL(DEFAULT_BASE_URL).origin ? null : browser.permissions.request({ origins: [`${origin}/*`] });
    const saving = settingsItem.setValue(checked.value).then(
      () => {
        setDraft(toDraft(checked.value));
        setErrors({});
        setMessage('Saved.');
        return true;
      },
      (err: unknown) => {
        setMessage(notSaved(err instanceof Error ? err.message : String(err)));
        return false;
      },
    );
    // The permission's answer is told after the save's, so "Saved." never hides it. (Headless
    // Firefox never answers; the save is shown regardless.)
    asked?.then(
      async (granted) => {
        if (!granted && (await saving)) {
          setMessage(`Saved. Access to ${origin} was not granted: Pace can reach it only if that server allows cross-origin requests.`);
        }
      },
      (err: unknown) => console.warn('[pace] permission request failed', err),
    );
  };

  return (
    <section aria-labelledby="chat-heading">
      <h2 id="chat-heading">Chat</h2>
      <label htmlFor="model">Model</label>
      <select id="model" value={draft.model} onChange={(e) => change('model', e.target.value)}>
        {options.map((m) => (
          <option key={m.id} value={m.id}>
            {m.displayName}
          </option>
        ))}
      </select>
      <p className="hint">{models ? 'Models your key can use.' : 'Built-in list; press "Test key" to load the models your key can use.'}</p>
      <FieldError error={errors.model} />

      <label htmlFor="max-tokens">Maximum answer length (tokens)</label>
      <input id="max-tokens" inputMode="numeric" value={draft.maxTokens} onChange={(e) => change('maxTokens', e.target.value)} />
      <FieldError error={errors.maxTokens} />

      <label htmlFor="system-prompt">System prompt (optional)</label>
      <textarea id="system-prompt" rows={4} value={draft.systemPrompt} onChange={(e) => change('systemPrompt', e.target.value)} />
      <FieldError error={errors.systemPrompt} />

      <label className="check">
        <input type="checkbox" checked={draft.combineWaiting} onChange={(e) => change('combineWaiting', e.target.checked)} />
        Combine a chat&apos;s messages that are still waiting into one request (saves quota)
      </label>

      <label htmlFor="prompt-cache">Anthropic&apos;s prompt cache</label>
      <select id="prompt-cache" value={draft.promptCache} onChange={(e) => change('promptCache', e.target.value)}>
        <option value="5m">On, kept 5 minutes after last use (default)</option>
        <option value="1h">On, kept 1 hour after last use (writing it costs 2x input instead of 1.25x)</option>
        <option value="off">Off</option>
      </select>
      <p className="hint" data-testid="prompt-cache-mode">
        {cacheModeLine(draft, cacheModes)}. Each message re-sends the conversation before it; with the cache on, that part is re-read at a tenth of the input price.
      </p>
      <FieldError error={errors.promptCache} />

      <details open={draft.baseURL !== DEFAULT_BASE_URL || draft.extraHeaders !== ''}>
        <summary>Advanced</summary>
        <label htmlFor="base-url">API base URL</label>
        <input id="base-url" type="url" spellCheck={false} value={draft.baseURL} onChange={(e) => change('baseURL', e.target.value)} />
        <p className="hint">Default {DEFAULT_BASE_URL}. Use another only for a gateway or proxy you trust with your key.</p>
        <FieldError error={errors.baseURL} />
        <label htmlFor="extra-headers">Extra request headers (for a gateway)</label>
        <textarea
          id="extra-headers"
          rows={3}
          spellCheck={false}
          placeholder="cf-aig-authorization: Bearer …"
          value={draft.extraHeaders}
          onChange={(e) => change('extraHeaders', e.target.value)}
        />
        <p className="hint">One &quot;Name: value&quot; a line, sent with every request, e.g. a LiteLLM or Cloudflare AI Gateway token.</p>
        <FieldError error={errors.extraHeaders} />
      </details>

      <SaveRow label="Save settings" onSave={save} message={message} testId="settings-message" />
    </section>
  );
}

function cacheModeLine(draft: Draft, modes: Record<string, PromptCacheMode>): string {
  const setting = checkPromptCache(draft.promptCache);
  const base = checkBaseURL(draft.baseURL);
  const remembered = base.ok && Object.hasOwn(modes, base.value) ? modes[base.value] : undefined;
  return describeMode(setting.ok ? setting.value : '5m', remembered);
}

function withCurrent(models: ModelInfo[], current: string): ModelInfo[] {
  return models.some((m) => m.id === current) ? models : [{ id: current, displayName: current }, ...models];
}
