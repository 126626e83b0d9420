/**
 * Validation of everything a user types: settings fields, the API key and chat prompts.
 * Each function returns the cleaned value or a specific message saying what is wrong.
 */
import { DEFAULT_MODEL } from '../claude/models';
import { formatCount } from '../limits/format';
import { isObject } from '../is-object';

export const DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const MAX_TOKENS_LIMIT = 128_000;
export const MAX_PROMPT_CHARS = 100_000;
export const MAX_SYSTEM_PROMPT_CHARS = 20_000;

export interface Settings {
  model: string;
  maxTokens: number;
  systemPrompt: string;
  baseURL: string;
  /** Combine a conversation's messages that are still waiting into one request, to save quota. */
  combineWaiting: boolean;
  /** Extra request headers for a gateway, one `Name: value` a line. */
  extraHeaders: string;
  /** Anthropic's prompt cache for each request's prefix: its lifetime, or off. */
  promptCache: PromptCacheSetting;
  /** Web searches one message may run when "Search the web" is on (the web_search tool's `max_uses`), 1 to 10. */
  webSearchMaxUses: number;
}

export const PROMPT_CACHE_SETTINGS = ['5m', '1h', 'off'] as const;
export type PromptCacheSetting = (typeof PROMPT_CACHE_SETTINGS)[number];

export const DEFAULT_SETTINGS: Settings = {
  model: DEFAULT_MODEL,
  maxTokens: 4096,
  systemPrompt: '',
  baseURL: DEFAULT_BASE_URL,
  combineWaiting: false,
  extraHeaders: '',
  promptCache: '5m',
  webSearchMaxUses: 3,
};

/** The most web searches a message may run: each costs $0.01, and the worst case reserves them all. */
const MAX_WEB_SEARCH_USES = 10;

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const good = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = <T>(message: string): Checked<T> => ({ ok: false, message });

export const capital = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** A typed whole number, or the message for an empty or non-whole one; `label` names the field ("requests per minute"). */
export function parseWholeNumber(raw: string | number, label: string): Checked<number> {
  const text = String(raw).trim();
  if (text === '') return bad(`Enter ${label}.`);
  if (!/^-?\d+$/.test(text)) return bad(`${capital(label)} must be a whole number, not "${text.slice(0, 20)}".`);
  return good(Number(text));
}

export function checkBaseURL(input: string): Checked<string> {
  const text = input.trim();
  if (text === '') return good(DEFAULT_BASE_URL);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad(`"${text.slice(0, 60)}" is not a URL. Use a full address such as ${DEFAULT_BASE_URL}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return bad(`Only http and https base URLs are allowed, not ${url.protocol}`);
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    return bad(
      `An http:// base URL would send your API key in clear text: use https://${url.host}. Plain http is allowed only for this computer (localhost, 127.0.0.1, [::1]).`,
    );
  }
  if (url.username || url.password) {
    return bad('The base URL must not contain a user name or password; put credentials in the API key field.');
  }
  if (url.search || url.hash) return bad('The base URL must not have a query (?) or fragment (#).');
  return good(url.origin + url.pathname.replace(/\/+$/, ''));
}

/** This computer only: localhost, 127.0.0.0/8 and [::1] (the URL parser has already turned 127.1 or 2130706433 into 127.0.0.1). */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export function checkMaxTokens(input: string | number): Checked<number> {
  const text = String(input).trim();
  if (text === '') return bad('Enter a maximum answer length in tokens, e.g. 4096.');
  if (!/^-?\d+$/.test(text))
    return bad(`Maximum answer length must be a whole number of tokens, not "${text.slice(0, 20)}".`);
  const n = Number(text);
  if (n < 1) return bad(`Maximum answer length must be at least 1 token (got ${text.slice(0, 20)}).`);
  if (n > MAX_TOKENS_LIMIT) {
    return bad(`Maximum answer length can be at most ${formatCount(MAX_TOKENS_LIMIT)} tokens.`);
  }
  return good(n);
}

export function checkWebSearchMaxUses(input: string | number): Checked<number> {
  const text = String(input).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  return n >= 1 && n <= MAX_WEB_SEARCH_USES
    ? good(n)
    : bad(
        `Web searches per message must be a whole number from 1 to ${MAX_WEB_SEARCH_USES}${text === '' ? '' : ` (got "${text.slice(0, 20)}")`}.`,
      );
}

