import { useLiveQuery } from 'dexie-react-hooks';
import { useCallback, useEffect, useState } from 'react';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import type { ReplyOf } from '@/lib/protocol';
import { formatCount } from '@/lib/limits/format';
import { getDb } from '@/lib/storage/db';
import { heardAgo } from '@/lib/sync/all-devices';
import { readOtherDevices } from '@/lib/sync/devices-store';
import { formatUsd } from '@/lib/usage/summary';
import { download } from '../ui/download';

type Devices = ReplyOf<'sync.devices'>;

/**
 * Devices: this one (its name editable), the others browser sync has heard from with their month
 * and a Forget button, the settings sync switch, and the settings file's export and import.
 */
export function DevicesSection({ client }: { client: BackgroundClient }) {
  const [devices, setDevices] = useState<Devices | null>(null);
  const [name, setName] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [importError, setImportError] = useState<string | null>(null);
  const [importDone, setImportDone] = useState<string | null>(null);
  // What the background keeps of the other devices: read again whenever it changes.
  const stored = useLiveQuery(() => readOtherDevices(getDb()));
  const load = useCallback(async () => {
    const r = await client.request('sync.devices', {});
    if (r.ok) setDevices(r.data);
    else setMessage(r.error.message);
  }, [client]);
  useEffect(() => void load(), [load, stored]);
  if (!devices) return null;
  const now = Date.now();

  const rename = async () => {
    const r = await client.request('sync.rename', { name: name ?? devices.self.name });
    setMessage(
      r.ok ? `Saved. The other devices see this one as "${r.data.name}".` : `Nothing was saved: ${r.error.message}`,
    );
    if (r.ok) setName(null);
    await load();
  };
  const forget = async (id: string) => {
    const r = await client.request('sync.forget', { id });
    setMessage(r.ok ? null : r.error.message);
    await load();
  };
  const toggleSync = async (enabled: boolean) => {
    const r = await client.request('sync.settings', { enabled });
    setMessage(r.ok ? null : r.error.message);
    await load();
  };
  const exportSettings = async () => {
    const r = await client.request('settings.export', {});
    if (r.ok) download(r.data.text, 'application/json', r.data.fileName);
    else setMessage(r.error.message);
  };
  const importSettings = async (file: File | undefined) => {
    setImportError(null);
    setImportDone(null);
    if (!file) return;
    const r = await client.request('settings.import', { text: await file.text() });
    if (r.ok) setImportDone('Imported. The settings below are the file’s now.');
    else setImportError(r.error.message);
  };

  return (
    <section aria-labelledby="devices-heading">
      <h2 id="devices-heading">Devices</h2>
      <p className="hint">
        Pace counts the month on all your browsers where you are signed in to the browser&apos;s sync (Chrome Sync or
        Firefox Sync): each one reports its requests and estimated spend, and the limits and the budget count them all.
        Sync takes seconds to minutes; the API key, gateway headers and chats never leave this device.
      </p>
      <label htmlFor="deviceName">This device&apos;s name</label>
      <div className="row">
        <input
          id="deviceName"
          value={name ?? devices.self.name}
          maxLength={60}
          onChange={(e) => setName(e.target.value)}
        />
        <button type="button" onClick={() => void rename()}>
          Rename
        </button>
      </div>
      {message && (
        <p className={message.startsWith('Saved') ? 'ok' : 'field-error'} data-testid="devices-message">
          {message}
        </p>
      )}
      {devices.error && (
        <p className="field-error" role="status" data-testid="sync-warning">
          {devices.error.message}
        </p>
      )}
      {devices.others.length === 0 ? (
        <p className="hint" data-testid="no-devices">
          No other device has reported yet.
        </p>
      ) : (
        <ul className="device-list">
          {devices.others.map((d) => (
            <li key={d.id} data-testid="device-row">
              <strong>{d.name}</strong>: {formatCount(d.requests)} request{d.requests === 1 ? '' : 's'},{' '}
              {formatUsd(d.usd)} this month; last report {heardAgo(d.updatedAt, now)}{' '}
              <button type="button" aria-label={`Forget ${d.name}`} onClick={() => void forget(d.id)}>
                Forget
              </button>
            </li>
          ))}
        </ul>
      )}
      <p className="hint">
        Forget hides a device you no longer use; what it sent this month still counts until the month turns.
      </p>
      <label className="check">
        <input
          id="syncSettings"
          type="checkbox"
          checked={devices.settingsSync}
          onChange={(e) => void toggleSync(e.target.checked)}
        />
        Sync settings with my other devices (off: keep settings on this device only)
      </label>
      <p className="hint">
        Limits, budget, model and chat choices, templates, cache and alerts, and the theme follow you; the last change
        wins. The base URL and its gateway headers stay on each device, with the key.
      </p>
      <div className="row">
        <button type="button" data-testid="settings-export" onClick={() => void exportSettings()}>
          Export settings
        </button>
        <label htmlFor="settingsImport">Import settings</label>
        <input
          id="settingsImport"
          type="file"
          accept="application/json,.json"
          data-testid="settings-import"
          onChange={(e) => {
            void importSettings(e.target.files?.[0]);
            e.target.value = '';
          }}
        />
      </div>
      {importError && (
        <p className="field-error" role="alert" data-testid="settings-import-error">
          {importError}
        </p>
      )}
      {importDone && (
        <p className="ok" role="status" data-testid="settings-import-done">
          {importDone}
        </p>
      )}
    </section>
  );
}
