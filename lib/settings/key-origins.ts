/**
 * Where the API key may go: Anthropic's own API, and the origins the user confirmed on the options
 * page ("Send your API key to …?"). The options page asks and records the answer
 * (lib/storage/settings.ts `confirmKeyOrigin`); the background sends the saved key nowhere else.
 */
import type { PaceError } from '../protocol';
import { DEFAULT_BASE_URL } from './validate';

export const ANTHROPIC_ORIGIN = new URL(DEFAULT_BASE_URL).origin;

/** The origin of a checked base URL that the key may not go to yet, or null when it may. */
export function unconfirmedOrigin(baseURL: string, confirmed: readonly string[]): string | null {
  const { origin } = new URL(baseURL);
  return origin === ANTHROPIC_ORIGIN || confirmed.includes(origin) ? null : origin;
}

/** The confirmed origins as stored, keeping only well-formed http(s) origins: storage is not trusted. */
export function checkOrigins(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter((o): o is string => {
    if (typeof o !== 'string') return false;
    try {
      const url = new URL(o);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === o;
    } catch {
      // Not a URL at all: not an origin the user confirmed.
      return false;
    }
  });
}

export const confirmQuestion = (origin: string) => `Send your API key to ${origin}? Only do this for a gateway you trust.`;

export function unconfirmedOriginError(origin: string): PaceError {
  return {
    code: 'origin_unconfirmed',
    message: `Pace has not sent your API key to ${origin}: you have not confirmed that gateway. Confirm it on the options page, or change the base URL.`,
    action: 'open_options',
  };
}
