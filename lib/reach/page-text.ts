/**
 * "Ask about this page": which pages the browser lets Pace read, the message a page's main text
 * becomes, and what that message will cost against the user's limits before it is sent. Pure; the
 * background reads the page (entrypoints/read-page.ts) and the popup shows the preview.
 */
import { CHARS_PER_TOKEN } from '../claude/token-estimate';
import { formatCount } from '../limits/format';
import { noMonthCap } from '../limits/plans';
import type { Limits } from '../storage/rows';
import { MAX_PROMPT_CHARS } from '../settings/validate';
import { priceFor, webSearchUsd } from '../usage/prices';

/** The main text of a page, as Readability found it. */
export interface PageText {
  title: string;
  url: string;
  text: string;
}

/** A page read and measured: what the popup shows before the user sends it. */
export interface PageAttachment extends PageText {
  /** The page's text was longer than one message holds, and was cut. */
  cut: boolean;
  preview: PagePreview;
}

const STORES = ['chromewebstore.google.com', 'chrome.google.com', 'addons.mozilla.org', 'microsoftedge.microsoft.com'];

/**
 * Why the browser will not let an extension read this page, as a message for the user; null when
 * it may (whether it then does is up to the permission the click granted).
 */
export function unreadablePage(url: string | undefined): string | null {
  if (!url) return 'Pace cannot see which page is open. Click on the page, then open Pace again.';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'Pace cannot read this tab: its address is not a web page.';
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme === 'file')
    return 'Pace does not read files opened from your computer. Open a web page, or paste the text into the message.';
  if (scheme !== 'http' && scheme !== 'https') {
    return `The browser does not let extensions read its own pages (${scheme}:). Open a web page, or paste the text into the message.`;
  }
  const host = parsed.hostname;
  const store =
    STORES.find((s) => host === s) ??
    (host === 'chrome.google.com' && parsed.pathname.startsWith('/webstore') ? host : undefined);
  if (store)
    return `The browser does not let extensions read its add-on store (${host}). Paste the text into the message instead.`;
  return null;
}

/**
 * The clear message for a browser's refusal to inject into a tab whose address Pace could not see
 * (no permission yet): Chrome names the scheme ("Cannot access a chrome:// URL") or the store.
 */
export function unreadableFromError(message: string): string | null {
  const scheme = /Cannot access (?:a |contents of )?(?:url ")?([a-z][\w+.-]*):/i.exec(message)?.[1];
  if (scheme && scheme !== 'http' && scheme !== 'https') return unreadablePage(`${scheme.toLowerCase()}://page`);
  if (/gallery cannot be scripted/i.test(message)) return unreadablePage('https://chromewebstore.google.com/');
  return null;
}

/** Collapses the runs of blank lines and spaces that a page's layout leaves in its text. */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export const DEFAULT_PAGE_QUESTION = 'Summarize this page.';
const PAGE_ROOM = MAX_PROMPT_CHARS - 4_000;
export const PAGE_CUT_NOTE = '[…the rest of the page was cut: it is longer than one message holds]';

/**
 * The address sent with a page or a selection: scheme, host and path. The query and the fragment
 * can hold a session or a token (`?session=…`, `#access_token=…`) and the part before the host a
 * user name and password: none of them goes to Claude or into the history. '' for an address that
 * is not http(s) or file, or not an address.
 */
export function pageAddress(url: string | undefined): string {
  if (!url) return '';
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'file:'
      ? `${u.protocol}//${u.host}${u.pathname}`
      : '';
  } catch {
    // Not an address: nothing to name.
    return '';
  }
}

/** A `<page` or `</page` tag, in any case and spacing: the page's own text may not open or close the wrapper. */
const PAGE_TAG = /<(\s*\/?\s*page)(?![\w-])/gi;

/** The page's words with every page tag in them made harmless (`&lt;/page>`); running it twice changes nothing more. */
function inertPageText(text: string): string {
  return text.replace(PAGE_TAG, '&lt;$1');
}

/** The page's text, cut to what one message holds; `cut` says whether anything was left out. */
export function fitPage(page: PageText): { page: PageText; cut: boolean } {
  const text = inertPageText(tidyText(page.text));
  const fitted = { ...page, url: pageAddress(page.url) };
  if (text.length <= PAGE_ROOM) return { page: { ...fitted, text }, cut: false };
  return { page: { ...fitted, text: `${text.slice(0, PAGE_ROOM)}\n${PAGE_CUT_NOTE}` }, cut: true };
}

