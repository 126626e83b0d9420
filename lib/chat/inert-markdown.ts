/**
 * Message text made inert for a Markdown file: opened in an editor's preview it loads nothing and
 * runs nothing, whatever Claude (or a page quoted to it) wrote. Pure; lib/chat/chat-export.ts calls it.
 *
 * - An image, `![alt](url)`, is written as the text `[image: alt](url)`; any other `![` loses its
 *   bracket's meaning (`!\[`), so no image syntax is left, reference-style included.
 * - Every `<` is written `&lt;`, so no raw HTML (and no `<http://…>` autolink) is left. Inside a
 *   fenced code block nothing renders, so code keeps its `<`; inline code does not (it shows
 *   `&lt;`): deciding where an inline code span starts and ends takes a whole Markdown parser, and
 *   a wrong guess would leave live HTML.
 * - A fence's info string keeps only a plain language name, and none of the kinds some previews draw
 *   with a network service (maps, diagrams).
 *
 * `quoteLines` puts a text in a blockquote, line by line, so that a heading inside it ("## Claude")
 * stays inside it and an unclosed fence ends with it.
 */

/** Fence kinds some previews render through a map or diagram service: they lose their info string. */
const DRAWN = new Set([
  'mermaid',
  'geojson',
  'topojson',
  'stl',
  'plantuml',
  'puml',
  'kroki',
  'graphviz',
  'dot',
  'vega',
  'vega-lite',
  'd2',
]);

const FENCE_OPEN = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const FENCE_CLOSE = /^( *)(`{3,}|~{3,}) *$/;
const IMAGE = /!\[([^\]\n]*)\]\(([^)\n]*)\)/g;

/** Leading tabs as spaces (to the next multiple of 4, as CommonMark counts them), so indentation means one thing once quoted. */
function expandIndent(line: string): string {
  const lead = /^[ \t]*/.exec(line)![0];
  if (!lead.includes('\t')) return line;
  let col = 0;
  for (const c of lead) col = c === '\t' ? col + 4 - (col % 4) : col + 1;
  return ' '.repeat(col) + line.slice(lead.length);
}

const indentOf = (line: string) => /^ */.exec(line)![0].length;

/** A line of prose: images become text, other image openers lose their meaning, and no `<` is left. */
export function inertProse(line: string): string {
  return line
    .replace(IMAGE, (_, alt: string, url: string) => `\\[image: ${alt}\\](${url.trim()})`)
    .replaceAll('![', '!\\[')
    .replaceAll('<', '&lt;');
}

/** A line inside a fenced code block: shown as it is, but an image's syntax still reads as text. */
const inertCode = (line: string) =>
  line.replace(IMAGE, (_, alt: string, url: string) => `[image: ${alt}](${url.trim()})`);

function fenceLine(indent: string, fence: string, info: string): string {
  const lang = info.trim().split(/\s+/)[0] ?? '';
  const keep = /^[\w+#.-]{1,30}$/.test(lang) && !DRAWN.has(lang.toLowerCase());
  return `${indent}${fence}${keep ? lang : ''}`;
}

export function inertMarkdown(text: string): string {
  const out: string[] = [];
  let fence: { char: string; length: number; indent: number } | null = null;
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    const line = expandIndent(raw);
    if (fence) {
      const close = FENCE_CLOSE.exec(line);
      if (
        close &&
        close[2]![0] === fence.char &&
        close[2]!.length >= fence.length &&
        indentOf(line) <= fence.indent + 3
      ) {
        out.push(line);
        fence = null;
        continue;
      }
      // A line indented less than its fence may have ended the list item holding it, and the fence
      // with it: from there it is prose (escaping what was code only shows an `&lt;`).
      if (line.trim() === '' || indentOf(line) >= fence.indent) {
        out.push(inertCode(line));
        continue;
      }
      fence = null;
    }
    const open = FENCE_OPEN.exec(line);
    if (open && !(open[2]![0] === '`' && open[3]!.includes('`'))) {
      fence = { char: open[2]![0]!, length: open[2]!.length, indent: open[1]!.length };
      out.push(fenceLine(open[1]!, open[2]!, open[3]!));
      continue;
    }
    out.push(inertProse(line));
  }
  return out.join('\n');
}

/** The text as a blockquote: every line behind `> ` (an empty one as `>`). */
export function quoteLines(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
}
