import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useState } from 'react';
import { attachmentStorage } from '@/lib/attachments/attachment-store';
import { getDb } from '@/lib/storage/db';
import { formatBytes } from '../attachments/pending';

/** What Pace's storage takes in this browser (navigator.storage.estimate) and the attachments' share of it. */
export function StorageUsed() {
  const [estimate, setEstimate] = useState<{ usage?: number; quota?: number } | null | 'unknown'>(null);
  const attachments = useLiveQuery(async () => (await attachmentStorage(getDb())).bytes, []);
  useEffect(() => {
    if (!navigator.storage?.estimate) {
      setEstimate('unknown');
      return;
    }
    navigator.storage.estimate().then(setEstimate, (err: unknown) => {
      console.warn('[pace] could not estimate the storage used', err);
      setEstimate('unknown');
    });
    // Read again when the attachments change: they are most of what grows.
  }, [attachments]);
  return (
    <section className="usage-card" aria-labelledby="storage-title">
      <h2 id="storage-title">Storage</h2>
      <p data-testid="storage-used">{storageSentence(estimate, attachments)}</p>
      <p className="hint">Chats, their images and PDFs, the queue and the usage records, in this browser only.</p>
    </section>
  );
}

export function storageSentence(
  estimate: { usage?: number; quota?: number } | null | 'unknown',
  attachments: number | undefined,
): string {
  if (estimate === null) return 'Measuring…';
  const share = attachments !== undefined ? `; images and PDFs: ${formatBytes(attachments)}` : '';
  if (estimate === 'unknown' || estimate.usage === undefined) {
    return `This browser does not say how much storage is used${share}.`;
  }
  const quota = estimate.quota ? ` of ${formatBytes(estimate.quota)} available` : '';
  return `${formatBytes(estimate.usage)} used${quota}${share}.`;
}