export function checkModel(input: string): Checked<string> {
  const text = input.trim();
  if (text === '') return bad('Pick a model.');
  if (text.length > 200 || !/^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/.test(text)) {
    return bad(`"${text.slice(0, 40)}" is not a model id (letters, digits, and . _ : @ / - only).`);
  }
  return good(text);
}

export function checkSystemPrompt(input: string): Checked<string> {
  if (input.length > MAX_SYSTEM_PROMPT_CHARS) {
    return bad(
      `The system prompt is ${formatCount(input.length)} characters; the limit is ${formatCount(MAX_SYSTEM_PROMPT_CHARS)}.`,
    );
  }
  return good(input.trim());
}

export function checkApiKey(input: string): Checked<string> {
  const text = input.trim();
  if (text === '') return bad('Paste your API key first: the field is empty.');
  if (/\s/.test(text)) return bad('The key contains spaces or line breaks. Paste it again as one piece.');
  if (text.length < 8) return bad('That is too short to be an API key.');
  if (text.length > 500) return bad('That is too long to be an API key.');
  if (/[^\x21-\x7e]/.test(text)) return bad('The key contains characters an API key never has.');
  return good(text);
}

export function checkPrompt(input: string): Checked<string> {
  if (input.trim() === '') return bad('Type a message first.');
  if (input.length > MAX_PROMPT_CHARS) {
    return bad(
      `This message is ${formatCount(input.length)} characters; Pace sends at most ${formatCount(MAX_PROMPT_CHARS)}. Shorten it or split it in parts.`,
    );
  }
  return good(input.trim());
}

/** Headers Pace sets itself; a gateway header may not replace them. */
const RESERVED_HEADERS = new Set([
  'authorization',
  'x-api-key',
  'anthropic-version',
  'anthropic-dangerous-direct-browser-access',
  'content-type',
  'content-length',
  'host',
]);

/** Parses the extra-headers field: one `Name: value` a line, blank lines ignored. */
export function parseHeaderLines(input: string): { headers: Record<string, string>; error: string | null } {
  const entries: [string, string][] = [];
  const lines = input
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    const value = colon > 0 ? line.slice(colon + 1).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      return { headers: {}, error: `Line ${i + 1}: write each header as "Name: value".` };
    if (RESERVED_HEADERS.has(name.toLowerCase()))
      return { headers: {}, error: `Line ${i + 1}: Pace sets ${name} itself; it cannot be replaced.` };
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(value))
      return { headers: {}, error: `Line ${i + 1}: the value contains control characters.` };
    // fetch refuses the whole request for a header value beyond Latin-1 (a ByteString).
    if (/[\u0100-\uffff]/.test(value))
      return {
        headers: {},
        error: `Line ${i + 1}: a header value can only hold Latin-1 text (no emoji or other scripts).`,
      };
    entries.push([name, value]);
  }
  // fromEntries, not assignment: a header named __proto__ is kept, not swallowed.
  return { headers: Object.fromEntries(entries), error: null };
}

/**
 * Saved header lines as the options page shows them: each name, and its value masked but for the
 * last four characters (only when the value is long enough to spare them).
 */
