/**
 * A PDF's pages, read from the objects written plainly in its bytes (sync, no decompression, no
 * imports: the popup's page counter uses it too). PDF 1.5 and later (LaTeX, Word) may pack the page
 * objects, and the page tree, into compressed object streams (`/Type /ObjStm`); then neither is
 * found here. lib/attachments/attachment-check.ts `pdfPages` also reads those streams.
 */

const PAGE = /\/Type\s*\/Page(?![a-zA-Z])/g;
const PAGES = /\/Type\s*\/Pages(?![a-zA-Z])/;
const COUNT = /\/Count\s+(\d+)/;

/** `/Type /Page` objects (not `/Pages`, the tree's nodes) in the text. */
export const pageObjects = (text: string): number => text.match(PAGE)?.length ?? 0;

/** The largest `/Count N` of a `/Type /Pages` dictionary among the objects' bodies; 0 when none. */
export function largestPagesCount(bodies: Iterable<string>): number {
  let most = 0;
  for (const body of bodies) {
    if (!PAGES.test(body)) continue;
    const count = COUNT.exec(body);
    if (count) most = Math.max(most, Number(count[1]));
  }
  return most;
}

/** The bodies of the objects written plainly (`N G obj ... endobj`). */
function* plainObjects(text: string): Generator<string> {
  const objects = /\d+\s+\d+\s+obj\b([\s\S]*?)\bendobj\b/g;
  for (let m = objects.exec(text); m; m = objects.exec(text)) yield m[1]!;
}

/** Latin-1 keeps one character per byte, so the markers are found among binary streams too. */
export const pdfText = (b: Uint8Array): string => new TextDecoder('latin1').decode(b);

/** Whether the file holds compressed object streams, where page objects may be hidden. */
export const hasObjectStreams = (text: string): boolean => /\/Type\s*\/ObjStm(?![a-zA-Z])/.test(text);

/**
 * Pages read from the plain text: the larger of the `/Type /Page` objects and the largest
 * `/Type /Pages` `/Count`; `counted` says whether a `/Count` was found (the tree's own figure).
 */
export function plainPdfPages(text: string): { pages: number; counted: boolean } {
  const count = largestPagesCount(plainObjects(text));
  return { pages: Math.max(pageObjects(text), count), counted: count > 0 };
}
