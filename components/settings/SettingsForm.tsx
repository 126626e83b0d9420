import { useEffect, useState } from 'react';
import { browser } from 'wxt/browser';
import { FALLBACK_MODELS, type ModelInfo } from '@/lib/claude/models';
import { describeMode, type PromptCacheMode } from '@/lib/claude/prompt-cache';
import { ANTHROPIC_ORIGIN, checkOrigins, unconfirmedOrigin } from '@/lib/settings/key-origins';
import {
  checkBaseURL,
  checkPromptCache,
  checkSettings,
  DEFAULT_BASE_URL,
  maskHeaderLines,
  type Settings,
  type SettingsErrors,
} from '@/lib/settings/validate';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { keyOriginsItem, promptCacheModesItem, settingsItem } from '@/lib/settings/settings-items';
import { ConfirmOrigin } from './ConfirmOrigin';
import { FieldError, notSaved, SaveRow } from './form-parts';
import { useStored } from './use-stored';

type Draft = { [K in Exclude<keyof Settings, 'combineWaiting'>]: string } & { combineWaiting: boolean };

// The draft never holds the saved header values: they are secrets, shown masked (see `stored` below).
const toDraft = (s: Settings): Draft => ({
  ...s,
  maxTokens: String(s.maxTokens),
  webSearchMaxUses: String(s.webSearchMaxUses),
  extraHeaders: '',
});

/**
 * Model, answer length, system prompt, base URL and gateway headers; every field checked before
 * anything is saved. Saved headers are shown masked; "Replace headers" empties the field for new
 * ones. A new gateway origin is saved only once the user confirms it may receive their key. The
 * background checks and writes the settings; the form follows the stored value until it is edited,
 * so a save in another options page shows here.
 */
