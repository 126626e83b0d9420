/** sync.* and settings.export/import: the devices in browser sync, the settings switch, and the settings file. */
import { readLimits } from '../../limits/limiter-store';
import { monthWindow } from '../../limits/month-window';
import { PaceFailure, type ReplyOf, type RequestOf } from '../../protocol';
import type { PaceError } from '../../storage/rows';
import { othersMonth } from '../../sync/device-entry';
import type { Deps } from './deps';

const NO_SYNC: PaceError = {
  code: 'internal',
  message: 'Sync is not running in this part of Pace; reload the extension.',
};

function syncOf(d: Deps): NonNullable<Deps['sync']> {
  if (!d.sync) throw new PaceFailure(NO_SYNC);
  return d.sync;
}

export async function syncDevices(d: Deps): Promise<ReplyOf<'sync.devices'>> {
  const sync = syncOf(d);
  const [list, limits, settingsSync] = await Promise.all([
    sync.devices.list(),
    readLimits(d.db),
    sync.settings.enabled(),
  ]);
  const key = monthWindow(d.now(), limits.monthStart).key;
  return {
    self: list.self,
    others: list.others.map((o) => {
      const month = othersMonth(o, key);
      return { id: o.id, name: o.name, updatedAt: o.updatedAt, requests: month.requests, usd: month.usd };
    }),
    error: list.error,
    settingsSync,
  };
}

export async function syncRename(d: Deps, { name }: RequestOf<'sync.rename'>): Promise<ReplyOf<'sync.rename'>> {
  const sync = syncOf(d);
  try {
    return await sync.devices.rename(name);
  } catch (err) {
    throw new PaceFailure({ code: 'invalid_input', message: (err as Error).message, field: 'deviceName' });
  }
}

export async function syncForget(d: Deps, { id }: RequestOf<'sync.forget'>): Promise<ReplyOf<'sync.forget'>> {
  const sync = syncOf(d);
  try {
    await sync.devices.forget(id);
  } catch (err) {
    throw new PaceFailure({ code: 'invalid_input', message: (err as Error).message });
  }
  return { forgotten: true };
}

export async function syncSettings(
  d: Deps,
  { enabled }: RequestOf<'sync.settings'>,
): Promise<ReplyOf<'sync.settings'>> {
  return { enabled: await syncOf(d).settings.setEnabled(enabled) };
}

export async function settingsExport(d: Deps): Promise<ReplyOf<'settings.export'>> {
  const record = await syncOf(d).settings.exportRecord();
  const day = new Date(record.updatedAt).toISOString().slice(0, 10);
  return { text: JSON.stringify(record, null, 2), fileName: `pace-settings-${day}.json` };
}

export async function settingsImport(
  d: Deps,
  { text }: RequestOf<'settings.import'>,
): Promise<ReplyOf<'settings.import'>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new PaceFailure({
      code: 'invalid_input',
      message: 'Nothing was changed: this file is not JSON (a Pace settings file is).',
      field: 'file',
    });
  }
  const checked = await syncOf(d).settings.importRecord(raw);
  if (!checked.ok)
    throw new PaceFailure({
      code: 'invalid_input',
      message: `Nothing was changed: ${checked.field} is wrong. ${checked.message}`,
      field: checked.field,
    });
  void d.pump();
  return { updatedAt: checked.value.updatedAt };
}
