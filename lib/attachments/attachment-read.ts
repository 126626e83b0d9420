/** Read-only access to a message's attachments for the pages (the writer is attachment-store.ts). */
import type { AttachmentRow, PaceDB } from '../storage/db';

/** A message's attachments with their bytes, in the order they were sent. */
export async function attachmentsOf(db: PaceDB, messageId: string): Promise<AttachmentRow[]> {
  const rows = await db.attachments.where('messageId').equals(messageId).toArray();
  return rows.sort((a, b) => a.createdAt - b.createdAt);
}
