/**
 * Pure helpers that keep an answer's text cheap and safe to show, whatever the model (or a hostile
 * server) sends: broken UTF-16, nesting that would blow the parser's time or the renderer's stack,
 * and texts too long to format as Markdown without freezing the popup.
 */

/** Above this many characters an answer is shown as plain text: formatting it would freeze the popup. */
export const FORMAT_MAX_CHARS = 30_000;
/** Lists and block quotes deeper than this are shown flattened, as one paragraph of their text. */
export const MAX_NESTING = 8;
/** While an answer streams, it is formatted again at most this often (see `formatDelay`). */
export const MAX_FORMAT_DELAY_MS = 1_500;

/** Lone surrogates (invalid UTF-16) become U+FFFD, as a decoder would show them. */
export function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}

/**
 * How long to wait before formatting a streaming answer again, given how long the last formatting
 * took: four times as long, so formatting never takes more than a fifth of the page's time.
 */
export function formatDelay(lastCostMs: number): number {
  return Math.min(MAX_FORMAT_DELAY_MS, Math.max(0, lastCostMs * 4));
}

const SPACE = 32;
const TAB = 9;

/**
 * Whether some line opens so many nested lists or quotes that the Markdown parser would take
 * seconds on it (its cost grows faster than linearly with depth): `maxMarkers` container markers at
 * the start of one line (`- - - - x`, `> > > x`), or a list item indented by `maxIndent` columns.
 * Scans each line's start only, so it is linear in the text.
 */
export function nestingTooDeep(text: string, maxMarkers = 48, maxIndent = 160): boolean {
  const n = text.length;
  let i = 0;
  while (i < n) {
    let j = i;
    let column = 0;
    let markers = 0;
    let indentBeforeFirst = -1;
    for (;;) {
      const c = text.charCodeAt(j);
      if (c === SPACE) {
        column++;
        j++;
        continue;
      }
      if (c === TAB) {
        column += 4;
        j++;
        continue;
      }
      let end = -1;
      if (c === 62 /* > */) end = j + 1;
      else if ((c === 45 /* - */ || c === 42 /* * */ || c === 43) /* + */ && isBlank(text.charCodeAt(j + 1)))
        end = j + 1;
      else if (c >= 48 && c <= 57) {
        let k = j;
        while (k < n && k - j < 9 && text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57) k++;
        const d = text.charCodeAt(k);
        if ((d === 46 /* . */ || d === 41) /* ) */ && isBlank(text.charCodeAt(k + 1))) end = k + 1;
      }
      if (end < 0) break;
      if (indentBeforeFirst < 0) indentBeforeFirst = column;
      markers++;
      if (markers >= maxMarkers || indentBeforeFirst >= maxIndent) return true;
      column += end - j;
      j = end;
    }
    const next = text.indexOf('\n', j);
    if (next < 0) return false;
    i = next + 1;
  }
  return false;
}

function isBlank(c: number): boolean {
  // NaN: the end of the text.
  return c === SPACE || c === TAB || c === 10 || c === 13 || Number.isNaN(c);
}

/**
 * Cuts a long text into pieces of about `size` characters for display, at a line break when one is
 * near, never inside a surrogate pair. A piece's end depends only on the text before it, so while
 * an answer grows only its last piece changes. Joined, the pieces are the text.
 */
export function splitForDisplay(text: string, size = 4_000): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (text.length - start > size) {
    let end = start + size;
    // Looks back only half a piece for a line break: lastIndexOf would scan a huge line to its start.
    let newline = end - 1;
    while (newline >= start + size / 2 && text.charCodeAt(newline) !== 10) newline--;
    if (newline >= start + size / 2) end = newline + 1;
    else if (isHighSurrogate(text.charCodeAt(end - 1))) end--;
    pieces.push(text.slice(start, end));
    start = end;
  }
  pieces.push(text.slice(start));
  return pieces;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** The parts of an mdast tree this module reads (kept local so it needs no mdast types). */
export interface MdNode {
  type: string;
  value?: string;
  children?: MdNode[];
}

const NESTING = new Set(['list', 'blockquote']);
const BLOCK = new Set([
  'paragraph',
  'heading',
  'listItem',
  'code',
  'blockquote',
  'list',
  'tableCell',
  'tableRow',
  'table',
]);

/**
 * Replaces every list or quote nested deeper than `max` by a paragraph of its text, so the page
 * never indents past its width nor recurses deeply while rendering. Iterative: the tree can be
 * thousands of levels deep.
 */
export function capNesting(tree: MdNode, max = MAX_NESTING): void {
  const stack: Array<{ node: MdNode; depth: number }> = [{ node: tree, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!node.children) continue;
    node.children = node.children.map((child) => {
      const d = depth + (NESTING.has(child.type) ? 1 : 0);
      if (d > max) return { type: 'paragraph', children: [{ type: 'text', value: flatText(child) }] };
      stack.push({ node: child, depth: d });
      return child;
    });
  }
}

/** The text of a subtree, blocks separated by a space; iterative. */
export function flatText(root: MdNode): string {
  const out: string[] = [];
  const stack: Array<MdNode | string> = [root];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    if (item.value !== undefined) out.push(item.value);
    if (BLOCK.has(item.type)) stack.push(' ');
    if (item.children) for (let k = item.children.length - 1; k >= 0; k--) stack.push(item.children[k]!);
  }
  return out.join('').replace(/\s+/g, ' ').trim();
}

/** A remark plugin applying `capNesting`. */
export function remarkCapNesting() {
  return (tree: MdNode) => capNesting(tree);
}

/**
 * Of an answer's `text`, what to format now, when `paced` is what pacing last let through: while
 * `live` (streaming), the paced text; the first words always at once (nothing was formatted yet,
 * and they are what the user waits for); once the answer has ended, all of it.
 */
export function textToFormat(text: string, paced: string, live: boolean): string {
  return live && paced !== '' ? paced : text;
}
