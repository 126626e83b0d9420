import { useLiveQuery } from 'dexie-react-hooks';
import { readLimits, readPause, readServerLimits } from '@/lib/limits/limiter-store';
import type { Limits } from '@/lib/limits/plans';
import { queueView, type QueueView } from '@/lib/queue/queue-view';
import { ACTIVE_JOB_STATES, getDb } from '@/lib/storage/db';
import { isJob } from '@/lib/storage/row-guards';
import { useNow } from '../ui/use-now';

/** The limits and the queue as they stand, live across contexts (Dexie refreshes on every write). */
export function useQueue(): { view: QueueView; limits: Limits; now: number } | null {
  const now = useNow();
  const records = useLiveQuery(async () => {
    const db = getDb();
    return db.transaction('r', [db.meta, db.counters, db.jobs], async () => {
      // Asked together: IndexedDB answers the reads of one transaction in one go.
      const [limits, pause, server, counters, jobs] = await Promise.all([
        readLimits(db),
        readPause(db),
        readServerLimits(db),
        db.counters.toArray(),
        db.jobs.where('state').anyOf(ACTIVE_JOB_STATES as string[]).toArray(),
      ]);
      return { limits, pause, server, counters, jobs: jobs.filter(isJob) };
    });
  }, []);
  return records ? { view: queueView(now, records), limits: records.limits, now } : null;
}
