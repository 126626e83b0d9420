/**
 * The usage dashboard's model, read from the stored totals: only the day and month totals (never
 * the raw `usage` rows, which may hold 100,000 rows) and the titles of the few conversations it names.
 */
import { readLimits } from '../limits/limiter-store';
import { monthWindow } from '../limits/month-window';
import type { Limits } from '../storage/rows';
import type { PaceDB } from '../storage/db';
import { SERIES_DAYS, summarize, withTitles, type UsageSummary } from './summary';
import { dayKey } from './totals';

export async function readUsageSummary(db: PaceDB, now: number): Promise<{ summary: UsageSummary; limits: Limits }> {
  return db.transaction('r', [db.meta, db.usageDays, db.usageMonths, db.conversations], async () => {
    const limits = await readLimits(db);
    const first = new Date(now);
    const from = dayKey(new Date(first.getFullYear(), first.getMonth(), first.getDate() - (SERIES_DAYS - 1)).getTime());
    const [days, month] = await Promise.all([
      db.usageDays.where('day').between(from, dayKey(now), true, true).toArray(),
      db.usageMonths.get(monthWindow(now, limits.monthStart).key),
    ]);
    const summary = summarize({ days, month, limits, now });
    const ids = summary.topConversations.map((c) => c.id);
    if (ids.length === 0) return { summary, limits };
    const titles: Record<string, string> = {};
    for (const c of await db.conversations.bulkGet(ids)) if (c) titles[c.id] = c.title;
    return { summary: withTitles(summary, titles), limits };
  });
}
