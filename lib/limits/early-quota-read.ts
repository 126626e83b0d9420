/**
 * The figures of the popup's quota line before Dexie and React are loaded (components/quota/early-quota.ts):
 * the limits and this month's and this minute's sends, read in one read-only transaction straight from
 * IndexedDB. The database, its tables and keys are Dexie's (lib/storage/db.ts: `meta` by key, the
 * `limits` row; `counters` by key, the month's key and 'recent'), opened without a version so
 * nothing is upgraded or created here; the default limits when none were saved (as readLimits); null
 * when there is no database yet.
 */
import { DEFAULT_LIMITS } from './plans';
import { monthWindow } from './month-window';
import type { Limits } from '../storage/rows';

export interface EarlyQuotaFigures {
  limits: Limits;
  monthCount: number;
  recentSends: number[];
}

const DB_NAME = 'pace';
/** limiter-store's RECENT_KEY (not imported: that module brings Dexie's). */
const RECENT = 'recent';

function asked<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((done, fail) => {
    req.onsuccess = () => done(req.result);
    req.onerror = () => fail(req.error ?? new Error('IndexedDB request failed'));
  });
}

export async function readEarlyQuota(idb: IDBFactory, now: number): Promise<EarlyQuotaFigures | null> {
  const open = idb.open(DB_NAME);
  // A database that is not there yet is the worker's to create, with its tables: not this one.
  open.onupgradeneeded = () => open.transaction?.abort();
  const db = await asked(open).catch(() => null);
  if (!db) return null;
  try {
    if (!db.objectStoreNames.contains('meta') || !db.objectStoreNames.contains('counters')) return null;
    const tx = db.transaction(['meta', 'counters'], 'readonly');
    const row = (await asked(tx.objectStore('meta').get('limits'))) as { key: string; value: Limits } | undefined;
    const limits = row?.key === 'limits' ? row.value : DEFAULT_LIMITS;
    const counters = tx.objectStore('counters');
    const key = monthWindow(now, limits.monthStart).key;
    const [month, recent, devices] = (await Promise.all([
      asked(counters.get(key)),
      asked(counters.get(RECENT)),
      // The other devices' month from browser sync, as the background keeps it (lib/sync/devices-store.ts): one more get.
      asked(tx.objectStore('meta').get('devices')),
    ])) as (
      { count?: number; times?: number[]; value?: { months?: Record<string, { requests?: unknown }> } } | undefined
    )[];
    const others = devices?.value?.months?.[key]?.requests;
    const othersCount = typeof others === 'number' && Number.isFinite(others) && others >= 0 ? others : 0;
    return { limits, monthCount: (month?.count ?? 0) + othersCount, recentSends: recent?.times ?? [] };
  } finally {
    db.close();
  }
}
