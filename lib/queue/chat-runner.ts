/**
 * Sends one admitted job's request and streams the answer into the database. The request is built
 * now, not when the message was queued, so it carries every answer before it. The streamed text is
 * checkpointed to IndexedDB every `checkpointMs` and pushed to open pages every `publishMs`.
 *
 * An attempt is a row of steps, each taking the attempt (./chat-attempt.ts) and its state: build
 * (here), send (./attempt-send.ts), stream (./stream-into-db.ts), its outcome named
 * (./attempt-outcome.ts), then settle and after (./attempt-settle.ts). What the worker shares
 * across attempts, the wire gate's steps with it, is ./runner-kit.ts.
 */
import type { ClaudeClient, Credentials } from '../claude/client';
import { answeredBy, NO_KEY_ERROR } from '../claude/errors';
import { probeLost } from '../limits/limiter-store';
import { parseHeaderLines } from '../settings/validate';
import { conversationMessages, markStreaming, requestContext, settingsFor } from '../chat/conversation-store';
import { messageRequest } from '../claude/request';
import { effectiveMode, memoryModes, ttlOf, type PromptCacheMode, type PromptCacheModes } from '../claude/prompt-cache';
import type { AnswerProgress } from '../protocol';
import type { UsagePrefs } from '../settings/usage-prefs';
import type { Settings } from '../settings/validate';
import type { ChatMessage, Job, PaceDB } from '../storage/db';
import * as jobStore from './job-store';
import { errorText } from '../error-text';
import { endUsage } from '../usage/attempt-ledger';
import type { Refusal } from '../usage/alerts';
import type { KeepAlive } from '../background/keep-alive';
import { createWireGate, type WireGate } from './wire-gate';
import { send } from './attempt-send';
import { streamIntoDb } from './stream-into-db';
import { outcomeOfError, outcomeOfStream } from './attempt-outcome';
import { afterOutcome, closeAttempt, settle } from './attempt-settle';
import { newAttemptState, type ChatAttempt } from './chat-attempt';
import { cacheModeFor, type RunnerKit } from './runner-kit';
import type { PaceError } from '../storage/rows';

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
interface StartOptions {
  /** Its admission used the pause's one probe (Try now): it passes the wire gate, which the pause closed. */
  probe?: boolean;
  /** The request the queue measured and admitted (lib/limits/measure-job.ts): sent as it is, not built again. */
  request?: ReturnType<typeof messageRequest>;
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
  const now = deps.now ?? Date.now;
  const kit: RunnerKit = {
    db: deps.db,
    now,
    random: deps.random ?? Math.random,
    online: deps.online ?? (() => true),
    log: deps.log ?? ((m: string, d?: unknown) => console.info(`[pace] ${m}`, d ?? '')),
    gate: deps.gate ?? createWireGate({ now }),
    checkpointMs: deps.checkpointMs ?? 250,
    publishMs: deps.publishMs ?? 40,
    stallMs: deps.stallMs ?? 60_000,
    createClient: deps.createClient,
    publish: deps.publish,
    usagePrefs: deps.usagePrefs,
    onRefused: deps.onRefused,
    onGatewaySpend: deps.onGatewaySpend,
    promptCacheModes: deps.promptCacheModes ?? memoryModes(),
    learned: memoryModes(),
  };
  const { db, log } = kit;
  const controllers = new Map<string, AbortController>();

  /**
   * One attempt, step by step: build the request, send it through the wire gate, stream the
   * answer into the database, then settle the outcome (ledger, tokens, probe) and act on it
   * (finish, retry, cache, prompt cache mode). Each step takes the attempt and its state.
   */
  async function run(
    job: Job,
    controller: AbortController,
    ready: ReadySend | undefined,
    options: StartOptions,
  ): Promise<void> {
    const attempt = await build(kit, deps, job, controller, ready, options);
    if (!attempt) return;
    const state = newAttemptState(kit, attempt);
    try {
      const answered = await send(kit, attempt, state);
      await streamIntoDb(kit, attempt, state, answered);
      const outcome = outcomeOfStream(kit, attempt, state, answered.response);
      await settle(kit, attempt, state, outcome);
      await afterOutcome(kit, attempt, state, outcome);
    } catch (err) {
      // The gate, the request, the stream, or a write while settling a stream's end: named, settled and acted on the same way.
      const outcome = await outcomeOfError(kit, attempt, state, err);
      await settle(kit, attempt, state, outcome);
      await afterOutcome(kit, attempt, state, outcome);
    } finally {
      await closeAttempt(kit, attempt, state);
    }
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
    promptCacheMode: (baseURL) => cacheModeFor(kit, baseURL),
  };
}

/**
 * The build step: the request is the one admitted (built by chat.send or by the queue's measurement,
 * just before admission), or built now, never when the message was queued, so it carries every
 * answer before it; and the answer is marked streaming. Null when there is no key: the job has
 * failed, and there is nothing to send.
 */
async function build(
  kit: RunnerKit,
  deps: Pick<RunnerDeps, 'credentials' | 'settings'>,
  job: Job,
  controller: AbortController,
  ready: ReadySend | undefined,
  options: StartOptions,
): Promise<ChatAttempt | null> {
  const { db, log } = kit;
  const id = job.id;
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
    return null;
  }
  const request = ready?.request ?? options.request ?? messageRequest(settings, await requestContext(db, messages, id));
  // The queue's last write before the request: the answer is streaming, and the job no longer
  // unsent, together (chat.send's at-once admission made both in its own transaction).
  const streaming = () => markStreaming(db, id, settings.model, creds.demo);
  const [storedMode] = await Promise.all([
    ready?.storedMode ?? cacheModeFor(kit, creds.baseURL),
    ready ? null : job.unsent ? jobStore.readyForTheWire(db, id, streaming) : streaming(),
  ]);
  return {
    job,
    id,
    controller,
    signal: controller.signal,
    probe: options.probe === true,
    ready,
    creds,
    settings,
    by: answeredBy(creds.baseURL),
    request,
    headers: parseHeaderLines(settings.extraHeaders).headers,
    cacheMode: effectiveMode(settings.promptCache, storedMode),
    cacheTtl: ttlOf(settings.promptCache),
  };
}
