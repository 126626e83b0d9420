import type { PaceDB, UsageRow } from '../storage/db';

/** Every ledger row, oldest first, for the export (lib/usage/usage-export.ts turns them into a file). */
export function readUsageRows(db: PaceDB): Promise<UsageRow[]> {
  return db.usage.orderBy('at').toArray();
}
