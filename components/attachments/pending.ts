/**
 * Images and PDFs waiting in the composer for the next message. What the page checks before it
 * reads a file (its type); the reading and downscaling are in ./prepare-file.ts, loaded on first use.
 */
import { IMAGE_MEDIA_TYPES, PDF_MEDIA_TYPE, type AttachmentKind } from '@/lib/storage/rows';

export interface PendingAttachment {
  /** Tells one pending attachment from another (not the id the background gives the stored one). */
  key: string;
  kind: AttachmentKind;
  name: string;
  mediaType: string;
  /** The bytes to send, base64. */
  data: string;
  /** Size of the bytes to send. */
  bytes: number;
  width?: number;
  height?: number;
  /** Pages of a PDF, when its text says so plainly. */
  pages?: number;
  /** An object URL of the image as sent, for its thumbnail; revoked when it is removed or sent. */
  url?: string;
}

/** What chat.send and chat.preview take of it. */
export function toPayload(a: PendingAttachment) {
  return {
    name: a.name,
    mediaType: a.mediaType,
    data: a.data,
    ...(a.width !== undefined ? { width: a.width } : {}),
    ...(a.height !== undefined ? { height: a.height } : {}),
  };
}

/** Why a file cannot go, from its type alone; null when it may be read. */
export function typeRefusal(file: { name: string; type: string }): string | null {
  if ((IMAGE_MEDIA_TYPES as readonly string[]).includes(file.type) || file.type === PDF_MEDIA_TYPE) return null;
  return `${file.name || 'That file'} can't be sent: Claude reads JPEG, PNG, GIF and WebP images and PDFs only.`;
}

/** The image files of a paste or a drop (other items, such as text, are left to the text box). */
export function filesOf(data: { files?: ArrayLike<File> | null } | null): File[] {
  return data?.files ? Array.from(data.files) : [];
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}
