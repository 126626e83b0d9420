/**
 * The last steps of an attempt (./chat-runner.ts), once its outcome is named (./attempt-outcome.ts):
 * `settle` accounts for it (the ledger row, the output tokens, Try now's probe), `afterOutcome`
 * acts on it (the job kept, stopped, tried again or given up; a complete answer cached; a refused
 * prompt cache mode remembered), and `closeAttempt` ends it whatever happened.
 */
import { cacheKey } from '../cache/cache-key';
import { storeAnswer } from '../cache/response-cache';
import { gatewayKeySpend } from '../claude/gateway-headers';
import { fallbackMode } from '../claude/prompt-cache';
import { cacheableRequest, type MessageRequest } from '../claude/request';
import { SIZE_CAP_STOP, type AssembledAnswer } from '../claude/stream';
import { probeAnswered } from '../limits/limiter-store';
import { tokensPerMinuteUse } from '../limits/token-usage';
import type { Attempt, UsageRow } from '../storage/db';
import { recordAttempt, tokensOf } from '../usage/attempt-ledger';
import { afterCacheControlRefused, afterFailedAttempt } from './after-attempt';
import { apiErrorType, type Outcome } from './attempt-outcome';
import type { AttemptState, ChatAttempt } from './chat-attempt';
import * as jobStore from './job-store';
import { progressOf } from './stream-into-db';
import type { RunnerKit } from './runner-kit';

/** One ledger row for this attempt; a failure to write it never affects the answer. */
function ledger(
  kit: RunnerKit,
  attempt: ChatAttempt,
  state: AttemptState,
  outcome: string,
  extra: Pick<UsageRow, 'status' | 'errorType'> = {},
): Promise<void> {
  const { job, settings } = attempt;
  const { answer, sentAt, firstTextAt } = state;
  return recordAttempt(
    kit.db,
    job.usageId,
    {
      at: sentAt,
      model: answer.model ?? settings.model,
      conversationId: job.conversationId,
      messageId: attempt.id,
      outcome,
      ...extra,
      usage: tokensOf(answer),
      // The stream named a search count that is not one: what the answer cost is not known (the budget keeps its worst case).
      ...(answer.webSearchesUnknown ? { usageUnknown: true } : {}),
      ttftMs: firstTextAt === null ? null : firstTextAt - sentAt,
      totalMs: kit.now() - sentAt,
      attempt: job.attempts,
      fromCache: false,
    },
    { cacheTtl: attempt.cacheTtl, gatewayCost: state.gatewayCost, requested: attempt.request.model },
    kit.log,
  );
}

/** Accounts for the outcome: its ledger row (the output tokens first, for a complete answer) and Try now's probe. */
export async function settle(
  kit: RunnerKit,
  attempt: ChatAttempt,
  state: AttemptState,
  outcome: Outcome,
): Promise<void> {
  const { db, log } = kit;
  const { id } = attempt;
  switch (outcome.kind) {
    case 'done':
      state.tokens.count(null, tokensPerMinuteUse(tokensOf(state.answer)).outputTokens);
      await ledger(kit, attempt, state, 'ok', { status: outcome.response.status });
      // If this was Try now's probe, Anthropic accepts requests again: the rest of the queue goes.
      if (await probeAnswered(db, id)) kit.gate.open();
      return;
    case 'size-cap':
      log('answer cut at the size cap', id);
      await ledger(kit, attempt, state, SIZE_CAP_STOP, { status: outcome.status });
      await probeAnswered(db, id);
      return;
    case 'stopped':
      log('answer stopped by the user', id);
      await ledger(kit, attempt, state, 'stopped', outcome.extra);
      return;
    case 'cache-control-refused': {
      const { apiError } = outcome;
      await ledger(kit, attempt, state, 'cache_control_refused', {
        status: apiError.status,
        errorType: apiErrorType(apiError),
      });
      return;
    }
    case 'failed': {
      // Offline, nothing left the machine, but a send the limiter counted keeps its ledger row, as 'offline'.
      const { error, apiError, offline } = outcome;
      if (offline && attempt.job.usageId !== undefined) await ledger(kit, attempt, state, 'offline');
      if (!offline)
        await ledger(
          kit,
          attempt,
          state,
          error.code,
          apiError ? { status: apiError.status, errorType: apiErrorType(apiError) } : {},
        );
      return;
    }
  }
}

