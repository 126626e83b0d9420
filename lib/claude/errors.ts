/**
 * Turns any failure of a call to the API into what the user is shown: a PaceError with a specific
 * message and, where one exists, the action that fixes it. Classifies by status, error type and
 * error_code, never by the API's wording.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { PaceError } from '../protocol';

export type CallKind = 'chat' | 'key-test';

const SPEND_CAP_CODES = new Set(['enforced_spend_limit_reached', 'contract_spend_limit_reached']);

export function isAbort(err: unknown): boolean {
  return err instanceof APIUserAbortError || (err instanceof Error && err.name === 'AbortError');
}

export function retryAfterSeconds(headers: Headers | undefined | null): number | null {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms) / 1000);
  const s = headers?.get('retry-after');
  if (s && Number.isFinite(Number(s))) return Math.max(0, Number(s));
  return null;
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
  if (err instanceof APIError) return fromApiError(err, kind);
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
    message: `Something went wrong inside Pace: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300),
    action: 'retry',
  };
}

function fromApiError(err: APIError, kind: CallKind): PaceError {
  const status = err.status ?? 0;
  const requestId = err.requestID ? ` (request ${err.requestID})` : '';
  const apiSays = err.apiMessage ? ` Anthropic says: "${err.apiMessage.slice(0, 200)}"` : '';
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
      message: 'Anthropic refused the request for billing: the account needs a payment method or credit.',
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
  if (status === 429) {
    if (err.errorCode && SPEND_CAP_CODES.has(err.errorCode)) {
      return {
        code: 'spend_limit',
        message: "Your organization's spend limit is reached: Anthropic will refuse requests until the limit resets (00:00 UTC on the 1st for the monthly cap).",
      };
    }
    const wait = retryAfterSeconds(err.headers);
    return {
      code: 'rate_limited',
      message: `Anthropic's rate limit was hit${wait !== null ? `; it asked to wait ${Math.ceil(wait)} s` : ''}. Try again shortly.`,
      action: 'retry',
    };
  }
  if (status === 529) {
    return { code: 'overloaded', message: `Anthropic is overloaded right now; it is their side, not your quota.${requestId}`, action: 'retry' };
  }
  if (status === 408 || status === 504) {
    return { code: 'timeout', message: `The request timed out at Anthropic.${requestId}`, action: 'retry' };
  }
  if (status >= 500) {
    return { code: 'server_error', message: `Anthropic had an internal error (${status}).${requestId}`, action: 'retry' };
  }
  if (status === 0 && err.type === 'overloaded_error') {
    return { code: 'overloaded', message: 'Anthropic was overloaded and stopped the answer midway.', action: 'retry' };
  }
  if (status === 0 && err.type) {
    return { code: 'server_error', message: `The answer stopped midway with an error (${err.type}).`, action: 'retry' };
  }
  return {
    code: 'bad_request',
    message: `The API refused the request (${status || 'no status'}).${apiSays}`,
  };
}
