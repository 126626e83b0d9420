import { useLiveQuery } from 'dexie-react-hooks';
import type { Limits } from '@/lib/storage/rows';
import { readQueue } from '@/lib/queue/read-queue';
import { queueView, type QueueView } from '@/lib/queue/queue-view';
import { getDb } from '@/lib/storage/db';
import { useNow } from '../ui/use-now';

/** The limits and the queue as they stand, live across contexts (Dexie refreshes on every write). */
export function useQueue(): { view: QueueView; limits: Limits; now: number } | null {
  const now = useNow();
  const records = useLiveQuery(() => readQueue(getDb()), []);
  return records ? { view: queueView(now, records), limits: records.limits, now } : null;
}
