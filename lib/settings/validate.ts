/**
 * Validation of everything a user types: settings fields, the API key and chat prompts.
 * Each function returns the cleaned value or a specific message saying what is wrong.
 */
import { DEFAULT_MODEL } from '../claude/models';

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
}

export const DEFAULT_SETTINGS: Settings = {
  model: DEFAULT_MODEL,
  maxTokens: 4096,
  systemPrompt: '',
  baseURL: DEFAULT_BASE_URL,
  combineWaiting: false,
};

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const good = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = <T>(message: string): Checked<T> => ({ ok: false, message });

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
  if (url.username || url.password) {
    return bad('The base URL must not contain a user name or password; put credentials in the API key field.');
  }
  if (url.search || url.hash) return bad('The base URL must not have a query (?) or fragment (#).');
  return good(url.origin + url.pathname.replace(/\/+$/, ''));
}

export function checkMaxTokens(input: string | number): Checked<number> {
  const text = String(input).trim();
  if (text === '') return bad('Enter a maximum answer length in tokens, e.g. 4096.');
  if (!/^-?\d+$/.test(text)) return bad(`Maximum answer length must be a whole number of tokens, not "${text.slice(0, 20)}".`);
  const n = Number(text);
  if (n < 1) return bad(`Maximum answer length must be at least 1 token (got ${text.slice(0, 20)}).`);
  if (n > MAX_TOKENS_LIMIT) {
    return bad(`Maximum answer length can be at most ${MAX_TOKENS_LIMIT.toLocaleString('en-US')} tokens.`);
  }
  return good(n);
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
      `The system prompt is ${input.length.toLocaleString('en-US')} characters; the limit is ${MAX_SYSTEM_PROMPT_CHARS.toLocaleString('en-US')}.`,
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
      `This message is ${input.length.toLocaleString('en-US')} characters; Pace sends at most ${MAX_PROMPT_CHARS.toLocaleString('en-US')}. Shorten it or split it in parts.`,
    );
  }
  return good(input.trim());
}

export type SettingsInput = { [K in Exclude<keyof Settings, 'combineWaiting'>]: string | number } & { combineWaiting?: boolean };
export type SettingsErrors = Partial<Record<keyof Settings, string>>;

/** Checks every field at once, so a form can show all its messages together. */
export function checkSettings(
  input: SettingsInput,
): { ok: true; value: Settings } | { ok: false; errors: SettingsErrors } {
  const model = checkModel(String(input.model));
  const maxTokens = checkMaxTokens(input.maxTokens);
  const systemPrompt = checkSystemPrompt(String(input.systemPrompt));
  const baseURL = checkBaseURL(String(input.baseURL));
  if (model.ok && maxTokens.ok && systemPrompt.ok && baseURL.ok) {
    return {
      ok: true,
      value: {
        model: model.value,
        maxTokens: maxTokens.value,
        systemPrompt: systemPrompt.value,
        baseURL: baseURL.value,
        combineWaiting: input.combineWaiting === true,
      },
    };
  }
  const errors: SettingsErrors = {};
  if (!model.ok) errors.model = model.message;
  if (!maxTokens.ok) errors.maxTokens = maxTokens.message;
  if (!systemPrompt.ok) errors.systemPrompt = systemPrompt.message;
  if (!baseURL.ok) errors.baseURL = baseURL.message;
  return { ok: false, errors };
}
