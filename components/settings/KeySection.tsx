import { useEffect, useState, type ChangeEvent } from 'react';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import type { KeyStatus } from '@/lib/protocol';
import type { KeepKey } from '@/lib/key/keep-keys';
import type { PaceError } from '@/lib/storage/rows';
import { FieldError } from '@/components/ui/FieldError';
import type { ModelInfo } from '@/lib/claude/models';
import { checkOrigins, unconfirmedOrigin } from '@/lib/settings/key-origins';
import { checkBaseURL, checkStoredSettings } from '@/lib/settings/validate';
import { keyOriginsItem, settingsItem } from '@/lib/settings/settings-items';
import { ConfirmOrigin } from './ConfirmOrigin';
import { useStored } from './use-stored';

type TestState =
  | { kind: 'idle' }
  | { kind: 'testing' }
  | { kind: 'valid'; models: ModelInfo[] }
  | { kind: 'failed'; error: PaceError };

type SaveErrors = Partial<Record<'key' | 'passphrase' | 'confirm', string>>;

function describeKey(status: KeyStatus): string {
  if (!status.hasKey) return status.demo ? 'No key saved: Pace is in demo mode.' : 'No key saved yet.';
  const where = status.remember === 'session' ? 'until the browser closes' : 'on this device';
  if (!status.sealed) return `A key ending in …${status.last4} is saved ${where}.`;
  const lock = status.locked ? ' It is locked: unlock it from the toolbar popup.' : '';
  return `A key ending in …${status.last4} is saved ${where}, protected by a passphrase.${lock}`;
}

/**
 * The API key: typed here, handed to the background to test or save, and never read back (only
 * its last four characters are shown). The passphrase, if any, goes to the background with the
 * key and is not kept by this page. Before the key first goes to an origin other than Anthropic's
 * (the saved base URL, or the one typed for a test), the user is asked, with the origin named.
 */
