/**
 * Reads a file the user attached, for chat.send: an image is decoded with createImageBitmap (off the
 * main thread) and, when its long edge is over 1568 px (what Anthropic scales it to anyway), drawn
 * smaller on an OffscreenCanvas; a PDF is sent as it is. Loaded with import() on the first
 * attachment, so the popup's first paint does not carry it. The background checks everything again.
 */
import { hasObjectStreams, pdfText, plainPdfPages } from '@/lib/attachments/pdf-pages';
import { PDF_MEDIA_TYPE } from '@/lib/storage/rows';
import {
  bytesToBase64,
  IMAGE_LONG_EDGE as LONG_EDGE,
  MAX_ATTACHMENTS,
  MAX_IMAGE_PX as MAX_SIDE,
  MAX_REQUEST_BYTES as MAX_BYTES,
} from '@/lib/attachments/attachment-limits';
import { typeRefusal, type PendingAttachment } from './pending';

type Prepared = { ok: true; attachment: PendingAttachment } | { ok: false; reason: string };

let next = 0;

/**
 * Reads each file and offers it to `add`, which takes it unless the message is full; resolves to why
 * each refused file cannot go.
 */
export async function prepareFiles(files: File[], add: (a: PendingAttachment) => boolean): Promise<string[]> {
  const refused: string[] = [];
  for (const file of files) {
    const prepared = await prepareFile(file).catch((err: unknown): Prepared => ({
      ok: false,
      reason: `${file.name} could not be read: ${err instanceof Error ? err.message : String(err)}`,
    }));
    if (!prepared.ok) refused.push(prepared.reason);
    else if (!add(prepared.attachment)) {
      if (prepared.attachment.url) URL.revokeObjectURL(prepared.attachment.url);
      refused.push(`${file.name} was left out: at most ${MAX_ATTACHMENTS} attachments a message.`);
    }
  }
  return refused;
}

/** A screenshot's data URL as a file named for its tab. */
export async function screenshotFile(dataUrl: string, title: string): Promise<File> {
  const blob = await (await fetch(dataUrl)).blob();
  return new File([blob], `Screenshot of ${title.trim() || 'the tab'}.png`, { type: blob.type || 'image/png' });
}

async function prepareFile(file: File): Promise<Prepared> {
  const refused = typeRefusal(file);
  if (refused) return { ok: false, reason: refused };
  if (file.size > MAX_BYTES) return { ok: false, reason: `${file.name} is over 32 MB, more than one message holds.` };
  const key = `att-${Date.now()}-${next++}`;
  if (file.type === PDF_MEDIA_TYPE) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const pages = pageCount(bytes);
    return {
      ok: true,
      attachment: {
        key,
        kind: 'pdf',
        name: file.name,
        mediaType: PDF_MEDIA_TYPE,
        data: bytesToBase64(bytes),
        bytes: bytes.length,
        ...(pages ? { pages } : {}),
      },
    };
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return { ok: false, reason: `${file.name} could not be read as an image.` };
  }
  const { width, height } = bitmap;
  if (width > MAX_SIDE || height > MAX_SIDE) {
    bitmap.close();
    return {
      ok: false,
      reason: `${file.name} is ${width} x ${height} px: Claude takes images up to ${MAX_SIDE} x ${MAX_SIDE} px.`,
    };
  }
  const size = fitted(width, height);
  let blob: Blob = file;
  let mediaType = file.type;
  if (size.width !== width || size.height !== height) {
    // A photo stays a JPEG; a PNG, GIF or WebP (screenshots, drawings, transparency) becomes a PNG.
    mediaType = file.type === 'image/jpeg' ? 'image/jpeg' : 'image/png';
    const canvas = new OffscreenCanvas(size.width, size.height);
    const context = canvas.getContext('2d');
    if (!context) {
      bitmap.close();
      return { ok: false, reason: `${file.name} could not be made smaller in this browser.` };
    }
    context.drawImage(bitmap, 0, 0, size.width, size.height);
    blob = await canvas.convertToBlob({ type: mediaType, quality: 0.9 });
  }
  bitmap.close();
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return {
    ok: true,
    attachment: {
      key,
      kind: 'image',
      name: file.name,
      mediaType,
      data: bytesToBase64(bytes),
      bytes: bytes.length,
      width: size.width,
      height: size.height,
      url: URL.createObjectURL(blob),
    },
  };
}

/** The size an image is sent at: its long edge at most LONG_EDGE px, the aspect kept. */
export function fitted(width: number, height: number): { width: number; height: number } {
  const long = Math.max(width, height);
  if (long <= LONG_EDGE) return { width, height };
  const scale = LONG_EDGE / long;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Pages of a PDF, from what is plain in its bytes: the larger of its `/Type /Page` objects and its
 * page tree's `/Count`. Null when unknown: nothing found, or no `/Count` while compressed object
 * streams (PDF 1.5+) may hold more page objects, where the plain ones alone would be a wrong number.
 * The background counts inside those streams (lib/attachments/attachment-check.ts); this only shows a figure.
 */
export function pageCount(bytes: Uint8Array): number | null {
  const text = pdfText(bytes);
  const { pages, counted } = plainPdfPages(text);
  if (!counted && hasObjectStreams(text)) return null;
  return pages > 0 ? pages : null;
}