/** Acts on the outcome: the job is finished, stopped, tried again, paused or given up. */
export async function afterOutcome(
  kit: RunnerKit,
  attempt: ChatAttempt,
  state: AttemptState,
  outcome: Outcome,
): Promise<void> {
  const { db, now, log } = kit;
  const { id, by, creds } = attempt;
  const { answer } = state;
  switch (outcome.kind) {
    case 'done': {
      const { response } = outcome;
      await keepInCache(kit, creds.baseURL, attempt.request, answer);
      if (by !== 'Anthropic' && gatewayKeySpend(response.headers) !== null) kit.onGatewaySpend?.();
      await jobStore.finish(
        db,
        id,
        {
          status: 'done',
          text: answer.text,
          stopReason: answer.stopReason,
          usage: { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens },
          error: undefined,
          ...extrasOf(answer),
        },
        { at: now(), outcome: 'ok', status: response.status, ...promptCacheOf(answer) },
      );
      return;
    }
    case 'size-cap':
      await jobStore.finish(
        db,
        id,
        {
          status: 'done',
          text: answer.text,
          stopReason: SIZE_CAP_STOP,
          usage: { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens },
          error: undefined,
          ...extrasOf(answer),
        },
        { at: now(), outcome: SIZE_CAP_STOP, status: outcome.status },
      );
      return;
    case 'stopped':
      // What arrived is kept, thinking and sources too (nothing is cleared: a stop before any keeps the checkpoint's).
      await jobStore.stop(db, id, { status: 'stopped', text: outcome.text, ...extrasOf(answer, true) });
      return;
    case 'cache-control-refused': {
      // The next mode down is remembered for the base URL, and the job goes again.
      const { cacheMode } = attempt;
      const next = fallbackMode(cacheMode);
      await kit.learned.set(creds.baseURL, next);
      await kit.promptCacheModes
        .set(creds.baseURL, next)
        .catch((err: unknown) => log('could not remember the prompt cache mode', err));
      log(`the base URL refused cache_control (${cacheMode}); next: ${next}`, id);
      await afterCacheControlRefused(db, id, answer.text, next, outcome.apiError.status, now());
      return;
    }
    case 'failed': {
      const { error, apiError, offline } = outcome;
      await afterFailedAttempt(
        { db, now, random: kit.random, onRefused: kit.onRefused, hold: (until) => kit.gate.close(until) },
        attempt.job,
        { text: answer.text, error, response: apiError, offline, by },
      );
      return;
    }
  }
}

/** Whatever happened: the watchdog stops, open pages get the last text (and thinking), and the token counts are written. */
export async function closeAttempt(kit: RunnerKit, attempt: ChatAttempt, state: AttemptState): Promise<void> {
  state.watchdog.stop();
  kit.publish(progressOf(attempt.id, state.answer));
  await state.tokens.written();
}

/**
 * An answer's thinking, citations, sources and web searches as its message keeps them. Complete
 * (`onlyKnown` false), each one absent is cleared, so nothing of an attempt before it stays; for a
 * stopped answer only what it has is written.
 */
function extrasOf(
  a: AssembledAnswer,
  onlyKnown = false,
): Pick<jobStore.EndedAnswer, 'thinking' | 'citations' | 'sources' | 'webSearches'> {
  const extras = {
    thinking: a.thinking === '' ? undefined : a.thinking,
    citations: a.citations.length === 0 ? undefined : a.citations,
    sources: a.sources.length === 0 ? undefined : a.sources,
    webSearches: a.webSearches > 0 ? a.webSearches : undefined,
  };
  return onlyKnown ? Object.fromEntries(Object.entries(extras).filter(([, v]) => v !== undefined)) : extras;
}

/** Keeps a complete, successful answer for identical requests, when the cache is on. */
async function keepInCache(
  kit: RunnerKit,
  baseURL: string,
  request: MessageRequest,
  answer: AssembledAnswer,
): Promise<void> {
  if (answer.stopReason !== 'end_turn' && answer.stopReason !== 'stop_sequence') return;
  // A searched answer is about the web as it was; and the cache keeps only the text: an answer with
  // sources, cited passages or thinking would come back without them.
  if (answer.webSearches > 0 || answer.sources.length > 0) return;
  if (answer.citations.length > 0 || answer.thinking !== '') return;
  try {
    const prefs = await kit.usagePrefs?.();
    if (!prefs || prefs.cacheHours <= 0) return;
    const t = kit.now();
    await storeAnswer(kit.db, {
      key: await cacheKey(cacheableRequest(request, baseURL)),
      createdAt: t,
      model: answer.model ?? request.model,
      text: answer.text,
      stopReason: answer.stopReason,
      usage: tokensOf(answer),
    });
  } catch (err) {
    kit.log('could not keep the answer in the cache', err);
  }
}

/** What Anthropic's prompt cache did for an answer, for its attempt details; nothing when it did nothing. */
function promptCacheOf(a: AssembledAnswer): Pick<Attempt, 'promptCache'> {
  return a.cacheReadTokens > 0 || a.cacheCreationTokens > 0
    ? { promptCache: { readTokens: a.cacheReadTokens, writtenTokens: a.cacheCreationTokens } }
    : {};
}
