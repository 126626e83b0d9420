/**
 * Turns any failure of a call to the API into what the user is shown: a PaceError with a specific
 * message and, where one exists, the action that fixes it. Classifies by status, error type and
 * error_code, never by the API's wording.
 */
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk/core/error';
import type { PaceError } from '../storage/rows';
import { RedirectRefused } from './client';
import { errorText } from '../error-text';

export type CallKind = 'chat' | 'key-test';

const SPEND_CAP_CODES = new Set(['enforced_spend_limit_reached', 'contract_spend_limit_reached']);

/**
 * Anthropic's answer when the organization's own spend limit (set in its Console, below the tier's
 * cap) is reached: 400 invalid_request_error, "You have reached your specified API usage limits ...".
 * It carries no error_code, so here alone the wording decides, narrowly: only a 400 of that type,
 * with no error_code, whose message begins with that sentence.
 */
const OWN_SPEND_LIMIT = /^\s*you have reached your specified api usage limits?\b/i;

function isOwnSpendLimit(err: {
  status?: number;
  type?: string | null;
  errorCode?: string | null;
  apiMessage?: string | null;
}): boolean {
  return (
    err.status === 400 &&
    err.type === 'invalid_request_error' &&
    !err.errorCode &&
    OWN_SPEND_LIMIT.test(err.apiMessage ?? '')
  );
}

export function isAbort(err: unknown): boolean {
  return err instanceof APIUserAbortError || (err instanceof Error && err.name === 'AbortError');
}

/**
 * The longest wait a `retry-after` may impose. Anthropic's request limits refill within a minute,
 * so a real retry-after is seconds; hours or days come from a broken or hostile server or gateway
 * (the spend cap has its own path, by error_code). Capped at an hour so one bad header cannot hold
 * the queue for weeks; the popup's "Try now" lifts a pause sooner.
 */
export const MAX_RETRY_AFTER_S = 60 * 60;

const DECIMAL = /^\s*\d+(\.\d+)?\s*$/;

/**
 * Seconds the server asked to wait (`retry-after-ms`, else `retry-after` as seconds or an HTTP
 * date), at most MAX_RETRY_AFTER_S; null when neither says anything usable (negative, NaN,
 * Infinity, text), so the queue's own backoff applies.
 */
export function retryAfterSeconds(headers: Headers | undefined | null, now = Date.now()): number | null {
  const ms = headers?.get('retry-after-ms');
  if (ms && DECIMAL.test(ms)) return Math.min(MAX_RETRY_AFTER_S, Number(ms) / 1000);
  const s = headers?.get('retry-after')?.trim();
  if (!s) return null;
  if (DECIMAL.test(s)) return Math.min(MAX_RETRY_AFTER_S, Number(s));
  // An HTTP date names a weekday and a month; Date.parse would also read "-5" as a year.
  const at = /[a-z]/i.test(s) ? Date.parse(s) : NaN;
  return Number.isFinite(at) ? Math.min(MAX_RETRY_AFTER_S, Math.max(0, (at - now) / 1000)) : null;
}

/**
 * What fetch throws when the network fails, in Chromium, Firefox, Safari and Node (undici): a
 * TypeError whose wording is the browser's own. Seen here for a refused connection, then for a
 * body cut mid-stream: Chromium "Failed to fetch", "network error"; Firefox "NetworkError when
 * attempting to fetch resource.", "Error in input stream"; Node "fetch failed", "terminated".
 * Any other TypeError is a bug.
 */
const NETWORK_FAILURE =
  /^(failed to fetch|network error|networkerror when attempting to fetch resource\.?|error in (input|body) stream|load failed|the network connection was lost\.?|fetch failed|terminated)$/i;

/** A dropped or refused connection, as fetch reports it, on `err` or down its cause chain. */
function isNetworkFailure(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++, e = e.cause) {
    if (e instanceof TypeError && NETWORK_FAILURE.test(e.message)) return true;
  }
  return false;
}

export function toPaceError(err: unknown, kind: CallKind, baseURL: string): PaceError {
  // Before the connection errors: the SDK wraps what its fetch threw in one.
  const redirect =
    err instanceof RedirectRefused
      ? err
      : err instanceof Error && err.cause instanceof RedirectRefused
        ? err.cause
        : null;
  if (redirect) {
    return {
      code: 'redirected',
      message: `${redirect.from} redirected the request to ${redirect.to ?? 'another address'}. Pace does not follow redirects, so your key and gateway headers go only to the base URL you chose: set the base URL to the address that answers itself.`,
      action: 'open_options',
    };
  }
  if (err instanceof APIConnectionTimeoutError) {
    return { code: 'timeout', message: 'The API did not answer in time. Try again.', action: 'retry' };
  }
  if (err instanceof APIConnectionError) {
    return {
      code: 'unreachable',
      message: `Could not reach ${baseURL}: the connection failed or was dropped. Check your network or the base URL.`,
      action: kind === 'chat' ? 'retry' : 'open_options',
    };
  }
  if (err instanceof APIError) return fromApiError(err as APIError, kind, baseURL);
  if (isNetworkFailure(err)) {
    // A body cut off mid-stream (a dropped connection) surfaces as fetch's own TypeError: the SDK
    // wraps only a failed fetch() (APIConnectionError above), not a failed read of the body.
    return {
      code: 'unreachable',
      message: 'The connection to the API dropped before the answer was complete.',
      action: 'retry',
    };
  }
  return {
    code: 'internal',
    message: `Something went wrong inside Pace: ${errorText(err)}`.slice(0, 300),
    action: 'retry',
  };
}

