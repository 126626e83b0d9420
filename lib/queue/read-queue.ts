/** The stored records the queue view is drawn from, read in one transaction; pages call it through useLiveQuery. */
import { readLimits, readPause, readServerLimits } from '../limits/limiter-store';
import { readTokenLog } from '../limits/token-store';
import { ACTIVE_JOB_STATES, type PaceDB } from '../storage/db';
import { isJob } from '../storage/row-guards';
import type { QueueRecords } from './queue-view';
import { readOtherDevices } from '../sync/devices-store';

export function readQueue(db: PaceDB): Promise<QueueRecords> {
  return db.transaction('r', [db.meta, db.counters, db.jobs], async () => {
    // Asked together: IndexedDB answers the reads of one transaction in one go.
    const [limits, pause, server, counters, jobs, tokens, others] = await Promise.all([
      readLimits(db),
      readPause(db),
      readServerLimits(db),
      db.counters.toArray(),
      db.jobs
        .where('state')
        .anyOf(ACTIVE_JOB_STATES as string[])
        .toArray(),
      readTokenLog(db),
      readOtherDevices(db),
    ]);
    return { limits, pause, server, counters, jobs: jobs.filter(isJob), tokens, others };
  });
}
