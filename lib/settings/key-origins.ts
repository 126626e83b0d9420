/**
 * Where the API key may go: Anthropic's own API, and the origins the user confirmed on the options
 * page ("Send your API key to …?"). The options page asks and records the answer
 * (lib/settings/settings-items.ts `confirmKeyOrigin`); the background sends the saved key nowhere else.
 */
import type { PaceError } from '../storage/rows';
import { checkBaseURL, DEFAULT_BASE_URL } from './validate';

export const ANTHROPIC_ORIGIN = new URL(DEFAULT_BASE_URL).origin;

/** The origin of a checked base URL that the key may not go to yet, or null when it may. */
export function unconfirmedOrigin(baseURL: string, confirmed: readonly string[]): string | null {
  const { origin } = new URL(baseURL);
  return origin === ANTHROPIC_ORIGIN || confirmed.includes(origin) ? null : origin;
}

/**
 * Whether the key may be confirmed for `origin`: written as an origin, and one the settings
 * validator accepts as a base URL (https, or plain http on this computer only), so no "yes" can
 * send the key in clear text over the network. Anthropic's own needs no confirming.
 */
export function isGatewayOrigin(origin: string): boolean {
  const checked = checkBaseURL(origin);
  return (
    origin !== '' &&
    checked.ok &&
    checked.value === origin &&
    new URL(origin).origin === origin &&
    origin !== ANTHROPIC_ORIGIN
  );
}

/** The confirmed origins as stored, keeping only those `isGatewayOrigin` accepts: storage is not trusted. */
export function checkOrigins(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter((o): o is string => typeof o === 'string' && isGatewayOrigin(o));
}

export const confirmQuestion = (origin: string) =>
  `Send your API key to ${origin}? Only do this for a gateway you trust.`;

export function unconfirmedOriginError(origin: string): PaceError {
  return {
    code: 'origin_unconfirmed',
    message: `Pace has not sent your API key to ${origin}: you have not confirmed that gateway. Confirm it on the options page, or change the base URL.`,
    action: 'open_options',
  };
}
