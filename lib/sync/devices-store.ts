/**
 * The other devices in IndexedDB: the background keeps what browser sync says of them in the meta
 * row 'devices' (lib/sync/device-sync.ts writes it through `saveOtherDevices`), so admission reads
 * their month in its own transaction (lib/limits/limiter-store.ts `loadWindow`, lib/limits/budget-store.ts
 * `loadSpend`) and the pages draw it live. Also this device's own month figures, read from the
 * counters and the ledger, for its entry in sync.
 */
import { isObject } from '../is-object';
import type { PaceDB } from '../storage/db';
import type { DeviceMonth, OtherDevices } from '../storage/rows';
import { keptMonths, othersMonth } from './device-entry';

/** The row as stored, or null when there is none or it is not one (then no other device counts). */
function devicesOf(row: unknown): OtherDevices | null {
  if (!isObject(row) || row.key !== 'devices' || !isObject(row.value)) return null;
  const v = row.value;
  if (!isObject(v.months) || !Array.isArray(v.devices)) return null;
  return v as unknown as OtherDevices;
}

export async function readOtherDevices(db: PaceDB): Promise<OtherDevices | null> {
  return devicesOf(await db.meta.get('devices'));
}

export async function saveOtherDevices(db: PaceDB, value: OtherDevices): Promise<void> {
  await db.meta.put({ key: 'devices', value });
}

/** The other devices' month at `now` by `monthStart`'s key, from the row read in the caller's transaction. */
export function othersIn(row: unknown, key: string): DeviceMonth {
  return othersMonth(devicesOf(row), key);
}

/** This device's own figures per month key: requests counted, settled dollars (the ledger and the extra), tokens. */
export async function readOwnMonths(db: PaceDB, now: number): Promise<Record<string, DeviceMonth>> {
  const keys = [...keptMonths(now)];
  return db.transaction('r', [db.counters, db.usageMonths, db.meta], async () => {
    const [counters, months, spendRow] = await Promise.all([
      db.counters.bulkGet(keys),
      db.usageMonths.bulkGet(keys),
      db.meta.get('spend'),
    ]);
    const extra = spendRow?.key === 'spend' ? spendRow.value.extra : {};
    const out: Record<string, DeviceMonth> = {};
    keys.forEach((key, i) => {
      const requests = counters[i]?.count ?? 0;
      const month = months[i];
      const usd = (month?.costUsd ?? 0) + (extra[key] ?? 0);
      if (requests === 0 && !month && usd === 0) return;
      out[key] = {
        requests,
        usd: Math.round(usd * 1e6) / 1e6,
        inputTokens: month?.inputTokens ?? 0,
        outputTokens: month?.outputTokens ?? 0,
      };
    });
    return out;
  });
}
