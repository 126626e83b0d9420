import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  capNesting,
  flatText,
  formatDelay,
  MAX_FORMAT_DELAY_MS,
  nestingTooDeep,
  textToFormat,
  splitForDisplay,
  wellFormed,
  type MdNode,
} from '@/components/chat/answer-text';

describe('wellFormed', () => {
  it('turns lone surrogates into U+FFFD and keeps pairs', () => {
    expect(wellFormed('a\ud800b\udfffc')).toBe('a\ufffdb\ufffdc');
    expect(wellFormed('end \ud83d')).toBe('end \ufffd');
    expect(wellFormed('\ud83d\ude00')).toBe('\u{1f600}');
    const ok = 'plain text';
    expect(wellFormed(ok)).toBe(ok);
  });

  it('always returns well-formed text of the same length', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = wellFormed(s);
        expect(out.isWellFormed()).toBe(true);
        expect(out).toHaveLength(s.length);
      }),
    );
  });
});

describe('formatDelay', () => {
  it('waits four times the last cost, within bounds', () => {
    expect(formatDelay(0)).toBe(0);
    expect(formatDelay(10)).toBe(40);
    expect(formatDelay(100_000)).toBe(MAX_FORMAT_DELAY_MS);
    expect(formatDelay(-5)).toBe(0);
  });
});

describe('nestingTooDeep', () => {
  it('flags long runs of list or quote markers on one line', () => {
    expect(nestingTooDeep(`${'- '.repeat(1000)}x`)).toBe(true);
    expect(nestingTooDeep(`${'> '.repeat(60)}x`)).toBe(true);
    expect(nestingTooDeep(`${'>'.repeat(60)}x`)).toBe(true);
    expect(nestingTooDeep(`${'1. '.repeat(60)}x`)).toBe(true);
    expect(nestingTooDeep(`intro\n\n${'* '.repeat(48)}x`)).toBe(true);
  });

  it('flags a list item indented past 160 columns', () => {
    const staircase = Array.from({ length: 100 }, (_, i) => `${'  '.repeat(i)}- step ${i}`).join('\n');
    expect(nestingTooDeep(staircase)).toBe(true);
    expect(nestingTooDeep(`${'\t'.repeat(40)}- item`)).toBe(true);
  });

  it('leaves ordinary Markdown alone', () => {
    const ordinary = [
      '# Title',
      '- a\n  - b\n    - c',
      '> > quoted twice',
      '---',
      '- - -',
      `${' '.repeat(200)}indented code, not a list item`,
      '-not a marker',
      '2024. A year, then text',
      `${'- '.repeat(47)}x`,
    ].join('\n');
    expect(nestingTooDeep(ordinary)).toBe(false);
    expect(nestingTooDeep('')).toBe(false);
  });
});

describe('splitForDisplay', () => {
  it('cuts at a line break when one is near', () => {
    const text = `${'a'.repeat(30)}\n${'b'.repeat(30)}`;
    expect(splitForDisplay(text, 40)).toEqual([`${'a'.repeat(30)}\n`, 'b'.repeat(30)]);
  });

  it('never cuts a surrogate pair', () => {
    const text = `${'a'.repeat(9)}\u{1f600}${'b'.repeat(20)}`;
    const pieces = splitForDisplay(text, 10);
    expect(pieces[0]).toBe('a'.repeat(9));
    for (const p of pieces) expect(p.isWellFormed()).toBe(true);
  });

  it('joins back to the text, pieces bounded, earlier pieces stable as the text grows', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 400 }),
        fc.string({ maxLength: 100 }),
        fc.integer({ min: 4, max: 50 }),
        (text, more, size) => {
          const pieces = splitForDisplay(text, size);
          expect(pieces.join('')).toBe(text);
          for (const p of pieces) expect(p.length).toBeLessThanOrEqual(size);
          const grown = splitForDisplay(text + more, size);
          expect(grown.slice(0, pieces.length - 1)).toEqual(pieces.slice(0, -1));
        },
      ),
    );
  });
});

const text = (value: string): MdNode => ({ type: 'text', value });
const para = (value: string): MdNode => ({ type: 'paragraph', children: [text(value)] });
const list = (...items: MdNode[][]): MdNode => ({
  type: 'list',
  children: items.map((children) => ({ type: 'listItem', children })),
});

/** A list nested `depth` levels, its innermost item saying `bottom`. */
function nested(depth: number): MdNode {
  let node = list([para('bottom')]);
  for (let i = depth - 1; i >= 1; i--) node = list([para(`level ${i}`), node]);
  return node;
}

function maxDepth(root: MdNode): number {
  let max = 0;
  const stack: Array<[MdNode, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    const d = depth + (node.type === 'list' || node.type === 'blockquote' ? 1 : 0);
    max = Math.max(max, d);
    for (const c of node.children ?? []) stack.push([c, d]);
  }
  return max;
}

describe('capNesting', () => {
  it('flattens lists deeper than the limit into a paragraph of their text', () => {
    const tree: MdNode = { type: 'root', children: [nested(12)] };
    capNesting(tree, 8);
    expect(maxDepth(tree)).toBe(8);
    expect(flatText(tree)).toBe(
      'level 1 level 2 level 3 level 4 level 5 level 6 level 7 level 8 level 9 level 10 level 11 bottom',
    );
  });

  it('handles 100,000 levels without recursion', () => {
    const tree: MdNode = { type: 'root', children: [nested(100_000)] };
    capNesting(tree, 8);
    expect(maxDepth(tree)).toBe(8);
    expect(flatText(tree).endsWith('level 99999 bottom')).toBe(true);
  });

  it('leaves shallow trees as they are', () => {
    const tree: MdNode = { type: 'root', children: [nested(3), { type: 'blockquote', children: [para('q')] }] };
    const before = JSON.stringify(tree);
    capNesting(tree, 8);
    expect(JSON.stringify(tree)).toBe(before);
  });
});

describe('textToFormat', () => {
  it('shows the first words of a streaming answer at once, then what pacing lets through, then all of it', () => {
    expect(textToFormat('The first', '', true)).toBe('The first');
    expect(textToFormat('The first words and more', 'The first', true)).toBe('The first');
    expect(textToFormat('The first words and more', 'The first', false)).toBe('The first words and more');
  });
});
