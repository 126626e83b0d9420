/**
 * The worker's log for what servers send back. An error's text holds the response body, and a
 * careless or hostile gateway may echo the `Authorization` header or a gateway header in it: every
 * detail is written as text with those secrets taken out, by the same redaction as the errors shown
 * to the user (lib/claude/errors.ts `withoutSecrets`).
 *
 *   const log = createRedactingLog(currentSecrets);
 *   log('could not count tokens', err); // "[pace] could not count tokens" "API error 500: … [redacted] …"
 */
import { errorLabel, withoutSecrets } from '../claude/errors';

export type Log = (message: string, detail?: unknown) => void;

const MAX_DETAIL_CHARS = 2_000;

function asText(detail: unknown): string {
  if (detail === undefined || detail === null) return '';
  if (detail instanceof Error) return `${errorLabel(detail)}: ${detail.message}`;
  if (typeof detail === 'string') return detail;
  if (typeof detail === 'number' || typeof detail === 'boolean' || typeof detail === 'bigint') return String(detail);
  if (typeof detail !== 'object') return typeof detail;
  try {
    return JSON.stringify(detail) ?? typeof detail;
  } catch {
    // A cycle or a throwing getter: its kind is all that is said of it.
    return typeof detail;
  }
}

/** What a log line may say of `detail`: its text (an Error's kind and message), without `secrets`, at most 2,000 characters. */
export function redactedDetail(detail: unknown, secrets: readonly string[]): string {
  return withoutSecrets({ code: 'internal', message: asText(detail) }, secrets).message.slice(0, MAX_DETAIL_CHARS);
}

/**
 * A log that reads the current secrets (the saved key, the gateway headers' values) before each line
 * and writes the detail redacted; when they cannot be read it writes the detail's kind alone.
 */
export function createRedactingLog(
  secrets: () => Promise<readonly string[]>,
  write: (line: string, detail: string) => void = (line, detail) => console.info(line, detail),
): Log {
  return (message, detail) => {
    void secrets().then(
      (found) => write(`[pace] ${redactedDetail(message, found)}`, redactedDetail(detail, found)),
      () => write(`[pace] ${message}`, detail instanceof Error ? errorLabel(detail) : typeof detail),
    );
  };
}
