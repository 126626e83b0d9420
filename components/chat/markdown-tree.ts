/**
 * An answer's Markdown to React elements, drawn as react-markdown with remark-gfm drew them, for a
 * third of the script (issue 23: 51 KB gzip -> about 30 KB). The same parser (micromark with its GFM
 * extension, to an mdast tree) and the same mdast-to-hast step; what is left out is what the popup
 * never used: unified and vfile around them, remark-gfm's Markdown writer (mdast-util-to-markdown,
 * which remark-gfm registers whether or not anything writes), and hast-util-to-jsx-runtime with
 * its table of every HTML and SVG attribute: the hast here holds only the few properties
 * mdast-util-to-hast gives Markdown, named below. Raw HTML is shown as text, never parsed (as
 * react-markdown without rehype-raw), and link and image addresses go through `urlTransform`.
 */
import { createElement, Fragment, type ComponentType, type ReactNode } from 'react';
import type { Element, ElementContent, Root as HastRoot } from 'hast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { toHast } from 'mdast-util-to-hast';
import { gfm } from 'micromark-extension-gfm';

export type MarkdownComponents = Partial<Record<'a' | 'img', ComponentType<Record<string, unknown>>>>;

export interface MarkdownTreeOptions {
  /** Changes the mdast tree before it is drawn (remarkCapNesting). */
  transform?: (tree: ReturnType<typeof fromMarkdown>) => void;
  urlTransform: (url: string) => string;
  components: MarkdownComponents;
}

/** React drops whitespace between these; react-markdown dropped it too. */
const TABLE_PARTS = new Set(['table', 'tbody', 'thead', 'tfoot', 'tr']);
const TABLE_CELLS = new Set(['td', 'th']);
/** The addresses react-markdown passed through its urlTransform, by the elements Markdown makes. */
const URL_PROPS: Record<string, string> = { a: 'href', img: 'src' };
/** Property names as React wants them, where they differ from hast's (space-separated lists are joined). */
const REACT_NAMES: Record<string, string> = {
  dataFootnoteRef: 'data-footnote-ref',
  dataFootnotes: 'data-footnotes',
  dataFootnoteBackref: 'data-footnote-backref',
  ariaDescribedBy: 'aria-describedby',
  ariaLabel: 'aria-label',
};

export function markdownToReact(text: string, options: MarkdownTreeOptions): ReactNode {
  const mdast = fromMarkdown(text, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
  options.transform?.(mdast);
  const hast = toHast(mdast, { allowDangerousHtml: true }) as HastRoot;
  return createElement(Fragment, null, ...children(hast.children, null, options));
}

function children(
  nodes: (ElementContent | HastRoot['children'][number])[],
  parent: string | null,
  options: MarkdownTreeOptions,
): ReactNode[] {
  const out: ReactNode[] = [];
  nodes.forEach((node, index) => {
    if (node.type === 'text' || node.type === 'raw') {
      // Whitespace inside a table's rows is not React's to draw.
      if (parent !== null && TABLE_PARTS.has(parent) && /^[ \t\n\f\r]*$/.test(node.value)) return;
      out.push(node.value);
    } else if (node.type === 'element') {
      out.push(element(node, index, options));
    }
  });
  return out;
}

function element(node: Element, index: number, options: MarkdownTreeOptions): ReactNode {
  const props: Record<string, unknown> = { key: `${node.tagName}-${index}` };
  for (const [name, value] of Object.entries(node.properties)) {
    if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) continue;
    if (name === 'align' && TABLE_CELLS.has(node.tagName) && typeof value === 'string') {
      props.style = { textAlign: value };
      continue;
    }
    let v: unknown = Array.isArray(value) ? value.join(' ') : value;
    if (URL_PROPS[node.tagName] === name) v = options.urlTransform(String(v));
    props[REACT_NAMES[name] ?? name] = v;
  }
  const kids = children(node.children, node.tagName, options);
  const component = options.components[node.tagName as 'a' | 'img'];
  if (component) props.node = node;
  return createElement(component ?? node.tagName, props, ...kids);
}