export function SettingsForm({
  client,
  models,
  onBaseURL,
  hasKey,
}: {
  client: BackgroundClient;
  models: ModelInfo[] | null;
  onBaseURL: (url: string) => void;
  hasKey: boolean;
}) {
  const [draft, setDraft] = useState<Draft | null>(null);
  /** The user changed a field since the draft last matched the stored settings. */
  const [edited, setEdited] = useState(false);
  const [errors, setErrors] = useState<SettingsErrors>({});
  const [message, setMessage] = useState<string | null>(null);
  const stored = useStored(settingsItem);
  const confirmed = useStored(keyOriginsItem);
  // What each base URL accepts is learned by the background as it sends: shown live.
  const cacheModes = useStored(promptCacheModesItem) ?? {};
  const [replacingHeaders, setReplacingHeaders] = useState(false);
  /** Checked settings waiting for the user's answer about a new gateway origin. */
  const [asking, setAsking] = useState<{ origin: string; value: Settings } | null>(null);

  useEffect(() => {
    if (!stored || edited) return;
    setDraft(toDraft(stored));
    onBaseURL(stored.baseURL);
  }, [stored, edited, onBaseURL]);

  if (!draft) return null;
  const options = withCurrent(models ?? [...FALLBACK_MODELS], draft.model);
  const savedHeaders = typeof stored?.extraHeaders === 'string' ? stored.extraHeaders : '';
  const masked = !replacingHeaders && savedHeaders !== '';
  const headers = masked ? savedHeaders : draft.extraHeaders;

  const change = <K extends keyof Draft>(field: K, value: Draft[K]) => {
    setDraft({ ...draft, [field]: value });
    setEdited(true);
    setErrors({ ...errors, [field]: undefined });
    setMessage(null);
    setAsking(null);
    if (field === 'baseURL') onBaseURL(String(value));
  };

  const save = () => {
    const checked = checkSettings({ ...draft, extraHeaders: headers });
    if (!checked.ok) {
      setErrors(checked.errors);
      setMessage(notSaved('fix the fields marked below.'));
      return;
    }
    const origin = hasKey ? unconfirmedOrigin(checked.value.baseURL, checkOrigins(confirmed)) : null;
    if (origin !== null) {
      setMessage(null);
      setAsking({ origin, value: checked.value });
      return;
    }
    store(checked.value, null);
  };

  /** Saves checked settings, recording first the user's yes to sending the key to `confirmedOrigin`. */
  const store = (value: Settings, confirmedOrigin: string | null) => {
    // A new origin needs the user's permission, asked for from this click before any await.
    const origin = new URL(value.baseURL).origin;
    const asked = origin === ANTHROPIC_ORIGIN ? null : browser.permissions.request({ origins: [`${origin}/*`] });
    const saving = client
      .request('settings.save', {
        settings: { ...value, extraHeaders: masked ? null : value.extraHeaders },
        confirmOrigin: confirmedOrigin !== null,
      })
      .then((r) => {
        if (!r.ok) {
          setErrors(r.error.fields ?? (r.error.field ? { [r.error.field]: r.error.message } : {}));
          setMessage(notSaved(r.error.message));
          return false;
        }
        setDraft(toDraft(r.data));
        setEdited(false);
        setReplacingHeaders(false);
        setErrors({});
        setMessage('Saved.');
        return true;
      });
    // The permission's answer is told after the save's, so "Saved." never hides it. (Headless
    // Firefox never answers; the save is shown regardless.)
    asked?.then(
      async (granted) => {
        if (!granted && (await saving)) {
          setMessage(
            `Saved. Access to ${origin} was not granted: Pace can reach it only if that server allows cross-origin requests.`,
          );
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
      <p className="hint">
        {models ? 'Models your key can use.' : 'Built-in list; press "Test key" to load the models your key can use.'}
      </p>
      <FieldError error={errors.model} />

      <label htmlFor="max-tokens">Maximum answer length (tokens)</label>
      <input
        id="max-tokens"
        inputMode="numeric"
        value={draft.maxTokens}
        onChange={(e) => change('maxTokens', e.target.value)}
      />
      <FieldError error={errors.maxTokens} />

      <label htmlFor="webSearchMaxUses">Web searches per message</label>
      <input
        id="webSearchMaxUses"
        type="number"
        min={1}
        max={10}
        step={1}
        value={draft.webSearchMaxUses}
        onChange={(e) => change('webSearchMaxUses', e.target.value)}
        aria-describedby="web-search-hint"
      />
      <p className="hint" id="web-search-hint">
        When &quot;Search the web&quot; is on in a chat, Claude may search up to this many times for one message (1 to
        10; each search costs $0.01, and the worst case is counted against your budget).
      </p>
      <FieldError error={errors.webSearchMaxUses} />

      <label htmlFor="system-prompt">System prompt (optional)</label>
      <textarea
        id="system-prompt"
        rows={4}
        value={draft.systemPrompt}
        onChange={(e) => change('systemPrompt', e.target.value)}
      />
      <FieldError error={errors.systemPrompt} />

      <label className="check">
        <input
          type="checkbox"
          checked={draft.combineWaiting}
          onChange={(e) => change('combineWaiting', e.target.checked)}
        />
        Combine a chat&apos;s messages that are still waiting into one request (saves quota)
      </label>

      <label htmlFor="prompt-cache">Anthropic&apos;s prompt cache</label>
      <select id="prompt-cache" value={draft.promptCache} onChange={(e) => change('promptCache', e.target.value)}>
        <option value="5m">On, kept 5 minutes after last use (default)</option>
        <option value="1h">On, kept 1 hour after last use (writing it costs 2x input instead of 1.25x)</option>
        <option value="off">Off</option>
      </select>
      <p className="hint" data-testid="prompt-cache-mode">
        {cacheModeLine(draft, cacheModes)}. Each message re-sends the conversation before it; with the cache on, that
        part is re-read at a tenth of the input price.
      </p>
      <FieldError error={errors.promptCache} />

      <details open={draft.baseURL !== DEFAULT_BASE_URL || headers !== ''}>
        <summary>Advanced</summary>
        <label htmlFor="base-url">API base URL</label>
        <input
          id="base-url"
          type="url"
          spellCheck={false}
          value={draft.baseURL}
          onChange={(e) => change('baseURL', e.target.value)}
        />
        <p className="hint">
          Default {DEFAULT_BASE_URL}. Use another only for a gateway or proxy you trust with your key.
        </p>
        <FieldError error={errors.baseURL} />
        <label htmlFor="extra-headers">Extra request headers (for a gateway)</label>
        <textarea
          id="extra-headers"
          rows={3}
          spellCheck={false}
          placeholder="cf-aig-authorization: Bearer …"
          readOnly={masked}
          value={masked ? maskHeaderLines(savedHeaders) : draft.extraHeaders}
          onChange={(e) => change('extraHeaders', e.target.value)}
        />
        {masked ? (
          <div className="row">
            <span className="hint">Saved values are hidden, like the key.</span>
            <button type="button" onClick={() => setReplacingHeaders(true)}>
              Replace headers
            </button>
          </div>
        ) : (
          <p className="hint">
            One &quot;Name: value&quot; a line, sent with every request, e.g. a LiteLLM or Cloudflare AI Gateway token.
            {replacingHeaders && ' These replace every saved header; leave it empty to remove them.'}
          </p>
        )}
        <FieldError error={errors.extraHeaders} />
      </details>

      {asking && (
        <ConfirmOrigin
          origin={asking.origin}
          onConfirm={() => {
            setAsking(null);
            store(asking.value, asking.origin);
          }}
          onCancel={() => {
            setAsking(null);
            setMessage(notSaved(`your key goes to ${asking.origin} only once you confirm it.`));
          }}
          testId="settings-confirm-origin"
        />
      )}
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
