/**
 * How an attempt ended (./chat-runner.ts), named before anything is written of it: from its
 * stream's end, or from what was thrown on the way. ./attempt-settle.ts writes it down and acts
 * on it.
 */
import { APIError } from '@anthropic-ai/sdk/core/error';
import { CUT_OFF, isAbort, STALLED, toPaceError, withoutSecrets } from '../claude/errors';
import { refusesCacheControl } from '../claude/prompt-cache';
import { BadStreamError } from '../claude/stream';
import type { UsageRow } from '../storage/db';
import type { AttemptState, ChatAttempt } from './chat-attempt';
import { holdTheWire, noteServerLimits, type RunnerKit } from './runner-kit';
import type { PaceError } from '../storage/rows';

export type Outcome =
  /** Complete: kept, and maybe cached. */
  | { kind: 'done'; response: Response }
  /** Cut at the size cap: kept as it is. */
  | { kind: 'size-cap'; status: number }
  | { kind: 'stopped'; text: string | undefined; extra: Pick<UsageRow, 'status'> }
  /** The base URL (a gateway) refused `cache_control`: the job goes again with the next mode down. */
  | { kind: 'cache-control-refused'; apiError: APIError }
  /**
   * Tried again, paused or given up. `offline`: the browser was offline, so nothing left the
   * machine (asked once, for both the ledger and the retry).
   */
  | { kind: 'failed'; error: PaceError; apiError: APIError | null; offline: boolean };

function failed(kit: RunnerKit, error: PaceError, apiError: APIError | null): Outcome {
  const offline = !kit.online() && (error.code === 'unreachable' || error.code === 'stalled');
  return { kind: 'failed', error, apiError, offline };
}

/** The stream ended (or was left at the size cap): how the attempt went. */
export function outcomeOfStream(
  kit: RunnerKit,
  attempt: ChatAttempt,
  state: AttemptState,
  response: Response,
): Outcome {
  const { answer } = state;
  if (state.watchdog.stalled) return failed(kit, STALLED, null);
  if (answer.truncated) return { kind: 'size-cap', status: response.status };
  if (attempt.signal.aborted) return { kind: 'stopped', text: answer.text, extra: { status: response.status } };
  if (!answer.done) return failed(kit, CUT_OFF, null);
  return { kind: 'done', response };
}

/**
 * Something was thrown on the way (the gate, the request, the stream, or a write after it): how the
 * attempt went. An API error closes the wire on a 429 or 529, its rate-limit figures are noted, and
 * a request refused unread counts no tokens, before anything else is written.
 */
export async function outcomeOfError(
  kit: RunnerKit,
  attempt: ChatAttempt,
  state: AttemptState,
  err: unknown,
): Promise<Outcome> {
  const { id, by, creds } = attempt;
  // Whatever ended the answer, the job's start is written before its end.
  await state.startWrites?.catch(() => undefined);
  if (state.watchdog.stalled) return failed(kit, STALLED, null);
  if (isAbort(err) || attempt.signal.aborted)
    return { kind: 'stopped', text: state.answer.text || undefined, extra: {} };
  const apiError: APIError | null = err instanceof APIError ? err : null;
  // Nothing more goes on the wire before the retry-after has passed, whoever admitted it: said before anything is written.
  if (apiError && !state.refused) holdTheWire(kit, apiError, id, by);
  if (apiError?.headers) await noteServerLimits(kit, apiError.headers, by, id);
  // The API refused the request before reading it: its input did not count, and it wrote nothing.
  if (apiError && state.tokens.inputCounted === null) state.tokens.count(0, 0);
  const error =
    err instanceof BadStreamError
      ? err.error
      : withoutSecrets(toPaceError(err, 'chat', creds.baseURL), [creds.apiKey, ...Object.values(attempt.headers)]);
  kit.log(`attempt failed: ${error.code}`, id);
  if (
    apiError &&
    refusesCacheControl(
      { status: apiError.status, type: apiErrorType(apiError), message: apiError.message },
      attempt.cacheMode,
    )
  )
    return { kind: 'cache-control-refused', apiError };
  return failed(kit, error, apiError);
}

/** The API's error type (`overloaded_error`...) from an error response's body, when it has one. */
export function apiErrorType(err: APIError): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- a false positive (typescript-eslint#12249): tsc needs it
  const body = err.error as { error?: { type?: unknown } } | undefined;
  return typeof body?.error?.type === 'string' ? body.error.type : undefined;
}
