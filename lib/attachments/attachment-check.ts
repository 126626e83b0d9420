/**
 * Checks an image or PDF a page attaches to a message (pure apart from WebCrypto's digest), before
 * anything is stored: an allowed type, base64 that decodes, bytes that are what the type says (their
 * magic number), an image's size read from its own header (the page's width and height are not
 * trusted), at most 8000 x 8000 px, a PDF of at most 100 pages (when its pages can be found), and the
 * whole request at most 32 MB. `contextPdfProblem` holds a whole request's PDFs to 100 pages.
 *
 * `checkAttachments` gives each attachment's `AttachmentRef` (its tokens and hash) and its bytes, or
 * the first refusal with the file's name and the figures.
 */
import { IMAGE_MEDIA_TYPES, PDF_MEDIA_TYPE, type AttachmentRef, type ImageMediaType } from '../storage/rows';
import { formatCount } from '../limits/format';
import { hasObjectStreams, largestPagesCount, pageObjects, pdfText, plainPdfPages } from './pdf-pages';
import { IMAGE_LONG_EDGE, MAX_IMAGE_PX, MAX_REQUEST_BYTES } from './attachment-limits';

/** What the page sends (lib/protocol.ts `attachments`). */
export interface AttachmentInput {
  name: string;
  mediaType: string;
  data: string;
  width?: number;
  height?: number;
}

/** A checked attachment: what the message keeps, and its bytes as base64 and as a Blob for the table. */
export interface CheckedAttachment {
  ref: AttachmentRef;
  data: string;
  bytes: Uint8Array<ArrayBuffer>;
}

const MAX_PDF_PAGES = 100;
/** ...and its tokens at most about this (roughly 1.15 megapixels). */
const SCALED_TOKENS = 1600;
/**
 * A PDF page costs its text plus an image of the page: Anthropic documents 1,500 to 3,000 tokens a
 * page. Before the API's count is had (or when it cannot be, as on the demo backend), the top of that range.
 */
export const PDF_TOKENS_PER_PAGE = 3000;

const TYPE_NAMES: Record<ImageMediaType, string> = {
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/gif': 'GIF',
  'image/webp': 'WebP',
};

export type AttachmentCheck = { ok: true; attachments: CheckedAttachment[] } | { ok: false; message: string };

const isImageType = (t: string): t is ImageMediaType => (IMAGE_MEDIA_TYPES as readonly string[]).includes(t);

/** The bytes of base64 text (standard alphabet, padding optional), or null when it is not base64. */
export function decodeBase64(data: string): Uint8Array<ArrayBuffer> | null {
  const text = data.replace(/\s+/g, '');
  if (text === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) return null;
  try {
    const raw = atob(text.padEnd(Math.ceil(text.length / 4) * 4, '='));
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  } catch (err) {
    console.info('[pace] attachment data is not base64', err instanceof Error ? err.name : 'error');
    return null;
  }
}

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => sig.every((v, i) => b[at + i] === v);
const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

/** The image type the bytes' magic number says, or null. */
function sniffImageType(b: Uint8Array): ImageMediaType | null {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return 'image/gif';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'image/webp';
  return null;
}

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;

/** An image's width and height in pixels, read from its header; null when the header cannot be read. */
function imageSize(b: Uint8Array, type: ImageMediaType): { width: number; height: number } | null {
  switch (type) {
    case 'image/png':
      return b.length >= 24 && ascii(b, 12, 16) === 'IHDR' ? { width: u32be(b, 16), height: u32be(b, 20) } : null;
    case 'image/gif':
      return b.length >= 10 ? { width: u16le(b, 6), height: u16le(b, 8) } : null;
    case 'image/webp':
      return webpSize(b);
    case 'image/jpeg':
      return jpegSize(b);
  }
}

function webpSize(b: Uint8Array): { width: number; height: number } | null {
  if (b.length < 30) return null;
  const chunk = ascii(b, 12, 16);
  if (chunk === 'VP8 ') return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  if (chunk === 'VP8L') {
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  return null;
}

function jpegSize(b: Uint8Array): { width: number; height: number } | null {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    // Fill bytes, and markers without a length.
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    // A start of frame (not DHT 0xc4, JPG 0xc8 or DAC 0xcc) holds the size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: u16be(b, i + 5), width: u16be(b, i + 7) };
    }
    i += 2 + u16be(b, i + 2);
  }
  return null;
}

/**
 * The input tokens an image costs: width x height / 750, at the size Anthropic scales it to (long
 * edge at most 1568 px, about 1,600 tokens at most). A larger image is accepted, and counted at that size.
 */
export function imageTokens(width: number, height: number): number {
  const long = Math.max(width, height);
  const scale = long > IMAGE_LONG_EDGE ? IMAGE_LONG_EDGE / long : 1;
  const tokens = Math.ceil((Math.round(width * scale) * Math.round(height * scale)) / 750);
  return Math.max(1, Math.min(tokens, SCALED_TOKENS));
}