/**
 * The message sent: the user's question (or "Summarize this page."), then the page, marked as such.
 * Nothing the page chose (its title, its text) can close the `<page>` wrapper, so no part of the page
 * reads as the user's own words; its address goes without query or fragment (`pageAddress`).
 */
export function pagePrompt(page: PageText, question: string): string {
  const asked = question.trim() || DEFAULT_PAGE_QUESTION;
  const title = page.title
    .trim()
    .replace(/\s+/g, ' ')
    .slice(0, 200)
    .replace(/"/g, "'")
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
  return `${asked}\n\n<page title="${title}" url="${pageAddress(page.url)}">\n${inertPageText(page.text)}\n</page>`;
}

export interface PagePreviewInput {
  /** The page's message without a question yet (pagePrompt with the default question). */
  chars: number;
  model: string;
  maxTokens: number;
  limits: Limits;
  /** Requests left this month (lib/limits/admission.ts quota). */
  monthLeft: number;
  /** The model's context window in tokens. */
  window: number;
  /**
   * A message typed in the composer (chat.preview) rather than a page: its input tokens, measured
   * with its attachments (replaces `chars`), the searches it may run (priced in the worst case) and
   * what the spend budget would say of it (admission's own decision, lib/limits/budget.ts; null: it fits).
   */
  message?: { tokens: number; webSearches: number; budget: string | null; notes: string[] };
}

export interface PagePreview {
  /** The page's size in tokens, estimated at four characters a token. */
  tokens: number;
  /** What sending it costs at the model's list price: the page alone, and with the longest answer; null when the price is unknown. */
  inputUsd: number | null;
  maxUsd: number | null;
  /** The share of the input-tokens-a-minute limit it takes (1 = all of it); null with no such limit. */
  inputShare: number | null;
  /** One line each, as the popup shows them. */
  lines: string[];
  /** Why it cannot be sent as it is; null when it can. */
  blocker: string | null;
}

const usd = (x: number) => `$${x.toFixed(x < 1 ? 3 : 2)}`;
const aboutUsd = (x: number) => (x < 0.001 ? 'under $0.001' : `about ${usd(x)}`);

export function pagePreview(input: PagePreviewInput): PagePreview {
  const message = input.message;
  const what = message ? 'This message' : 'This page';
  const tokens = message ? message.tokens : Math.ceil(input.chars / CHARS_PER_TOKEN);
  const searches = message?.webSearches ?? 0;
  const price = priceFor(input.model);
  const inputUsd = price ? (tokens * price.input) / 1_000_000 : null;
  const maxUsd = price ? inputUsd! + (input.maxTokens * price.output) / 1_000_000 + webSearchUsd(searches) : null;
  const perMinute = input.limits.inputPerMinute ?? null;
  const inputShare = perMinute ? tokens / perMinute : null;
  const lines = [`About ${formatCount(tokens)} tokens.`];
  lines.push(
    inputUsd === null || maxUsd === null
      ? `Cost: unknown, ${input.model} is not in Pace's price table.`
      : `Cost: ${aboutUsd(inputUsd)} to read it, up to ${usd(maxUsd)} with the longest answer (${formatCount(input.maxTokens)} tokens)${searches > 0 ? ` and ${searches} web searches (${usd(webSearchUsd(searches))})` : ''}.`,
  );
  if (message) lines.push(...message.notes);
  if (inputShare !== null && perMinute !== null) {
    lines.push(`Takes ${Math.round(inputShare * 100)}% of your ${formatCount(perMinute)} input tokens a minute.`);
  }
  lines.push(
    noMonthCap(input.limits)
      ? 'Counts as 1 request.'
      : `Counts as 1 request; ${formatCount(input.monthLeft)} left this month.`,
  );
  let blocker: string | null = null;
  if (tokens + input.maxTokens > input.window) {
    blocker = `${what} is about ${formatCount(tokens)} tokens; with the ${formatCount(input.maxTokens)} kept for the answer it does not fit ${input.model}'s ${formatCount(input.window)}.`;
  } else if (perMinute !== null && tokens > perMinute) {
    blocker = `${what} is about ${formatCount(tokens)} tokens, more than your limit of ${formatCount(perMinute)} input tokens a minute: it could never be sent. ${message ? 'Send fewer or smaller attachments, or start a new chat.' : 'Select a part of it and use the context menu instead.'}`;
  } else if (input.monthLeft <= 0) {
    blocker = "This month's requests are used: it would wait until the month turns.";
  } else if (message && message.budget !== null) {
    blocker = message.budget;
  }
  return { tokens, inputUsd, maxUsd, inputShare, lines, blocker };
}
