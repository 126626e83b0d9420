/** What chat.send and chat.retry check before anything is stored or sent: room in the month and the queue, and the context window. */
import type { Credentials } from '../../claude/client';
import { checkContextSize, countInputTokens, type ContextTurn } from '../../claude/context-size';
import { contextWindow } from '../../claude/models';
import { withAttachmentData } from '../../chat/conversation-store';
import { redactedDetail } from '../../key/redacting-log';
import { quota, type WindowState } from '../../limits/admission';
import { formatCount, formatReset } from '../../limits/format';
import { readQuotaState } from '../../limits/limiter-store';
import { PaceFailure } from '../../protocol';
import { MAX_QUEUE, UNSENT_STATES } from '../../queue/job-states';
import { parseHeaderLines, type Settings } from '../../settings/validate';
import type { Deps } from './deps';
import { THINKING_EFFORTS, type Limits, type PaceError, type ThinkingEffort } from '../../storage/rows';

/** Why the month or the queue cannot take a new request, with `waiting` jobs ahead of it; null when they can. */
export function roomProblem(t: number, limits: Limits, state: WindowState, waiting: number): PaceError | null {
  const q = quota(t, limits, state);
  if (waiting >= MAX_QUEUE) {
    return {
      code: 'queue_full',
      message: `${MAX_QUEUE} messages are already waiting to be sent. Wait for some to go, or clear the queue.`,
    };
  }
  if (q.monthLeft - waiting <= 0) {
    const waitingNote =
      waiting > 0 && q.monthLeft > 0 ? ` (the ${formatCount(waiting)} waiting take what is left)` : '';
    return {
      code: 'month_used_up',
      message: `This month's ${formatCount(limits.perMonth)} requests are used${waitingNote}. Sending resumes ${formatReset(q.monthResetAt, limits.monthStart)}.`,
    };
  }
  return null;
}

/** Refuses a new request the month or the queue cannot take, before anything is stored. */
export async function checkRoom(d: Pick<Deps, 'db' | 'now'>): Promise<void> {
  const { db } = d;
  const t = d.now();
  const [{ limits, state }, waiting] = await Promise.all([
    readQuotaState(db, t),
    db.jobs.where('state').anyOf(UNSENT_STATES).count(),
  ]);
  const problem = roomProblem(t, limits, state, waiting);
  if (problem) throw new PaceFailure(problem);
}

/** Refuses a request over the model's context window, before anything is stored or sent. */
export async function checkSize(
  d: Pick<Deps, 'db' | 'createClient' | 'contextWindow' | 'countTimeoutMs'>,
  kind: 'send' | 'retry',
  creds: Credentials,
  settings: Settings,
  messages: ContextTurn[],
): Promise<void> {
  const request = {
    kind,
    model: settings.model,
    system: settings.systemPrompt,
    messages,
    maxTokens: settings.maxTokens,
    window: (d.contextWindow ?? contextWindow)(settings.model),
  };
  const error = await checkContextSize(request, async () => {
    const { headers } = parseHeaderLines(settings.extraHeaders);
    try {
      const client = d.createClient(creds, headers);
      // Attachments' bytes are read only when the API is asked to count (a retry's context holds references).
      const withData = { ...request, messages: await withAttachmentData(d.db, messages) };
      return await countInputTokens(client, withData, AbortSignal.timeout(d.countTimeoutMs ?? 5000));
    } catch (err) {
      // The estimate decides; a wrong one is caught by the API when the request is sent. The
      // error's text is the server's body, which may echo the key: it is logged redacted.
      console.info(
        '[pace] could not count tokens; deciding from the estimate',
        redactedDetail(err, [creds.apiKey, ...Object.values(headers)]),
      );
      return null;
    }
  });
  if (error) throw new PaceFailure(error);
}

/** A thinking effort from a page: one of THINKING_EFFORTS, or refused naming them; undefined stays undefined. */
export function checkedThinking(thinking: string | undefined): ThinkingEffort | undefined {
  if (thinking === undefined) return undefined;
  if ((THINKING_EFFORTS as readonly string[]).includes(thinking)) return thinking as ThinkingEffort;
  throw new PaceFailure({
    code: 'invalid_input',
    message: `Thinking must be one of ${THINKING_EFFORTS.join(', ')} (got "${thinking.slice(0, 20)}").`,
    field: 'thinking',
  });
}
