/**
 * The usage ledger in IndexedDB: one row per attempt sent (and per answer served from the cache),
 * with running totals per local day and per month written in the same transaction, so the
 * dashboard reads a few small rows instead of the whole ledger, and pruning old rows (the
 * retention setting) loses no month's totals.
 */
import { monthKeys } from '../limits/month-window';
import type { PaceDB, UsageRow } from '../storage/db';
import { addMonthRow, addRow, dayKey, emptyMonth, emptyTotals } from './totals';

const DAY_MS = 24 * 60 * 60 * 1000;

export async function recordUsage(db: PaceDB, row: Omit<UsageRow, 'id'>): Promise<void> {
  const day = dayKey(row.at);
  const months = monthKeys(row.at);
  await db.transaction('rw', db.usage, db.usageDays, db.usageMonths, async () => {
    const [dayRow, monthRows] = await Promise.all([db.usageDays.get(day), db.usageMonths.bulkGet(months)]);
    await Promise.all([
      db.usage.add(row),
      db.usageDays.put(addRow(dayRow ?? { ...emptyTotals(), day }, row)),
      db.usageMonths.bulkPut(
        months.map((month, i) => addMonthRow(monthRows[i] ?? emptyMonth(month), row)),
      ),
    ]);
  });
}

/** Deletes ledger rows and day totals older than `retentionDays`; month totals are kept. */
export async function pruneUsage(db: PaceDB, now: number, retentionDays: number): Promise<number> {
  const cutoff = now - retentionDays * DAY_MS;
  return db.transaction('rw', db.usage, db.usageDays, async () => {
    const rows = await db.usage.where('at').below(cutoff).delete();
    await db.usageDays.where('day').below(dayKey(cutoff)).delete();
    return rows;
  });
}
