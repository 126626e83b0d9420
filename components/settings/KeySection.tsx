import { useEffect, useState } from 'react';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import type { KeyStatus, PaceError } from '@/lib/protocol';
import type { ModelInfo } from '@/lib/claude/models';

type TestState =
  | { kind: 'idle' }
  | { kind: 'testing' }
  | { kind: 'valid'; models: ModelInfo[] }
  | { kind: 'failed'; error: PaceError };

/**
 * The API key: typed here, handed to the background to test or save, and never read back (only
 * its last four characters are shown).
 */
export function KeySection({ client, baseURL, onModels }: { client: BackgroundClient; baseURL: string; onModels: (m: ModelInfo[]) => void }) {
  const [status, setStatus] = useState<KeyStatus | null>(null);
  const [key, setKey] = useState('');
  const [shown, setShown] = useState(false);
  const [test, setTest] = useState<TestState>({ kind: 'idle' });
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    void client.request('key.status', {}).then((r) => r.ok && setStatus(r.data));
  }, [client]);

  const runTest = async () => {
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
    const r = await client.request('key.save', { key });
    if (r.ok) {
      setStatus(r.data);
      setKey('');
      setSaveError(null);
      setSaved(true);
    } else {
      setSaveError(r.error.message);
    }
  };

  const remove = async () => {
    const r = await client.request('key.remove', {});
    if (r.ok) {
      setStatus(r.data);
      setTest({ kind: 'idle' });
    }
  };

  return (
    <section aria-labelledby="key-heading">
      <h2 id="key-heading">Anthropic API key</h2>
      <p className="hint">
        Kept in this browser&apos;s extension storage and used only by Pace&apos;s background to call the API. Pages never
        see it.
      </p>
      <p data-testid="key-status">
        {status === null
          ? ''
          : status.hasKey
            ? `A key ending in …${status.last4} is saved.`
            : status.demo
              ? 'No key saved: Pace is in demo mode.'
              : 'No key saved yet.'}
      </p>
      <div className="row">
        <input
          id="api-key"
          aria-label="API key"
          type={shown ? 'text' : 'password'}
          autoComplete="off"
          spellCheck={false}
          placeholder={status?.hasKey ? 'Paste a new key to replace it' : 'sk-ant-…'}
          value={key}
          onChange={(e) => {
            setKey(e.target.value);
            setSaveError(null);
            setSaved(false);
          }}
        />
        <button type="button" onClick={() => setShown((s) => !s)} aria-pressed={shown}>
          {shown ? 'Hide' : 'Show'}
        </button>
      </div>
      {saveError && (
        <p className="field-error" role="alert" data-testid="key-error">
          {saveError}
        </p>
      )}
      <div className="row">
        <button type="button" onClick={runTest} disabled={test.kind === 'testing'}>
          {test.kind === 'testing' ? 'Testing…' : 'Test key'}
        </button>
        <button type="button" className="primary" onClick={save}>
          Save key
        </button>
        {status?.hasKey && (
          <button type="button" className="danger" onClick={remove}>
            Remove key
          </button>
        )}
        {saved && <span className="ok">Saved.</span>}
      </div>
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
