/**
 * Sends one admitted job's request and streams the answer into the database. The request is built
 * now, not when the message was queued, so it carries every answer before it. The streamed text is
 * checkpointed to IndexedDB every `checkpointMs` and pushed to open pages every `publishMs`.
 */
import { APIError } from '@anthropic-ai/sdk/core/error';
import type { ClaudeClient, Credentials } from '../claude/client';
import {
  answeredBy,
  CUT_OFF,
  isAbort,
  NO_KEY_ERROR,
  retryAfterSeconds,
  STALLED,
  toPaceError,
  withoutSecrets,
} from '../claude/errors';
import { readRateLimitHeaders } from '../claude/rate-limit-headers';
import { gatewayKeySpend, gatewayResponseCost, readGatewayRateLimitHeaders } from '../claude/gateway-headers';
import { pauseAll, probeAnswered, probeLost } from '../limits/limiter-store';
import { formatWait } from '../limits/format';
import { countInput, countOutput, saveServerLimitsFor } from '../limits/token-store';
import { tokensPerMinuteUse } from '../limits/token-usage';
import { afterCacheControlRefused, afterFailedAttempt, askedToWait } from './after-attempt';
import { parseHeaderLines } from '../settings/validate';
import { applyStreamEvent, BadStreamError, emptyAnswer, SIZE_CAP_STOP, type AssembledAnswer } from '../claude/stream';
import { buildContext, conversationMessages, markStreaming, settingsFor } from '../chat/conversation-store';
import { cacheKey } from '../cache/cache-key';
import { storeAnswer } from '../cache/response-cache';
import { cacheableRequest, messageRequest } from '../claude/request';
import {
  effectiveMode,
  fallbackMode,
  memoryModes,
  refusesCacheControl,
  ttlOf,
  withPromptCache,
  type PromptCacheMode,
  type PromptCacheModes,
} from '../claude/prompt-cache';
import type { AnswerProgress } from '../protocol';
import type { PaceError } from '../storage/rows';
import type { UsagePrefs } from '../settings/usage-prefs';
import type { Settings } from '../settings/validate';
import type { Attempt, ChatMessage, Job, PaceDB, UsageRow } from '../storage/db';
import * as jobStore from './job-store';
import { errorText } from '../error-text';
import { endUsage, recordAttempt, tokensOf } from '../usage/attempt-ledger';
import type { Refusal } from '../usage/alerts';
import type { KeepAlive } from '../background/keep-alive';
import { createWireGate, type WireGate } from './wire-gate';

export interface RunnerDeps {
  db: PaceDB;
  credentials: () => Promise<(Credentials & { demo: boolean }) | null>;
  settings: () => Promise<Settings>;
  /** The response cache's lifetime; answers are kept only when it is on. */
  usagePrefs?: () => Promise<Pick<UsagePrefs, 'cacheHours'>>;
  /** `watch` sees each response as its status arrives (lib/claude/client.ts): a 429 closes the wire gate then. */
  createClient: (
    c: Credentials,
    extraHeaders?: Record<string, string>,
    watch?: (response: Response) => void,
  ) => ClaudeClient;
  /** Per base URL, how Anthropic's prompt cache is asked for (a gateway may refuse automatic caching); in memory if not given. */
  promptCacheModes?: PromptCacheModes;
  publish: (event: AnswerProgress) => void;
  /** Anthropic refused a request (429 or the spend cap): for the alert. `waitText` says how long. */
  onRefused?: (reason: Refusal, waitText: string | null, by: string) => void;
  /** A team gateway that reports the key's spend (`x-litellm-key-spend`) answered: its budget may have moved. */
  onGatewaySpend?: () => void;
  keepAlive: KeepAlive;
  now?: () => number;
  random?: () => number;
  /** Whether the browser believes it is online (navigator.onLine). */
  online?: () => boolean;
  /** The door every request passes just before the wire (lib/queue/wire-gate.ts); one per worker (the runner's own if not given). */
  gate?: WireGate;
  checkpointMs?: number;
  publishMs?: number;
  /** An answer with no event for this long is treated as a dropped connection. */
  stallMs?: number;
  log?: (message: string, detail?: unknown) => void;
}

/** What chat.send already read and wrote for a job it admitted at once (lib/queue/send-at-once.ts): the answer is marked streaming. */
export interface ReadySend {
  creds: Credentials & { demo: boolean };
  settings: Settings;
  messages: ChatMessage[];
  /** The base URL's prompt cache mode, its read started with chat.send's (`ChatRunner.promptCacheMode`). */
  storedMode?: Promise<PromptCacheMode | undefined>;
  /** Called when the answer starts (or never): work that can wait, kept off the request's way. */
  started?: () => void;
  /** The request as chat.send built and its transaction checked it. */
  request?: ReturnType<typeof messageRequest>;
}

