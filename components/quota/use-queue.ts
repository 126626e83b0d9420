import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useState } from 'react';
import { readLimits, readPause, readServerLimits } from '@/lib/limits/limiter-store';
import type { Limits } from '@/lib/limits/plans';
import { queueView, type QueueView } from '@/lib/queue/queue-view';
import { ACTIVE_JOB_STATES, getDb } from '@/lib/storage/db';
import { isJob } from '@/lib/storage/row-guards';

/** The clock, ticking every `everyMs`, for countdowns. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** The limits and the queue as they stand, live across contexts (Dexie refreshes on every write). */
export function useQueue(): { view: QueueView; limits: Limits; now: number } | null {
  const now = useNow();
  const records = useLiveQuery(async () => {
    const db = getDb();
    return db.transaction('r', [db.meta, db.counters, db.jobs], async () => ({
      limits: await readLimits(db),
      pause: await readPause(db),
      server: await readServerLimits(db),
      counters: await db.counters.toArray(),
      jobs: (await db.jobs.where('state').anyOf(ACTIVE_JOB_STATES as string[]).toArray()).filter(isJob),
    }));
  }, []);
  return records ? { view: queueView(now, records), limits: records.limits, now } : null;
}
