/**
 * Read-only access to the attachments' bytes for the pages (the writer is attachment-store.ts): a
 * message's images and PDFs, and the bytes they take in all.
 */
import type { AttachmentRow, PaceDB } from '../storage/db';

/** A message's attachments with their bytes, in the order they were sent. */
export async function attachmentsOf(db: PaceDB, messageId: string): Promise<AttachmentRow[]> {
  const rows = await db.attachments.where('messageId').equals(messageId).toArray();
  return rows.sort((a, b) => a.createdAt - b.createdAt);
}

/** The bytes every kept attachment takes (the usage page's share of the storage used). */
export async function attachmentBytes(db: PaceDB): Promise<number> {
  let total = 0;
  await db.attachments.each((row) => {
    total += row.blob.size;
  });
  return total;
}
