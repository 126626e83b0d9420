/**
 * Measures a queued job's request just before admission (lib/limits/measure-request.ts): its token
 * need and its budget cost from one input figure, asking the API's exact count (count_tokens) when
 * the estimate is close to the room left in the token minute or when the budget's safe figure does
 * not fit what is left of the budget. A request larger than a whole minute's input limit can never
 * go: it is refused with the figures. A failed read rejects: the scheduler holds the job and tries again.
 */
import { contextPdfProblem } from '../attachments/attachment-check';
import type { ClaudeClient, Credentials } from '../claude/client';
import { errorLabel } from '../claude/errors';
import { countInputTokens, type ContextTurn } from '../claude/context-size';
import { buildContext, conversationMessages, settingsFor, withAttachmentData } from '../chat/conversation-store';
import { messageRequest, thinkingProblem, type ChatSettings, type MessageRequest } from '../claude/request';
import { WINDOW_MS } from './admission';
import { leftIn, maxWebSearches, periodSpends } from './budget';
import { loadSpend } from './budget-store';
import { readQuotaState } from './limiter-store';
import { measureRequest, type MeasureInput } from './measure-request';
import { EMPTY_TOKEN_LOG, inputRoom } from './token-buckets';
import { parseHeaderLines, type Settings } from '../settings/validate';
import type { Job, PaceDB } from '../storage/db';

/**
 * The measurement, and on success the request it measured, built once: the runner sends this one
 * (lib/queue/chat-runner.ts `StartOptions.request`). Absent when the conversation has no question
 * to send: the runner fails the answer with its own message.
 */
export type Measured =
  | (Extract<ReturnType<typeof measureRequest>, { ok: true }> & { request?: MessageRequest })
  | Extract<ReturnType<typeof measureRequest>, { ok: false }>;

export interface MeasureDeps {
  db: PaceDB;
  now: () => number;
  settings: () => Promise<Settings>;
  credentials: () => Promise<(Credentials & { demo: boolean }) | null>;
  createClient: (c: Credentials, extraHeaders?: Record<string, string>) => ClaudeClient;
  /** How long to wait for the exact count before deciding on the estimate. */
  countTimeoutMs?: number;
  log?: (message: string, detail?: unknown) => void;
}

export function createMeasureRequest(deps: MeasureDeps): (job: Job) => Promise<Measured> {
  const { db } = deps;
  const log = deps.log ?? ((m: string, d?: unknown) => console.info(`[pace] ${m}`, d ?? ''));
  return async (job) => {
    const t = deps.now();
    const [settings, messages, { limits, state }, spent] = await Promise.all([
      deps.settings().then((read) => settingsFor(db, read, job.conversationId)),
      conversationMessages(db, job.conversationId),
      readQuotaState(db, t),
      db.transaction('r', [db.meta, db.usageMonths, db.usageDays], () => loadSpend(db, t)),
    ]);
    let turns: ContextTurn[];
    let request: MessageRequest | undefined;
    try {
      turns = buildContext(messages, job.id);
    } catch (err) {
      // No question to send: the runner fails the answer with its own message.
      log('nothing to measure for this answer', err instanceof Error ? err.name : 'error');
      turns = [];
    }
    // A later message's request carries every earlier turn's PDFs: at most 100 pages in all.
    const pdfProblem = contextPdfProblem(turns);
    if (pdfProblem) {
      return { ok: false, error: { code: 'invalid_input', message: pdfProblem, field: 'attachments' } };
    }
    if (turns.length > 0) {
      // A failed read rejects (the job is held and tried again); a request that cannot be built
      // (thinking that no longer fits the model or max_tokens, an attachment's bytes gone) is
      // refused with its reason: it is never admitted nor counted.
      turns = await withAttachmentData(db, turns);
      const built = buildRequest(settings, turns);
      if (!built.ok) return { ok: false, error: { code: 'invalid_input', message: built.message } };
      request = built.request;
    }
    const periods = periodSpends(t, limits.monthStart, spent.budget, spent.spend, spent.ledger(limits.monthStart));
    const input: MeasureInput = {
      request: { system: settings.systemPrompt, messages: turns },
      model: settings.model,
      maxTokens: settings.maxTokens,
      promptCache: settings.promptCache,
      room: inputRoom(t, limits, state.tokens ?? EMPTY_TOKEN_LOG, state.server, WINDOW_MS),
      budget: spent.budget,
      budgetLeft: Math.min(Infinity, ...periods.map(leftIn)),
      webSearches: request ? maxWebSearches(request) : 0,
    };
    const first = measureRequest(input);
    if (first.ok === true) return { ...first, request };
    if (first.ok === false) return first;
    const exact = await exactCount({ model: settings.model, ...input.request }, settings);
    const second = measureRequest({ ...input, exact });
    // Measured with a figure, it never asks again.
    if (second.ok === 'count') throw new Error('measureRequest asked for a count it was given');
    return second.ok ? { ...second, request } : second;
  };

  function buildRequest(
    settings: ChatSettings,
    turns: ContextTurn[],
  ): { ok: true; request: MessageRequest } | { ok: false; message: string } {
    const problem = thinkingProblem(settings.model, settings.thinking ?? 'off', settings.maxTokens);
    if (problem) return { ok: false, message: problem };
    const missing = turns.flatMap((t) => t.attachments ?? []).find((a) => a.data === undefined);
    if (missing) {
      return {
        ok: false,
        message: `The bytes of ${missing.name} are missing: send it again in a new message.`,
      };
    }
    try {
      return { ok: true, request: messageRequest(settings, turns) };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : 'This request could not be built.' };
    }
  }

  async function exactCount(
    request: Parameters<typeof countInputTokens>[1],
    settings: Settings,
  ): Promise<number | null> {
    try {
      const creds = await deps.credentials();
      if (!creds) return null;
      const client = deps.createClient(creds, parseHeaderLines(settings.extraHeaders).headers);
      return await countInputTokens(client, request, AbortSignal.timeout(deps.countTimeoutMs ?? 5000));
    } catch (err) {
      // Only the error's kind and status: an API error's message can echo the request's headers.
      log('could not count tokens; deciding from the estimate', errorLabel(err));
      return null;
    }
  }
}
