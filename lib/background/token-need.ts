/**
 * What a queued job's request asks of the token limits, measured just before admission: its input
 * tokens (the four-characters-a-token estimate of lib/claude/context-size.ts; the API's exact
 * count_tokens when that estimate is close to the room left) and its answer's max_tokens. A request
 * larger than a whole minute's input limit can never go: it is refused with the figures.
 */
import type { ClaudeClient, Credentials } from '../claude/client';
import { countInputTokens, estimateTokens } from '../claude/context-size';
import { errorLabel } from '../claude/errors';
import { buildContext, conversationMessages } from '../chat/conversation-store';
import { WINDOW_MS } from '../limits/admission';
import { formatCount } from '../limits/format';
import { readQuotaState } from '../limits/limiter-store';
import { inputRoom, needsExactInputCount, type TokenNeed } from '../limits/token-buckets';
import type { PaceError } from '../protocol';
import { parseHeaderLines, type Settings } from '../settings/validate';
import type { Job, PaceDB } from '../storage/db';

export type NeedResult = { ok: true; need: TokenNeed } | { ok: false; error: PaceError };

export interface TokenNeedDeps {
  db: PaceDB;
  now: () => number;
  settings: () => Promise<Settings>;
  credentials: () => Promise<(Credentials & { demo: boolean }) | null>;
  createClient: (c: Credentials, extraHeaders?: Record<string, string>) => ClaudeClient;
  /** How long to wait for the exact count before deciding on the estimate. */
  countTimeoutMs?: number;
  log?: (message: string, detail?: unknown) => void;
}

export function createTokenNeed(deps: TokenNeedDeps): (job: Job) => Promise<NeedResult> {
  const log = deps.log ?? ((m: string, d?: unknown) => console.info(`[pace] ${m}`, d ?? ''));
  return async (job) => {
    const t = deps.now();
    const [settings, messages, { limits, state }] = await Promise.all([deps.settings(), conversationMessages(deps.db, job.conversationId), readQuotaState(deps.db, t)]);
    const outputTokens = settings.maxTokens;
    const room = inputRoom(t, limits, state.tokens ?? { input: [], output: [] }, state.server, WINDOW_MS);
    // No input limit in force: nothing to measure.
    if (room === null) return { ok: true, need: { inputTokens: 0, outputTokens } };
    let context: ReturnType<typeof buildContext>;
    try {
      context = buildContext(messages, job.id);
    } catch (err) {
      // No question to send: the runner fails the answer with its own message.
      log('nothing to measure for this answer', err instanceof Error ? err.message : err);
      return { ok: true, need: { inputTokens: 0, outputTokens } };
    }
    const request = { model: settings.model, system: settings.systemPrompt, messages: context };
    let inputTokens = estimateTokens(request);
    if (needsExactInputCount(inputTokens, room.room)) inputTokens = (await exactCount(request, settings)) ?? inputTokens;
    if (inputTokens > room.limit) {
      const whose = room.by === 'pace' ? 'your limit is' : 'Anthropic allows this key';
      return {
        ok: false,
        error: {
          code: 'too_large',
          message: `This request is about ${formatCount(inputTokens)} input tokens; ${whose} ${formatCount(room.limit)} input tokens a minute, so it can never be sent. Start a new chat, or raise the input-token limit on the options page.`,
          action: 'new_chat',
        },
      };
    }
    return { ok: true, need: { inputTokens, outputTokens } };
  };

  async function exactCount(request: Parameters<typeof countInputTokens>[1], settings: Settings): Promise<number | null> {
    try {
      const creds = await deps.credentials();
      if (!creds) return null;
      const client = deps.createClient(creds, parseHeaderLines(settings.extraHeaders).headers);
      return await countInputTokens(client, request, AbortSignal.timeout(deps.countTimeoutMs ?? 5000));
    } catch (err) {
      // The estimate decides; the real count replaces it once the answer's usage arrives.
      log('could not count tokens; deciding from the estimate', errorLabel(err));
      return null;
    }
  }
}