export function KeySection({
  client,
  baseURL,
  onModels,
  onHasKey,
}: {
  client: BackgroundClient;
  /** The base URL typed in the form, saved or not. */
  baseURL: string;
  onModels: (m: ModelInfo[]) => void;
  onHasKey: (hasKey: boolean) => void;
}) {
  const [status, setStatus] = useState<KeyStatus | null>(null);
  const stored = useStored(settingsItem);
  const confirmed = useStored(keyOriginsItem);
  /** A key test waiting for the user's answer about where it would go. */
  const [asking, setAsking] = useState<{ origin: string; then: () => Promise<void> } | null>(null);
  const [notNow, setNotNow] = useState<string | null>(null);
  const [key, setKey] = useState('');
  const [shown, setShown] = useState(false);
  const [test, setTest] = useState<TestState>({ kind: 'idle' });
  const [remember, setRemember] = useState<KeepKey>('device');
  const [protect, setProtect] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<SaveErrors>({});
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    void client.request('key.status', {}).then((r) => {
      if (!r.ok) return;
      setStatus(r.data);
      // The form starts from how the saved key is kept.
      setRemember(r.data.remember ?? 'device');
      setProtect(r.data.sealed);
    });
  }, [client]);

  useEffect(() => {
    if (status) onHasKey(status.hasKey);
  }, [status, onHasKey]);

  const savedBaseURL = stored === null ? null : checkStoredSettings(stored).value.baseURL;
  const origins = confirmed === null ? null : checkOrigins(confirmed);
  const ready = status !== null && savedBaseURL !== null && origins !== null;
  // A saved key with a saved gateway the user has not confirmed: the background sends nothing until they do.
  const pending = ready && status.hasKey ? unconfirmedOrigin(savedBaseURL, origins) : null;
  const savedHeaders = stored !== null && typeof stored.extraHeaders === 'string' && stored.extraHeaders.trim() !== '';

  const sealing = protect && remember === 'device';
  const edited = () => {
    setErrors({});
    setSaved(false);
  };
  /** A text field's change: take the value, and forget what the last save or test said. */
  const typing = (set: (value: string) => void) => (e: ChangeEvent<HTMLInputElement>) => {
    set(e.target.value);
    edited();
  };

  /** A typed key is tested at the typed base URL; the saved key only at the saved one (the background refuses any other). */
  const runTest = async () => {
    const url = checkBaseURL(baseURL);
    const goesTo =
      url.ok && (key.trim() !== '' || url.value === savedBaseURL) ? unconfirmedOrigin(url.value, origins ?? []) : null;
    if (goesTo !== null) {
      setAsking({ origin: goesTo, then: testNow });
      return;
    }
    await testNow();
  };

  const testNow = async () => {
    setTest({ kind: 'testing' });
    const r = await client.request('key.test', { key: key.trim() === '' ? null : key, baseURL });
    if (r.ok) {
      setTest({ kind: 'valid', models: r.data.models });
      onModels(r.data.models);
    } else {
      setTest({ kind: 'failed', error: r.error });
    }
  };

  const save = async () => {
    setSaved(false);
    if (sealing && passphrase !== confirm) {
      setErrors({ confirm: 'The two passphrases do not match. Type the same one in both fields.' });
      return;
    }
    setSaving(true);
    const r = await client.request('key.save', { key, remember, passphrase: sealing ? passphrase : null });
    setSaving(false);
    if (r.ok) {
      setStatus(r.data);
      setKey('');
      setPassphrase('');
      setConfirm('');
      setErrors({});
      setSaved(true);
    } else {
      setErrors(r.error.field === 'passphrase' ? { passphrase: r.error.message } : { key: r.error.message });
    }
  };

  const remove = async () => {
    const r = await client.request('key.remove', {});
    if (r.ok) {
      setStatus(r.data);
      setTest({ kind: 'idle' });
      setSaved(false);
    } else {
      setErrors({ key: r.error.message });
    }
  };

  const allowOrigin = async (origin: string) => {
    const then = asking?.then;
    setAsking(null);
    const r = await client.request('key.confirmOrigin', { origin });
    if (!r.ok) {
      setTest({ kind: 'failed', error: r.error });
      return;
    }
    await then?.();
  };

  const declineTest = (origin: string) => {
    setAsking(null);
    setTest({
      kind: 'failed',
      error: { code: 'origin_unconfirmed', message: `Not tested: nothing was sent to ${origin}.` },
    });
  };

  const question = asking?.origin ?? (pending !== notNow ? pending : null);

  return (
    <section aria-labelledby="key-heading">
      <h2 id="key-heading">Anthropic API key</h2>
      <p className="hint">
        Kept in this browser&apos;s extension storage and used only by Pace&apos;s background to call the API. Pages
        never see it. To change how it is kept, paste it again and save.
      </p>
      <p data-testid="key-status">{ready ? describeKey(status) : ''}</p>
      <div className="row">
        <input
          id="api-key"
          aria-label="API key"
          type={shown ? 'text' : 'password'}
          autoComplete="off"
          spellCheck={false}
          placeholder={status?.hasKey ? 'Paste a new key to replace it' : 'sk-ant-…'}
          value={key}
          onChange={typing(setKey)}
        />
        <button type="button" onClick={() => setShown((s) => !s)} aria-pressed={shown}>
          {shown ? 'Hide' : 'Show'}
        </button>
      </div>
      <FieldError error={errors.key} testId="key-error" />
      <div className="row" role="radiogroup" aria-label="Keep the key">
        <span>Keep the key:</span>
        {(
          [
            ['device', 'on this device'],
            ['session', 'only until the browser closes'],
          ] as const
        ).map(([value, label]) => (
          <label key={value} className="check">
            <input
              type="radio"
              name="keep-key"
              value={value}
              checked={remember === value}
              onChange={() => {
                setRemember(value);
                edited();
              }}
            />
            {label}
          </label>
        ))}
      </div>
      <label className="check">
        <input
          type="checkbox"
          checked={sealing}
          disabled={remember === 'session'}
          onChange={(e) => {
            setProtect(e.target.checked);
            edited();
          }}
        />
        Protect with a passphrase
      </label>
      {remember === 'session' && (
        <p className="hint">A key kept until the browser closes is never written to disk, so it needs no passphrase.</p>
      )}
      {sealing && (
        <>
          <p className="hint">
            The key is encrypted with it, and the popup asks for it once each time the browser starts. It cannot be
            recovered: if you forget it, remove the key and paste it again.
          </p>
          <div className="row">
            <input
              id="key-passphrase"
              aria-label="Passphrase"
              type="password"
              autoComplete="new-password"
              placeholder="Passphrase (at least 8 characters)"
              value={passphrase}
              onChange={typing(setPassphrase)}
            />
            <input
              id="key-passphrase-confirm"
              aria-label="Confirm passphrase"
              type="password"
              autoComplete="new-password"
              placeholder="The same again"
              value={confirm}
              onChange={typing(setConfirm)}
            />
          </div>
          <FieldError error={errors.passphrase ?? errors.confirm} testId="passphrase-error" />
        </>
      )}
      <div className="row">
        <button type="button" onClick={() => void runTest()} disabled={test.kind === 'testing'}>
          {test.kind === 'testing' ? 'Testing…' : 'Test key'}
        </button>
        <button type="button" className="primary" onClick={() => void save()} disabled={saving}>
          {saving ? 'Saving…' : 'Save key'}
        </button>
        {(status?.hasKey || savedHeaders) && (
          <button type="button" className="danger" onClick={() => void remove()}>
            Remove key and gateway headers
          </button>
        )}
        {saved && <span className="ok">Saved.</span>}
      </div>
      {question !== null && (
        <ConfirmOrigin
          origin={question}
          onConfirm={() => void allowOrigin(question)}
          onCancel={() => (asking ? declineTest(question) : setNotNow(question))}
          cancelLabel={asking ? 'Cancel' : 'Not now'}
          testId="key-confirm-origin"
        />
      )}
      <div data-testid="key-test-result" aria-live="polite">
        {test.kind === 'valid' && (
          <p className="ok">
            The key works. It can use {test.models.length} model{test.models.length === 1 ? '' : 's'}:{' '}
            {test.models.map((m) => m.displayName).join(', ')}.
          </p>
        )}
        {test.kind === 'failed' && (
          <p className="field-error" data-code={test.error.code}>
            {test.error.message}
          </p>
        )}
      </div>
    </section>
  );
}
