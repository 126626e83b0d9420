/**
 * The `attachments` table's only writer: an image's or PDF's bytes, stored beside the user message
 * they were sent with. Rows are added in chat.send's transaction (lib/chat/conversation-store.ts
 * `addExchange`), read back as base64 when a request is built, and deleted with their conversation
 * (by the user or by the chat retention, both through `deleteConversations`).
 */
import type { AttachmentRow, PaceDB } from '../storage/db';
import type { AttachmentRef } from '../storage/rows';
import { bytesToBase64 } from './attachment-limits';

/** An attachment to store: what the message keeps, and its bytes. */
export interface NewAttachment {
  ref: AttachmentRef;
  bytes: Uint8Array<ArrayBuffer>;
}

/** Adds a message's attachments. Call inside a read-write transaction that includes `attachments`. */
export async function addAttachmentsInTx(
  db: PaceDB,
  at: { conversationId: string; messageId: string; now: number },
  attachments: readonly NewAttachment[],
): Promise<void> {
  if (attachments.length === 0) return;
  const rows: AttachmentRow[] = attachments.map((a) => ({
    ...a.ref,
    conversationId: at.conversationId,
    messageId: at.messageId,
    createdAt: at.now,
    blob: new Blob([a.bytes], { type: a.ref.mediaType }),
  }));
  await db.attachments.bulkAdd(rows);
}

/** Deletes the attachments of these conversations. Call inside a read-write transaction that includes `attachments`. */
export async function deleteAttachmentsInTx(db: PaceDB, conversationIds: readonly string[]): Promise<number> {
  if (conversationIds.length === 0) return 0;
  return db.attachments
    .where('conversationId')
    .anyOf([...conversationIds])
    .delete();
}

/**
 * The bytes of these attachments as base64, by id; an attachment whose row is gone is missing from
 * the map (the request builder says so). Reads nothing when there are none.
 */
export async function readAttachmentData(db: PaceDB, ids: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (ids.length === 0) return found;
  const rows = await db.attachments.bulkGet([...ids]);
  const datas = await Promise.all(
    rows.map(async (row) => (row ? bytesToBase64(new Uint8Array(await row.blob.arrayBuffer())) : null)),
  );
  rows.forEach((row, i) => {
    if (row && datas[i] !== null) found.set(row.id, datas[i]!);
  });
  return found;
}

/** The bytes the stored attachments take, and how many there are (the usage page's storage line). */
export async function attachmentStorage(db: PaceDB): Promise<{ bytes: number; count: number }> {
  let bytes = 0;
  let count = 0;
  await db.attachments.each((row) => {
    bytes += typeof row.bytes === 'number' ? row.bytes : 0;
    count++;
  });
  return { bytes, count };
}
