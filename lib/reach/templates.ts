/**
 * Prompt templates for selected text (the context menu's "Ask Claude with a template"), their
 * validation, and the message a selection becomes. Pure: the background stores the checked list
 * (lib/reach/template-store.ts) and builds the menu from it.
 */
import { MAX_PROMPT_CHARS } from '../settings/validate';
import { formatCount } from '../limits/format';
import { pageAddress } from './page-text';
import type { PromptTemplate } from '../storage/rows';

export const MAX_TEMPLATES = 20;
const MAX_TITLE_CHARS = 60;
const MAX_TEMPLATE_PROMPT_CHARS = 2_000;

export const DEFAULT_TEMPLATES: readonly PromptTemplate[] = [
  { id: 'summarize', title: 'Summarize', prompt: 'Summarize this text in a few sentences.' },
  { id: 'explain', title: 'Explain', prompt: 'Explain this text simply, as to someone new to the subject.' },
  {
    id: 'translate',
    title: 'Translate to English',
    prompt: 'Translate this text to English. Reply with the translation only.',
  },
  {
    id: 'rewrite',
    title: 'Rewrite plainly',
    prompt: 'Rewrite this text in plain, clear language, keeping its meaning.',
  },
];

interface TemplateInput {
  id?: string | null;
  title: string;
  prompt: string;
}

/** Per row, the problem with its title or prompt; `list` for a problem with the whole list. */
interface TemplateErrors {
  list?: string;
  rows: Partial<Record<'title' | 'prompt', string>>[];
}

export type CheckedTemplates =
  { ok: true; value: PromptTemplate[] } | { ok: false; message: string; errors: TemplateErrors };

/**
 * Checks the list the options page sends: every row needs a title and an instruction within
 * their lengths, titles differ (they are the menu's labels), and there are at most MAX_TEMPLATES.
 * A row keeps its id when it has a valid one, else gets a new one from `newId`.
 */
export function checkTemplates(input: readonly unknown[], newId: () => string): CheckedTemplates {
  const rows: TemplateErrors['rows'] = [];
  const value: PromptTemplate[] = [];
  const seenTitles = new Map<string, number>();
  const seenIds = new Set<string>();
  let list: string | undefined;
  if (input.length > MAX_TEMPLATES)
    list = `Pace keeps at most ${MAX_TEMPLATES} templates (got ${input.length}). Remove some.`;
  input.forEach((raw, i) => {
    const row: Partial<TemplateInput> = typeof raw === 'object' && raw !== null ? raw : {};
    const errors: TemplateErrors['rows'][number] = {};
    const n = i + 1;
    const title = typeof row.title === 'string' ? row.title.trim().replace(/\s+/g, ' ') : null;
    const prompt = typeof row.prompt === 'string' ? row.prompt.trim() : null;
    if (title === null) errors.title = `Template ${n}: the title must be text.`;
    else if (title === '') errors.title = `Template ${n}: give it a title (the menu shows it).`;
    else if (title.length > MAX_TITLE_CHARS)
      errors.title = `Template ${n}: the title is ${title.length} characters; at most ${MAX_TITLE_CHARS} fit in the menu.`;
    else if (seenTitles.has(title.toLowerCase()))
      errors.title = `Template ${n}: template ${seenTitles.get(title.toLowerCase())} already has the title "${title}".`;
    else seenTitles.set(title.toLowerCase(), n);
    if (prompt === null) errors.prompt = `Template ${n}: the instruction must be text.`;
    else if (prompt === '') errors.prompt = `Template ${n}: write the instruction Claude gets with the selection.`;
    else if (prompt.length > MAX_TEMPLATE_PROMPT_CHARS) {
      errors.prompt = `Template ${n}: the instruction is ${formatCount(prompt.length)} characters; at most ${formatCount(MAX_TEMPLATE_PROMPT_CHARS)}.`;
    }
    rows.push(errors);
    if (title && prompt && !errors.title && !errors.prompt) {
      const kept =
        typeof row.id === 'string' && /^[\w-]{1,40}$/.test(row.id) && !seenIds.has(row.id) ? row.id : newId();
      seenIds.add(kept);
      value.push({ id: kept, title, prompt });
    }
  });
  const first = list ?? rows.flatMap((r) => [r.title, r.prompt]).find((m) => m !== undefined);
  if (first !== undefined) return { ok: false, message: first, errors: { list, rows } };
  return { ok: true, value };
}

/** Where a selection or a page came from, named in the message so Claude (and the user) can see it. */
export interface Source {
  title?: string;
  url?: string;
}

/** Room kept for the instruction and the source line when a quote is cut to fit one message. */
const QUOTE_ROOM = MAX_PROMPT_CHARS - MAX_TEMPLATE_PROMPT_CHARS - 2_000;
export const CUT_NOTE = '[…cut: the selection was longer than one message holds]';

/**
 * The most of a selection a template sends. It goes at once, unseen before it leaves, and the page
 * may have changed the selection in its own context-menu handler: what it can slip in is capped,
 * and the chat opens on the message as it was sent.
 */
export const TEMPLATE_SELECTION_CHARS = 20_000;

/** The selection as a Markdown quote, cut to `room` characters (what one message holds, MAX_PROMPT_CHARS, by default) when longer. */
export function quoteText(selection: string, room = QUOTE_ROOM): string {
  const text = selection.replace(/\r\n?/g, '\n').trim();
  const cap = Math.min(room, QUOTE_ROOM);
  const fits = text.length <= cap ? text : `${text.slice(0, cap)}\n${CUT_NOTE}`;
  return fits
    .split('\n')
    .map((line) => (line.trim() === '' ? '>' : `> ${line}`))
    .join('\n');
}

function sourceLine({ title, url: given }: Source): string {
  const name = title?.trim().replace(/\s+/g, ' ').slice(0, 200);
  // Without query or fragment: a token or session in the address stays in the browser.
  const url = pageAddress(given);
  if (!url) return name ? `From "${name}":` : '';
  return name ? `From "${name}" (${url}):` : `From ${url}:`;
}

/**
 * The message for a selection: the template's instruction, where it came from, and the quote (at
 * most TEMPLATE_SELECTION_CHARS of it with a template, as that message is sent at once). With no
 * template (the plain "Ask Claude about the selection") it is the quote alone, for the user to add
 * a question to.
 */
export function selectionPrompt(
  selection: string,
  template: Pick<PromptTemplate, 'prompt'> | null,
  source: Source = {},
): string {
  const quote = template ? quoteText(selection, TEMPLATE_SELECTION_CHARS) : quoteText(selection);
  return [template?.prompt.trim(), sourceLine(source), quote].filter((part) => part).join('\n\n');
}

/**
 * The message box's text with a quoted selection added after what is typed there (what the user
 * typed is never replaced); the same quote twice in a row is added once.
 */
export function withQuote(typed: string, quote: string): string {
  if (typed.trim() === '') return quote;
  if (typed.endsWith(quote)) return typed;
  return `${typed.trimEnd()}\n\n${quote}`;
}