/** At most this many bytes are inflated from a PDF's object streams (a small file can inflate to gigabytes). */
const MAX_INFLATED = 64 * 1024 * 1024;

/** The stream's bytes inflated (zlib, as /FlateDecode is), or null when they are not, or inflate past `budget`. */
async function inflate(data: Uint8Array<ArrayBuffer>, budget: number): Promise<Uint8Array | null> {
  const reader = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate')).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > budget) {
        await reader.cancel();
        return null;
      }
      chunks.push(value);
    }
  } catch (err) {
    console.info('[pace] a PDF object stream did not inflate', err instanceof Error ? err.name : 'error');
    return null;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The objects packed in the PDF's /FlateDecode object streams (`/Type /ObjStm`), each one's text:
 * the stream begins with N pairs "object-number offset", and the objects start at /First.
 */
async function objectStreamBodies(b: Uint8Array<ArrayBuffer>, text: string): Promise<string[]> {
  const bodies: string[] = [];
  let budget = MAX_INFLATED;
  const marker = /\/Type\s*\/ObjStm(?![a-zA-Z])/g;
  for (let m = marker.exec(text); m; m = marker.exec(text)) {
    const start = text.lastIndexOf('obj', m.index);
    const keyword = text.indexOf('stream', m.index);
    if (start < 0 || keyword < 0) continue;
    const dict = text.slice(start, keyword);
    if (dict.includes('endobj') || !/\/Filter\s*(\[\s*)?\/FlateDecode\s*\]?\s*[/>]/.test(dict)) continue;
    const first = /\/First\s+(\d+)/.exec(dict);
    const n = /\/N\s+(\d+)/.exec(dict);
    if (!first || !n) continue;
    let from = keyword + 'stream'.length;
    if (text[from] === '\r') from++;
    if (text[from] === '\n') from++;
    // /Length when it is written as a number (not a reference to another object), else up to endstream.
    const length = /\/Length\s+(\d+)\b(?!\s+\d+\s+R)/.exec(dict);
    let to = length ? from + Number(length[1]) : text.indexOf('endstream', from);
    // The end of line before endstream is not the stream's (a browser's inflate may refuse bytes after the end).
    if (!length && text[to - 1] === '\n') to--;
    if (!length && text[to - 1] === '\r') to--;
    if (to <= from || to > b.length) continue;
    const inflated = await inflate(b.slice(from, to), budget);
    if (inflated === null) continue;
    budget -= inflated.length;
    const objects = new TextDecoder('latin1').decode(inflated);
    const header = objects.slice(0, Number(first[1])).trim().split(/\s+/).map(Number);
    const offsets = header.filter((_, i) => i % 2 === 1).slice(0, Number(n[1]));
    const base = Number(first[1]);
    offsets.forEach((offset, i) => {
      const next = offsets[i + 1];
      bodies.push(objects.slice(base + offset, next === undefined ? undefined : base + next));
    });
  }
  return bodies;
}

/**
 * A PDF's pages: the larger of its plain `/Type /Page` objects (not `/Pages`, the tree's nodes) and
 * the largest `/Count` of a plain `/Type /Pages` dictionary (lib/attachments/pdf-pages.ts). When no
 * `/Count` is plain and the file has compressed object streams (PDF 1.5+: LaTeX, Word), the page
 * objects and the page tree may be inside them: those are inflated and counted too. Null when no
 * page can be found (the pages are unknown, not none).
 */
export async function pdfPages(b: Uint8Array<ArrayBuffer>): Promise<number | null> {
  const text = pdfText(b);
  const plain = plainPdfPages(text);
  if (plain.counted || !hasObjectStreams(text)) return plain.pages > 0 ? plain.pages : null;
  const packed = await objectStreamBodies(b, text);
  const pages = Math.max(
    plain.pages,
    pageObjects(text) + packed.reduce((n, body) => n + pageObjects(body), 0),
    largestPagesCount(packed),
  );
  return pages > 0 ? pages : null;
}

/**
 * Tokens a PDF whose pages cannot be found is reckoned at until the API counts it (count_tokens is
 * asked before every PDF is sent): a page's worth for each 100 kB, at least one page.
 */
export const unknownPdfTokens = (bytes: number) => PDF_TOKENS_PER_PAGE * Math.max(1, Math.ceil(bytes / 100_000));

/**
 * Why a request's PDFs cannot go together: Anthropic reads at most 100 PDF pages in one request,
 * and every earlier turn's PDFs are sent again with each message. A PDF whose pages are unknown adds
 * none here (the API refuses it itself). Null when they fit.
 */
export function contextPdfProblem(turns: readonly { attachments?: readonly AttachmentRef[] }[]): string | null {
  const pages = turns.reduce(
    (n, t) => n + (t.attachments ?? []).reduce((k, a) => k + (a.kind === 'pdf' ? (a.pages ?? 0) : 0), 0),
    0,
  );
  if (pages <= MAX_PDF_PAGES) return null;
  return `This chat's PDFs come to ${formatCount(pages)} pages; Anthropic reads at most ${MAX_PDF_PAGES} in one request. Start a new chat for this PDF.`;
}

const isPdf = (b: Uint8Array) => ascii(b, 0, 5) === '%PDF-';

export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, '0')).join('');
}

