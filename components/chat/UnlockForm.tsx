import { useState } from 'react';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { FieldError } from '@/components/ui/FieldError';
import type { KeyStatus } from '@/lib/protocol';

/**
 * Asks for the passphrase of a locked key, in place of the no-key banner. The passphrase goes to
 * the background once and is cleared from the field whatever the answer; a wrong one can be tried
 * again as often as needed.
 */
export function UnlockForm({
  client,
  last4,
  onUnlocked,
}: {
  client: BackgroundClient;
  last4: string | null;
  onUnlocked: (s: KeyStatus) => void;
}) {
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const unlock = async () => {
    if (busy) return;
    setBusy(true);
    const r = await client.request('key.unlock', { passphrase });
    setBusy(false);
    setPassphrase('');
    if (r.ok) {
      setError(null);
      onUnlocked(r.data);
    } else {
      setError(r.error.message);
    }
  };

  return (
    <form
      className="banner banner-warn unlock"
      data-testid="unlock-form"
      onSubmit={(e) => {
        e.preventDefault();
        void unlock();
      }}
    >
      <p className="unlock-title">
        Your API key{last4 ? ` (…${last4})` : ''} is locked. Enter your passphrase to chat.
      </p>
      <div className="row">
        <input
          aria-label="Passphrase"
          type="password"
          autoComplete="current-password"
          autoFocus
          value={passphrase}
          onChange={(e) => {
            setPassphrase(e.target.value);
            setError(null);
          }}
        />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Unlocking…' : 'Unlock'}
        </button>
      </div>
      <FieldError error={error} testId="unlock-error" />
    </form>
  );
}