/**
 * The error with every secret the request carried (the key, a gateway header's value) taken out of
 * its message: a gateway's error text is quoted to the user and kept with the message in
 * IndexedDB, and a careless or hostile one may echo what it was sent.
 */
export function withoutSecrets(error: PaceError, secrets: readonly string[]): PaceError {
  // A value's words count too ("Bearer <token>": a gateway may echo the token alone); short ones
  // (a header set to "1", the word "Bearer") are no secret and would mangle the text.
  const words = secrets.flatMap((s) => [s, ...s.split(/\s+/)]);
  const found = [...new Set(words)]
    .filter((s) => s.length >= 8 && error.message.includes(s))
    .sort((a, b) => b.length - a.length);
  if (found.length === 0) return error;
  return { ...error, message: found.reduce((text, secret) => text.split(secret).join('[redacted]'), error.message) };
}

/** Who answered: Anthropic at its own API, otherwise the gateway, by its host, so a gateway's words are not passed off as Anthropic's. */
export function answeredBy(baseURL: string): string {
  try {
    const { host } = new URL(baseURL);
    return host === ANTHROPIC_HOST ? 'Anthropic' : host;
  } catch {
    return 'The API';
  }
}

const ANTHROPIC_HOST = 'api.anthropic.com';

function fromApiError(err: APIError, kind: CallKind, baseURL: string): PaceError {
  const status = err.status ?? 0;
  const requestId = err.requestID ? ` (request ${err.requestID})` : '';
  const who = answeredBy(baseURL);
  const apiSays = err.apiMessage ? ` ${who} says: "${err.apiMessage.slice(0, 200)}"` : '';
  if (status === 401) {
    return {
      code: 'wrong_key',
      message: 'The API key was refused: it is wrong, revoked or mistyped. Check it on the options page.',
      action: 'open_options',
    };
  }
  if (status === 403) {
    if (kind === 'key-test') {
      return {
        code: 'browser_access_off',
        message:
          'The key is valid but its organization does not allow requests from a browser. An admin can allow browser access in the Anthropic Console.',
        action: 'open_options',
      };
    }
    return {
      code: 'permission_denied',
      message: `This key may not use this model, or its organization has turned browser access off. Pick another model on the options page.${apiSays}`,
      action: 'open_options',
    };
  }
  if (status === 402) {
    return {
      code: 'billing',
      message: `${who} refused the request for billing: the account needs a payment method or credit.`,
    };
  }
  if (status === 404) {
    return {
      code: 'not_found',
      message: `Not found: the model is unknown to this API, or the base URL is wrong.${apiSays}`,
      action: 'open_options',
    };
  }
  if (status === 413) {
    return {
      code: 'too_large',
      message: 'This conversation is too long for one request. Start a new chat.',
      action: 'new_chat',
    };
  }
  if (isOwnSpendLimit(err)) {
    return {
      code: 'spend_limit',
      message: `Your organization's own spend limit, set in the Anthropic Console, is reached: ${who} will refuse requests until it resets (00:00 UTC on the 1st) or an admin raises it.`,
    };
  }
  if (status === 429) {
    if (err.errorCode && SPEND_CAP_CODES.has(err.errorCode)) {
      return {
        code: 'spend_limit',
        message:
          "Your organization's spend limit is reached: Anthropic will refuse requests until the limit resets (00:00 UTC on the 1st for the monthly cap).",
      };
    }
    const wait = retryAfterSeconds(err.headers);
    return {
      code: 'rate_limited',
      message: `${who}'s rate limit was hit${wait !== null ? `; it asked to wait ${Math.ceil(wait)} s` : ''}. Try again shortly.`,
      action: 'retry',
    };
  }
  if (status === 529) {
    return {
      code: 'overloaded',
      message: `${who} is overloaded right now; it is their side, not your quota.${requestId}`,
      action: 'retry',
    };
  }
  if (status === 408 || status === 504) {
    return { code: 'timeout', message: `The request timed out at ${who}.${requestId}`, action: 'retry' };
  }
  if (status >= 500) {
    return { code: 'server_error', message: `${who} had an internal error (${status}).${requestId}`, action: 'retry' };
  }
  if (status === 0 && err.type === 'overloaded_error') {
    return { code: 'overloaded', message: `${who} was overloaded and stopped the answer midway.`, action: 'retry' };
  }
  if (status === 0 && err.type) {
    return { code: 'server_error', message: `The answer stopped midway with an error (${err.type}).`, action: 'retry' };
  }
  return {
    code: 'bad_request',
    message: `The API refused the request (${status || 'no status'}).${apiSays}`,
  };
}

export const NO_KEY_ERROR: PaceError = {
  code: 'no_key',
  message: 'No API key is set. Add your Anthropic API key on the options page.',
  action: 'open_options',
};

/** A key sealed with a passphrase (lib/key/key-store.ts) that this browser session has not unlocked. */
export const LOCKED_ERROR: PaceError = {
  code: 'locked',
  message: 'Your API key is locked with a passphrase. Unlock it at the top of the popup, then send or retry.',
};

export const STALLED: PaceError = {
  code: 'stalled',
  message: 'The answer stopped arriving (nothing for 60 s).',
  action: 'retry',
};

/** The stream closed before the answer's end: retried like a dropped connection. */
export const CUT_OFF: PaceError = {
  code: 'unreachable',
  message: 'The connection ended before the answer was complete.',
  action: 'retry',
};

/**
 * What a console line may say of a failure: its kind and HTTP status, never its text. An API
 * error's message holds the response body, and a gateway may echo the key or a header value in it.
 */
export function errorLabel(err: unknown): string {
  if (err instanceof APIError) return err.status === undefined ? 'API error (no status)' : `API error ${err.status}`;
  if (err instanceof Error) return err.name;
  return typeof err;
}