const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;

async function checkOne(
  input: AttachmentInput,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<{ ok: true; ref: Omit<AttachmentRef, 'id' | 'hash'> } | { ok: false; message: string }> {
  const name = input.name;
  if (input.mediaType === PDF_MEDIA_TYPE) {
    if (!isPdf(bytes)) return { ok: false, message: `${name} is not a PDF (its bytes do not start with %PDF-).` };
    const pages = await pdfPages(bytes);
    // Pages not found (packed in a way Pace does not read): accepted, reckoned from its size; the
    // API's count_tokens is asked before it is sent, and the API refuses a PDF over 100 pages itself.
    if (pages !== null && pages > MAX_PDF_PAGES) {
      return {
        ok: false,
        message: `${name} has ${formatCount(pages)} pages; Claude reads at most ${MAX_PDF_PAGES} pages of PDF a message. Split it, or send the pages you need.`,
      };
    }
    return {
      ok: true,
      ref: {
        kind: 'pdf',
        name,
        mediaType: PDF_MEDIA_TYPE,
        bytes: bytes.length,
        ...(pages === null ? {} : { pages }),
        tokens: pages === null ? unknownPdfTokens(bytes.length) : pages * PDF_TOKENS_PER_PAGE,
      },
    };
  }
  if (!isImageType(input.mediaType)) {
    return {
      ok: false,
      message: `${name} is ${input.mediaType || 'of an unknown type'}; Claude reads JPEG, PNG, GIF and WebP images and PDFs.`,
    };
  }
  const type = input.mediaType;
  const actual = sniffImageType(bytes);
  if (actual === null) return { ok: false, message: `${name} is not a JPEG, PNG, GIF or WebP image.` };
  if (actual !== type) {
    return { ok: false, message: `${name} is sent as ${TYPE_NAMES[type]} but its bytes are ${TYPE_NAMES[actual]}.` };
  }
  const size = imageSize(bytes, type);
  if (size === null || size.width < 1 || size.height < 1) {
    return { ok: false, message: `${name}: Pace cannot read the image's size from its ${TYPE_NAMES[type]} header.` };
  }
  if (size.width > MAX_IMAGE_PX || size.height > MAX_IMAGE_PX) {
    return {
      ok: false,
      message: `${name} is ${size.width} x ${size.height} px; Claude takes images of at most ${MAX_IMAGE_PX} x ${MAX_IMAGE_PX} px.`,
    };
  }
  return {
    ok: true,
    ref: {
      kind: 'image',
      name,
      mediaType: type,
      bytes: bytes.length,
      ...size,
      tokens: imageTokens(size.width, size.height),
    },
  };
}

/**
 * Checks every attachment, in order; the first refusal names its file. `textBytes` is the rest of
 * the request (its text), counted toward the 32 MB with the attachments' base64.
 */
export async function checkAttachments(
  inputs: readonly AttachmentInput[],
  newId: () => string,
  textBytes = 0,
): Promise<AttachmentCheck> {
  const checked: { ref: Omit<AttachmentRef, 'id' | 'hash'>; data: string; bytes: Uint8Array<ArrayBuffer> }[] = [];
  let total = textBytes;
  for (const input of inputs) {
    const name = input.name.trim() || 'The attachment';
    const bytes = decodeBase64(input.data);
    if (bytes === null) return { ok: false, message: `${name} could not be read: its data is not base64.` };
    const one = await checkOne({ ...input, name }, bytes);
    if (!one.ok) return one;
    total += input.data.length;
    checked.push({ ref: one.ref, data: input.data.replace(/\s+/g, ''), bytes });
  }
  if (total > MAX_REQUEST_BYTES) {
    return {
      ok: false,
      message: `These attachments make the request ${mb(total)}; Claude takes at most ${mb(MAX_REQUEST_BYTES)} a request (base64 included). Send fewer or smaller files.`,
    };
  }
  const hashes = await Promise.all(checked.map((c) => sha256Hex(c.bytes)));
  return {
    ok: true,
    attachments: checked.map((c, i) => ({
      ref: { id: newId(), ...c.ref, hash: hashes[i]! },
      data: c.data,
      bytes: c.bytes,
    })),
  };
}
