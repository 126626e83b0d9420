import { describe, expect, it } from 'vitest';
import {
  checkTemplates,
  CUT_NOTE,
  DEFAULT_TEMPLATES,
  MAX_TEMPLATES,
  quoteText,
  selectionPrompt,
  withQuote,
} from '@/lib/reach/templates';
import { checkPrompt, MAX_PROMPT_CHARS } from '@/lib/settings/validate';

let n = 0;
const newId = () => `new-${++n}`;

describe('checkTemplates', () => {
  it('keeps valid rows, trims them, keeps ids and gives new rows one', () => {
    const r = checkTemplates(
      [
        { id: 'summarize', title: '  Summarize  ', prompt: ' Sum it up. ' },
        { id: null, title: 'Critique', prompt: 'Find the weak points.' },
      ],
      newId,
    );
    expect(r.ok && r.value.map((t) => [t.id.replace(/\d+$/, 'N'), t.title, t.prompt])).toEqual([
      ['summarize', 'Summarize', 'Sum it up.'],
      ['new-N', 'Critique', 'Find the weak points.'],
    ]);
  });

  it('accepts the defaults as they are', () => {
    expect(checkTemplates(DEFAULT_TEMPLATES, newId)).toEqual({ ok: true, value: DEFAULT_TEMPLATES });
  });

  it('names the row and the field of each problem', () => {
    const r = checkTemplates(
      [
        { title: '', prompt: 'x' },
        { title: 'Explain', prompt: '   ' },
        { title: 'x'.repeat(61), prompt: 'y' },
        { title: 'explain', prompt: 'z' },
        { title: 'Long', prompt: 'p'.repeat(2_001) },
      ],
      newId,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toBe('Template 1: give it a title (the menu shows it).');
    expect(r.errors.rows).toEqual([
      { title: 'Template 1: give it a title (the menu shows it).' },
      { prompt: 'Template 2: write the instruction Claude gets with the selection.' },
      { title: 'Template 3: the title is 61 characters; at most 60 fit in the menu.' },
      { title: 'Template 4: template 2 already has the title "explain".' },
      { prompt: 'Template 5: the instruction is 2,001 characters; at most 2,000.' },
    ]);
  });

  it('refuses too many templates and rows that are not objects, with a message', () => {
    const many = Array.from({ length: MAX_TEMPLATES + 1 }, (_, i) => ({ title: `T${i}`, prompt: 'p' }));
    const r = checkTemplates(many, newId);
    expect(!r.ok && r.message).toBe(
      `Pace keeps at most ${MAX_TEMPLATES} templates (got ${MAX_TEMPLATES + 1}). Remove some.`,
    );
    const odd = checkTemplates([null, 'text', { title: 3, prompt: 'p' }], newId);
    expect(!odd.ok && odd.errors.rows).toEqual([
      { title: 'Template 1: the title must be text.', prompt: 'Template 1: the instruction must be text.' },
      { title: 'Template 2: the title must be text.', prompt: 'Template 2: the instruction must be text.' },
      { title: 'Template 3: the title must be text.' },
    ]);
  });

  it('gives a new id for a duplicate or malformed one', () => {
    const r = checkTemplates(
      [
        { id: 'a', title: 'A', prompt: 'p' },
        { id: 'a', title: 'B', prompt: 'p' },
        { id: 'has space', title: 'C', prompt: 'p' },
      ],
      newId,
    );
    expect(r.ok && new Set(r.value.map((t) => t.id)).size).toBe(3);
    expect(r.ok && r.value[0]!.id).toBe('a');
  });
});

describe('selectionPrompt', () => {
  it('puts the instruction, the source and the selection quoted line by line', () => {
    expect(
      selectionPrompt(
        'First line\r\n\r\nSecond line',
        { prompt: 'Summarize this text.' },
        { title: 'A  page', url: 'https://example.org/a' },
      ),
    ).toBe('Summarize this text.\n\nFrom "A page" (https://example.org/a):\n\n> First line\n>\n> Second line');
  });

  it('names its source without query, fragment or user name', () => {
    const text = selectionPrompt(
      'Hello',
      { prompt: 'Explain.' },
      { title: 'Inbox', url: 'https://u:p@mail.example/inbox?session=S3SSION#access_token=T0KEN' },
    );
    expect(text).toBe('Explain.\n\nFrom "Inbox" (https://mail.example/inbox):\n\n> Hello');
  });

  it('without a template is the quote alone, with its source', () => {
    expect(selectionPrompt('  Hello  ', null, { url: 'https://example.org/' })).toBe(
      'From https://example.org/:\n\n> Hello',
    );
    expect(selectionPrompt('Hello', null)).toBe('> Hello');
  });

  it('a selection too long for one message is cut, says so, and the message fits', () => {
    const text = selectionPrompt(
      'w '.repeat(MAX_PROMPT_CHARS),
      { prompt: 'p'.repeat(2_000) },
      { title: 't'.repeat(300), url: `https://example.org/${'u'.repeat(1_000)}` },
    );
    expect(text).toContain(CUT_NOTE);
    expect(checkPrompt(text).ok).toBe(true);
    expect(quoteText('short')).toBe('> short');
  });
});

describe('withQuote', () => {
  it('adds the quote after what is typed, never over it, and only once', () => {
    expect(withQuote('', '> quote')).toBe('> quote');
    expect(withQuote('  \n', '> quote')).toBe('> quote');
    expect(withQuote('Why is this?  \n', '> quote')).toBe('Why is this?\n\n> quote');
    expect(withQuote('Why is this?\n\n> quote', '> quote')).toBe('Why is this?\n\n> quote');
  });
});