/** How an admitted job is started. */
export interface StartOptions {
  /** Its admission used the pause's one probe (Try now): it passes the wire gate, which the pause closed. */
  probe?: boolean;
}

export interface ChatRunner {
  /**
   * Runs a job whose admission has committed to its end; never rejects. `ready`: its reads are
   * made, nothing is read again before the request.
   */
  start(job: Job, ready?: ReadySend, options?: StartOptions): Promise<void>;
  /** Aborts a job in flight; false if it is not running here. */
  stop(jobId: string): boolean;
  isActive(jobId: string): boolean;
  /** How the base URL takes Anthropic's prompt cache, as remembered: read ahead for a `ReadySend`. */
  promptCacheMode(baseURL: string): Promise<PromptCacheMode | undefined>;
}

export function createChatRunner(deps: RunnerDeps): ChatRunner {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const checkpointMs = deps.checkpointMs ?? 250;
  const publishMs = deps.publishMs ?? 40;
  const stallMs = deps.stallMs ?? 60_000;
  const random = deps.random ?? Math.random;
  const online = deps.online ?? (() => true);
  const log = deps.log ?? ((m: string, d?: unknown) => console.info(`[pace] ${m}`, d ?? ''));
  const controllers = new Map<string, AbortController>();
  const gate = deps.gate ?? createWireGate({ now });
  const promptCacheModes = deps.promptCacheModes ?? memoryModes();
  // What this worker learned, kept here too: a refused mode is never sent again because storage failed.
  const learned = memoryModes();
  const cacheModeFor = async (baseURL: string) =>
    (await learned.get(baseURL)) ??
    (await promptCacheModes
      .get(baseURL)
      .catch((err: unknown) => (log('could not read the prompt cache mode', err), undefined)));

  async function run(
    job: Job,
    controller: AbortController,
    ready: ReadySend | undefined,
    options: StartOptions,
  ): Promise<void> {
    const id = job.id;
    const { signal } = controller;
    // Independent reads, made at once: each is a round trip to storage, and the user waits for the first word.
    const [creds, settings, messages] = ready
      ? [ready.creds, ready.settings, ready.messages]
      : await Promise.all([
          deps.credentials(),
          deps.settings().then((read) => settingsFor(db, read, job.conversationId)),
          conversationMessages(db, job.conversationId),
        ]);
    if (!creds) {
      if (job.usageId !== undefined) await endUsage(db, job.usageId, { outcome: NO_KEY_ERROR.code }, log);
      await jobStore.fail(db, id, { status: 'error', error: NO_KEY_ERROR });
      return;
    }
    /** Who answers: named in waits and give-ups, so a gateway's word is not passed off as Anthropic's. */
    const by = answeredBy(creds.baseURL);
    const request = ready?.request ?? messageRequest(settings, buildContext(messages, id));
    // The queue's last write before the request: the answer is streaming, and the job no longer
    // unsent, together (chat.send's at-once admission made both in its own transaction).
    const streaming = () => markStreaming(db, id, settings.model, creds.demo);
    const [storedMode] = await Promise.all([
      ready?.storedMode ?? cacheModeFor(creds.baseURL),
      ready ? null : job.unsent ? jobStore.readyForTheWire(db, id, streaming) : streaming(),
    ]);
    const cacheMode = effectiveMode(settings.promptCache, storedMode);
    const cacheTtl = ttlOf(settings.promptCache);
    let answer = emptyAnswer();
    /** When the request left: reset once the gate has let it through, so a wait there is not taken for the answer's time. */
    let sentAt = now();
    let firstTextAt: number | null = null;
    /** What the gateway says this request cost (`x-litellm-response-cost`), once it has answered. */
    let gatewayCost: number | null = null;
    /** One ledger row for this attempt; a failure to write it never affects the answer. */
    const ledger = (outcome: string, extra: Pick<UsageRow, 'status' | 'errorType'> = {}) =>
      recordAttempt(
        db,
        job.usageId,
        {
          at: sentAt,
          model: answer.model ?? settings.model,
          conversationId: job.conversationId,
          messageId: id,
          outcome,
          ...extra,
          usage: tokensOf(answer),
          ttftMs: firstTextAt === null ? null : firstTextAt - sentAt,
          totalMs: now() - sentAt,
          attempt: job.attempts,
          fromCache: false,
        },
        { cacheTtl, gatewayCost, requested: request.model },
        log,
      );
    let savedAt = now();
    let savedText = answer.text;
    let publishedAt = 0;
    // Only a change of text is pushed: the events before the first words (message_start, ping)
    // must not use up the publish interval, so the first text delta shows at once.
    let publishedText = answer.text;
    // A stream that goes quiet is cut, and retried like a dropped connection.
    let stalled = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const feed = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        controller.abort();
      }, stallMs);
    };
    // The token minute learns the real input count as the stream reports it, and the real output in
    // place of the room admission reserved once the answer is complete (or refused); an answer cut
    // off keeps its room. The writes go one after another, off the path to the first word, and are
    // awaited before the end.
    let tokenWrites = Promise.resolve();
    let inputCounted: number | null = null;
    const countTokens = (input: number | null, output: number | null = null) => {
      const at = now();
      if (input !== null) inputCounted = input;
      tokenWrites = tokenWrites
        .then(() =>
          Promise.all([
            input === null ? null : countInput(db, id, input),
            output === null ? null : countOutput(db, id, output, at),
          ]),
        )
        .then(
          () => undefined,
          (err: unknown) => log('could not count the tokens', err),
        );
    };
    const { headers } = parseHeaderLines(settings.extraHeaders);
    /** The rate-limit figures and the job's start, written while the first words are read and shown: the user waits for those. */
    let startWrites: Promise<void> | null = null;
    /** The client's watch saw a refusal and closed the wire: its error need not again. */
    let refused = false;
    try {
      // Admitted and counted already; a 429 or 529 that came since holds it here until its retry-after has passed.
      await passTheGate(id, options.probe === true, signal);
      // The watchdog and the answer's times start with the request: a wait at the gate is neither a stall nor slowness.
      sentAt = now();
      feed();
      const call = deps
        .createClient(creds, headers, (response) => (refused = holdTheWire(response, id, by)))
        .messages.create({ ...withPromptCache(request, cacheMode, cacheTtl), stream: true }, { signal })
        .withResponse();
      gate.sent(id);
      const { data: stream, response } = await call.finally(() => gate.answered(id));
      if (by !== 'Anthropic') gatewayCost = gatewayResponseCost(response.headers);
      const written = noteServerLimits(response.headers, by, id).then(() => jobStore.start(db, id));
      startWrites = written;
      written.then(
        () => ready?.started?.(),
        () => undefined,
      );
      // The token counts go after them, as they did when these were awaited first.
      tokenWrites = written.then(
        () => undefined,
        () => undefined,
      );
      for await (const event of stream) {
        feed();
        answer = applyStreamEvent(answer, event);
        if (event.type === 'message_start' || event.type === 'message_delta')
          countTokens(tokensPerMinuteUse(tokensOf(answer)).inputTokens);
        // Past the size cap nothing more is read: leaving the loop closes the connection.
        if (answer.truncated) break;
        const t = now();
        if (firstTextAt === null && answer.text !== '') firstTextAt = t;
        // Each event carries the whole text: a long answer is pushed less often (up to once a second) so pages keep up.
        if (
          answer.text !== publishedText &&
          t - publishedAt >= Math.min(Math.max(publishMs, 1_000), publishMs * Math.max(1, answer.text.length / 100_000))
        ) {
          publishedAt = t;
          publishedText = answer.text;
          deps.publish({ type: 'answer.progress', messageId: id, text: answer.text });
        }
        // Only new text is saved: the events before the first words have nothing to keep.
        if (t - savedAt >= checkpointMs && answer.text !== savedText) {
          savedAt = t;
          savedText = answer.text;
          await written;
          await jobStore.checkpoint(db, id, answer.text);
        }
      }
      await written;
      if (stalled) {
        await attemptFailed(STALLED, null);
      } else if (answer.truncated) {
        log('answer cut at the size cap', id);
        await ledger(SIZE_CAP_STOP, { status: response.status });
        await probeAnswered(db, id);
        await jobStore.finish(
          db,
          id,
          {
            status: 'done',
            text: answer.text,
            stopReason: SIZE_CAP_STOP,
            usage: { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens },
            error: undefined,
          },
          { at: now(), outcome: SIZE_CAP_STOP, status: response.status },
        );
      } else if (signal.aborted) {
        await stoppedByUser(answer.text, { status: response.status });
      } else if (!answer.done) {
        await attemptFailed(CUT_OFF, null);
      } else {
        countTokens(null, tokensPerMinuteUse(tokensOf(answer)).outputTokens);
        await ledger('ok', { status: response.status });
        // If this was Try now's probe, Anthropic accepts requests again: the rest of the queue goes.
        if (await probeAnswered(db, id)) gate.open();
        await keepInCache(creds.baseURL, request, answer);
        if (by !== 'Anthropic' && gatewayKeySpend(response.headers) !== null) deps.onGatewaySpend?.();
        await jobStore.finish(
          db,
          id,
          {
            status: 'done',
            text: answer.text,
            stopReason: answer.stopReason,
            usage: { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens },
            error: undefined,
          },
          { at: now(), outcome: 'ok', status: response.status, ...promptCacheOf(answer) },
        );
      }
    } catch (err) {
      // Whatever ended the answer, the job's start is written before its end.
      await startWrites?.catch(() => undefined);
      if (stalled) {
        await attemptFailed(STALLED, null);
      } else if (isAbort(err) || signal.aborted) {
        await stoppedByUser(answer.text || undefined, {});
      } else {
        const apiError: APIError | null = err instanceof APIError ? err : null;
        // Nothing more goes on the wire before the retry-after has passed, whoever admitted it: said before anything is written.
        if (apiError && !refused) holdTheWire(apiError, id, by);
        if (apiError?.headers) await noteServerLimits(apiError.headers, by, id);
        // The API refused the request before reading it: its input did not count, and it wrote nothing.
        if (apiError && inputCounted === null) countTokens(0, 0);
        const error =
          err instanceof BadStreamError
            ? err.error
            : withoutSecrets(toPaceError(err, 'chat', creds.baseURL), [creds.apiKey, ...Object.values(headers)]);
        log(`attempt failed: ${error.code}`, id);
        if (
          apiError &&
          refusesCacheControl(
            { status: apiError.status, type: apiErrorType(apiError), message: apiError.message },
            cacheMode,
          )
        ) {
          await cacheControlRefused(apiError);
        } else {
          await attemptFailed(error, apiError);
        }
      }
    } finally {
      clearTimeout(watchdog);
      deps.publish({ type: 'answer.progress', messageId: id, text: answer.text });
      await tokenWrites;
    }

    /**
     * A failed attempt: in the ledger, then tried again, paused or given up. Whether the browser
     * is offline is asked once, for both: offline, nothing left the machine, but a send the
     * limiter counted keeps its ledger row, as 'offline'.
     */
    async function attemptFailed(error: PaceError, apiError: APIError | null): Promise<void> {
      const offline = !online() && (error.code === 'unreachable' || error.code === 'stalled');
      if (offline && job.usageId !== undefined) await ledger('offline');
      if (!offline)
        await ledger(error.code, apiError ? { status: apiError.status, errorType: apiErrorType(apiError) } : {});
      await afterFailedAttempt(
        { db, now, random, onRefused: deps.onRefused, hold: (until) => gate.close(until) },
        job,
        { text: answer.text, error, response: apiError, offline, by },
      );
    }

    /** The base URL (a gateway) refused `cache_control`: the next mode down is remembered for it, and the job goes again. */
    async function cacheControlRefused(apiError: APIError): Promise<void> {
      await ledger('cache_control_refused', { status: apiError.status, errorType: apiErrorType(apiError) });
      const next = fallbackMode(cacheMode);
      await learned.set(creds!.baseURL, next);
      await promptCacheModes
        .set(creds!.baseURL, next)
        .catch((err: unknown) => log('could not remember the prompt cache mode', err));
      log(`the base URL refused cache_control (${cacheMode}); next: ${next}`, id);
      await afterCacheControlRefused(db, id, answer.text, next, apiError.status, now());
    }

    async function stoppedByUser(text: string | undefined, extra: Pick<UsageRow, 'status'>): Promise<void> {
      log('answer stopped by the user', id);
      await ledger('stopped', extra);
      await jobStore.stop(db, id, { status: 'stopped', text });
    }
  }

  /** Keeps a complete, successful answer for identical requests, when the cache is on. */
  async function keepInCache(
    baseURL: string,
    request: ReturnType<typeof messageRequest>,
    answer: AssembledAnswer,
  ): Promise<void> {
    if (answer.stopReason !== 'end_turn' && answer.stopReason !== 'stop_sequence') return;
    try {
      const prefs = await deps.usagePrefs?.();
      if (!prefs || prefs.cacheHours <= 0) return;
      const t = now();
      await storeAnswer(db, {
        key: await cacheKey(cacheableRequest(request, baseURL)),
        createdAt: t,
        model: answer.model ?? request.model,
        text: answer.text,
        stopReason: answer.stopReason,
        usage: tokensOf(answer),
      });
    } catch (err) {
      log('could not keep the answer in the cache', err);
    }
  }

  /**
   * `by` is who answered: a gateway's own `x-ratelimit-*` headers count when Anthropic's are absent.
   * The figures are dated from just after `jobId`'s request was admitted (lib/limits/token-store.ts).
   */
  async function noteServerLimits(headers: Headers, by: string, jobId: string): Promise<void> {
    const server =
      readRateLimitHeaders(headers, now()) ??
      (by === 'Anthropic' ? null : readGatewayRateLimitHeaders(headers, now(), by));
    if (!server) return;
    // The queue's next admission waits for this write: it must not decide on the figures before these.
    const write = saveServerLimitsFor(db, server, jobId, gate.onTheWire());
    gate.track(write);
    await write;
  }

  /**
   * Waits at the gate while it is closed. A job held there is marked so (its request has not left):
   * a worker that stops meanwhile gives its count back at start-up (lib/queue/job-store.ts `recover`).
   * The mark goes before the request does.
   */
  async function passTheGate(id: string, probe: boolean, signal: AbortSignal): Promise<void> {
    if (probe || gate.closedUntil(now()) === null) return gate.pass({ probe, signal });
    await jobStore.markUnsent(db, id, true);
    try {
      await gate.pass({ signal });
    } finally {
      await jobStore.markUnsent(db, id, false);
    }
  }

  /**
   * A 429, or a 529 that says how long to wait: the wire is closed to every request until then,
   * and the pause is written at once (the queue's admissions wait for that write), so a worker
   * restarted a moment later holds the queue too. Called as the response's status arrives (the
   * client's `watch`), or with its error when the client was made without the watch. True when it
   * closed the wire.
   */
  function holdTheWire(refusal: { status?: number; headers?: Headers | null }, jobId: string, by: string): boolean {
    if (refusal.status !== 429 && refusal.status !== 529) return false;
    const t = now();
    const seconds = retryAfterSeconds(refusal.headers, t);
    if (seconds === null) return false;
    const until = t + seconds * 1000;
    gate.close(until);
    const message =
      refusal.status === 429
        ? askedToWait(by, until - t)
        : `${by} is overloaded and asked us to wait ${formatWait(until - t)}.`;
    const write = pauseAll(db, { until, reason: 'rate_limited', message, by }, jobId, t);
    gate.track(write);
    write.catch((err: unknown) => log('could not write the pause', err));
    return true;
  }

  return {
    async start(job, ready, options = {}) {
      const controller = new AbortController();
      controllers.set(job.id, controller);
      deps.keepAlive.start();
      try {
        await run(job, controller, ready, options);
      } catch (err) {
        log('answer could not run', err);
        // Not an API failure (those end inside run): say what broke rather than blame the connection.
        const error: PaceError = {
          code: 'internal',
          message: `Pace could not send this answer: ${errorText(err)}`,
          action: 'retry',
        };
        if (job.usageId !== undefined) await endUsage(db, job.usageId, { outcome: error.code }, log);
        await jobStore
          .fail(db, job.id, { status: 'error', error })
          .catch((e: unknown) => log('could not record the failure', e));
      } finally {
        // A probe that got no answer on the pause (stopped, a fault) leaves it, and Try now may go again.
        await probeLost(db, job.id).catch((err: unknown) => log('could not give back the probe', err));
        deps.keepAlive.stop();
        if (controllers.get(job.id) === controller) controllers.delete(job.id);
      }
    },
    stop(jobId) {
      const controller = controllers.get(jobId);
      if (!controller) return false;
      controller.abort();
      return true;
    },
    isActive(jobId) {
      return controllers.has(jobId);
    },
    promptCacheMode: cacheModeFor,
  };
}

/** What Anthropic's prompt cache did for an answer, for its attempt details; nothing when it did nothing. */
function promptCacheOf(a: AssembledAnswer): Pick<Attempt, 'promptCache'> {
  return a.cacheReadTokens > 0 || a.cacheCreationTokens > 0
    ? { promptCache: { readTokens: a.cacheReadTokens, writtenTokens: a.cacheCreationTokens } }
    : {};
}

/** The API's error type (`overloaded_error`...) from an error response's body, when it has one. */
function apiErrorType(err: APIError): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- a false positive (typescript-eslint#12249): tsc needs it
  const body = err.error as { error?: { type?: unknown } } | undefined;
  return typeof body?.error?.type === 'string' ? body.error.type : undefined;
}