export function maskHeaderLines(input: string): string {
  const { headers, error } = parseHeaderLines(input);
  if (error !== null) return 'The saved headers cannot be read: replace them.';
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ••••••${value.length >= 12 ? value.slice(-4) : ''}`)
    .join('\n');
}

export type SettingsInput = { [K in 'model' | 'maxTokens' | 'systemPrompt' | 'baseURL']: string | number } & {
  combineWaiting?: boolean;
  extraHeaders?: string;
  promptCache?: string;
  /** Absent: the default (settings.save passes the saved figure when the page sends none). */
  webSearchMaxUses?: string | number;
};
export type SettingsErrors = Partial<Record<keyof Settings, string>>;

/** Checks every field at once, so a form can show all its messages together. */
export function checkSettings(
  input: SettingsInput,
): { ok: true; value: Settings } | { ok: false; errors: SettingsErrors } {
  const model = checkModel(String(input.model));
  const maxTokens = checkMaxTokens(input.maxTokens);
  const systemPrompt = checkSystemPrompt(String(input.systemPrompt));
  const baseURL = checkBaseURL(String(input.baseURL));
  const extraHeaders = parseHeaderLines(String(input.extraHeaders ?? ''));
  const promptCache = checkPromptCache(input.promptCache ?? DEFAULT_SETTINGS.promptCache);
  const webSearchMaxUses = checkWebSearchMaxUses(input.webSearchMaxUses ?? DEFAULT_SETTINGS.webSearchMaxUses);
  if (
    model.ok &&
    maxTokens.ok &&
    systemPrompt.ok &&
    baseURL.ok &&
    extraHeaders.error === null &&
    promptCache.ok &&
    webSearchMaxUses.ok
  ) {
    return {
      ok: true,
      value: {
        model: model.value,
        maxTokens: maxTokens.value,
        systemPrompt: systemPrompt.value,
        baseURL: baseURL.value,
        combineWaiting: input.combineWaiting === true,
        extraHeaders: String(input.extraHeaders ?? '').trim(),
        promptCache: promptCache.value,
        webSearchMaxUses: webSearchMaxUses.value,
      },
    };
  }
  const errors: SettingsErrors = {};
  if (!model.ok) errors.model = model.message;
  if (!maxTokens.ok) errors.maxTokens = maxTokens.message;
  if (!systemPrompt.ok) errors.systemPrompt = systemPrompt.message;
  if (!baseURL.ok) errors.baseURL = baseURL.message;
  if (extraHeaders.error !== null) errors.extraHeaders = extraHeaders.error;
  if (!promptCache.ok) errors.promptCache = promptCache.message;
  if (!webSearchMaxUses.ok) errors.webSearchMaxUses = webSearchMaxUses.message;
  return { ok: false, errors };
}

/**
 * Settings as read back from storage, checked field by field as the form checks them: storage is
 * not trusted because the options page wrote it. A field that fails falls back to its default and is
 * named in `invalid`. Gateway headers are dropped with a base URL that fails: they are meant for
 * the gateway, never for the default API.
 */
export function checkStoredSettings(raw: unknown): { value: Settings; invalid: (keyof Settings)[] } {
  const stored: Record<string, unknown> = isObject(raw) ? raw : {};
  const invalid: (keyof Settings)[] = [];
  /** The stored field if it has the right type and passes `check`, else its default. */
  const field = <K extends keyof Settings>(
    name: K,
    type: 'string' | 'number' | 'boolean',
    check: (v: never) => Checked<Settings[K]>,
  ): Settings[K] => {
    const v = stored[name];
    const checked = typeof v === type ? check(v as never) : null;
    if (checked?.ok) return checked.value;
    invalid.push(name);
    return DEFAULT_SETTINGS[name];
  };
  const headerLines = (v: string): Checked<string> =>
    parseHeaderLines(v).error === null ? good(v.trim()) : bad('header lines');
  const value: Settings = {
    model: field('model', 'string', checkModel),
    maxTokens: field('maxTokens', 'number', checkMaxTokens),
    systemPrompt: field('systemPrompt', 'string', checkSystemPrompt),
    baseURL: field('baseURL', 'string', checkBaseURL),
    combineWaiting: field('combineWaiting', 'boolean', good<boolean>),
    extraHeaders: field('extraHeaders', 'string', headerLines),
    promptCache: field('promptCache', 'string', checkPromptCache),
    // Settings saved before the figure existed have none: the default, and nothing to warn about.
    webSearchMaxUses:
      stored.webSearchMaxUses === undefined
        ? DEFAULT_SETTINGS.webSearchMaxUses
        : field('webSearchMaxUses', 'number', checkWebSearchMaxUses),
  };
  if (invalid.includes('baseURL')) value.extraHeaders = DEFAULT_SETTINGS.extraHeaders;
  return { value, invalid };
}

export function checkPromptCache(input: string): Checked<PromptCacheSetting> {
  const found = PROMPT_CACHE_SETTINGS.find((v) => v === input);
  return found
    ? good(found)
    : bad(`The prompt cache is "5m" (5 minutes), "1h" (1 hour) or "off", not "${String(input).slice(0, 20)}".`);
}
