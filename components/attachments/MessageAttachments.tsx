import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useState } from 'react';
import { attachmentsOf } from '@/lib/attachments/attachment-read';
import { getDb } from '@/lib/storage/db';
import type { AttachmentRef } from '@/lib/storage/rows';
import { formatBytes } from './pending';

/** A user message's images (thumbnails of the bytes kept with it) and PDFs (a chip with the name and pages). */
export function MessageAttachments({ messageId, refs }: { messageId: string; refs: AttachmentRef[] }) {
  const rows = useLiveQuery(() => attachmentsOf(getDb(), messageId), [messageId]);
  const [urls, setUrls] = useState<Record<string, string>>({});
  useEffect(() => {
    if (!rows) return;
    const made = Object.fromEntries(
      rows.filter((r) => r.kind === 'image').map((r) => [r.id, URL.createObjectURL(r.blob)] as const),
    );
    setUrls(made);
    return () => Object.values(made).forEach((url) => URL.revokeObjectURL(url));
  }, [rows]);
  return (
    <ul className="message-attachments" aria-label="Attachments">
      {refs.map((a) => (
        <li key={a.id}>
          {a.kind === 'image' ? (
            <img
              data-testid="message-attachment"
              className="message-image"
              src={urls[a.id]}
              alt={a.name}
              title={a.name}
              width={a.width && a.height ? Math.round((a.width / a.height) * 64) : undefined}
              height={a.width && a.height ? 64 : undefined}
            />
          ) : (
            <span className="chip" data-testid="message-attachment" title={`${a.name}, ${formatBytes(a.bytes)}`}>
              PDF: {a.name}
              {a.pages ? ` (${a.pages} ${a.pages === 1 ? 'page' : 'pages'})` : ''}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
