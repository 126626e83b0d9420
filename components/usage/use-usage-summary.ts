import { useLiveQuery } from 'dexie-react-hooks';
import type { Limits } from '@/lib/storage/rows';
import { getDb } from '@/lib/storage/db';
import type { UsageSummary } from '@/lib/usage/summary';
import { readUsageSummary } from '@/lib/usage/read-usage-summary';
import { useNow } from '../ui/use-now';

/** Re-read at least this often, so the series moves on at midnight without a write. */
const REFRESH_MS = 10 * 60_000;

/** The dashboard's model, live (see lib/usage/read-usage-summary.ts). */
export function useUsageSummary(): { summary: UsageSummary; limits: Limits } | undefined {
  const tick = useNow(REFRESH_MS);
  return useLiveQuery(() => readUsageSummary(getDb(), Date.now()), [tick]);
}
