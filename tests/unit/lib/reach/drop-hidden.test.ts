import { describe, expect, it } from 'vitest';
import { dropHidden, type HideableElement } from '@/lib/reach/drop-hidden';

/** A stand-in element tree: attributes, the style the page's CSS gives it, and its children. */
interface Fake extends HideableElement {
  id: string;
  style: { display: string; visibility: string };
  children: Fake[];
  parent: Fake | null;
}

function el(
  id: string,
  attrs: Record<string, string> = {},
  style: Partial<Fake['style']> = {},
  children: Fake[] = [],
): Fake {
  const node: Fake = {
    id,
    tagName: 'DIV',
    style: { display: 'block', visibility: 'visible', ...style },
    children,
    parent: null,
    hasAttribute: (name) => name in attrs,
    getAttribute: (name) => attrs[name] ?? null,
    contains: (other) => {
      for (let p: Fake | null = other; p; p = p.parent) if (p === node) return true;
      return false;
    },
    remove: () => {
      if (node.parent) node.parent.children = node.parent.children.filter((c) => c !== node);
    },
  };
  for (const c of children) c.parent = node;
  return node;
}

const all = (root: Fake): Fake[] => root.children.flatMap((c) => [c, ...all(c)]);
const root = (children: Fake[]) => {
  const r = el('body', {}, {}, children);
  return Object.assign(r, { querySelectorAll: () => all(r) });
};
const page = () =>
  root([
    el('intro'),
    el('css-none', {}, { display: 'none' }, [el('inside-css-none')]),
    el('attr-hidden', { hidden: '' }),
    el('aria', { 'aria-hidden': 'true' }),
    el('aria-false', { 'aria-hidden': 'false' }),
    el('invisible', {}, { visibility: 'hidden' }),
    el('outro', {}, {}, [el('outro-text')]),
  ]);

describe('dropHidden', () => {
  it('removes from the copy what the live page hides by CSS, by the hidden attribute or from assistive tech, and keeps the rest', () => {
    const live = page();
    const copy = page();
    const removed = dropHidden(live, copy, (e) => e.style);
    expect(all(copy).map((e) => e.id)).toEqual(['intro', 'aria-false', 'outro', 'outro-text']);
    expect(removed).toBe(4);
    // The page itself is not touched.
    expect(all(live)).toHaveLength(9);
  });

  it('a copy that does not match the page still loses what its attributes hide', () => {
    const copy = page();
    dropHidden(root([el('other')]), copy, () => ({ display: 'none', visibility: 'hidden' }));
    expect(all(copy).map((e) => e.id)).toEqual([
      'intro',
      'css-none',
      'inside-css-none',
      'aria-false',
      'invisible',
      'outro',
      'outro-text',
    ]);
  });
});
