/** One handler per request in lib/protocol.ts; the `Handlers` type makes a missing one a type error. */
import { listModels, type ClaudeClient, type Credentials } from '../claude/client';
import {
  checkContextSize,
  contextForRetry,
  contextWithNewMessage,
  countInputTokens,
  type ContextTurn,
} from '../claude/context-size';
import { toPaceError, withoutSecrets } from '../claude/errors';
import { redactedDetail } from '../key/redacting-log';
import { contextWindow, type ModelInfo } from '../claude/models';
import {
  addExchange,
  allConversationIds,
  checkTitle,
  chooseModel,
  conversationMessages,
  deleteConversations,
  pruneConversations,
  renameConversation,
  settingsFor,
} from '../chat/conversation-store';
import { checkChatPrefs } from '../settings/chat-prefs';
import * as jobStore from '../queue/job-store';
import { quota } from '../limits/admission';
import { formatCount, formatReset } from '../limits/format';
import {
  allowProbe,
  clearServerWait,
  readLimits,
  readQuotaState,
  readServerLimits,
  saveLimits,
} from '../limits/limiter-store';
import { checkLimits } from '../limits/plans';
import { learnedLimitsInput } from '../limits/learned-limits';
import { checkBudget } from '../limits/budget';
import { saveBudget } from '../limits/budget-store';
import { PaceFailure, type Handlers, type KeyStatus } from '../protocol';
import type { KeepKey } from '../key/keep-keys';
import type { PaceError, GatewayBudgetRow, Limits } from '../storage/rows';
import { isFinished, isUnsent, MAX_QUEUE, UNSENT_STATES } from '../queue/job-states';
import { isGatewayOrigin, unconfirmedOrigin, unconfirmedOriginError } from '../settings/key-origins';
import { checkUsagePrefs } from '../settings/usage-prefs';
import { checkBatchPrefs } from '../settings/batch-prefs';
import {
  checkApiKey,
  checkBaseURL,
  checkModel,
  checkPrompt,
  checkSettings,
  maskHeaderLines,
  parseHeaderLines,
  type Settings,
} from '../settings/validate';
import { clearCache } from '../cache/response-cache';
import { cacheKey } from '../cache/cache-key';
import { cacheableRequest, messageRequest } from '../claude/request';
import type { PromptCacheMode } from '../claude/prompt-cache';
import { admitAtOnceInTx, type AdmittedAtOnce } from '../queue/send-at-once';
import type { UsagePrefs } from '../settings/usage-prefs';
import type { PaceDB } from '../storage/db';
import { forgetGatewayBudget } from '../usage/gateway-budget';
import { isJob } from '../storage/row-guards';
import { LOCKED_ERROR, NO_KEY_ERROR } from '../claude/errors';
import { storedPrefs, type StoredPrefs } from '../settings/settings-items';
import type { ChatRunner, ReadySend } from '../queue/chat-runner';
import { readForSend, sameDay, type ReadAhead, type SendReadDeps } from '../queue/read-ahead';
import type { WindowState } from '../limits/admission';
import type { Reach } from '../reach/reach-menus';
import type { UnlockResult } from '../key/key-store';
import { passphraseProblem } from '../key/key-vault';

export interface HandlerDeps {
  db: PaceDB;
  runner: Pick<ChatRunner, 'stop' | 'isActive'>;
  /** Runs the queue after anything that changes it. */
  pump: () => Promise<void>;
  settings: () => Promise<Settings>;
  credentials: () => Promise<(Credentials & { demo: boolean }) | null>;
  createClient: (
    c: Credentials,
    extraHeaders?: Record<string, string>,
    watch?: (response: Response) => void,
  ) => ClaudeClient;
  keys: {
    status: () => Promise<KeyStatus>;
    save: (key: string, where: { remember: KeepKey; passphrase: string | null }) => Promise<KeyStatus>;
    unlock: (passphrase: string) => Promise<UnlockResult>;
    remove: () => Promise<KeyStatus>;
    saved: () => Promise<string | null>;
    /** Why the saved key cannot be used now (none, locked, a gateway not confirmed), or null. */
    blocker: () => Promise<PaceError | null>;
    /** The origins besides Anthropic's that the user confirmed may receive the key. */
    origins: () => Promise<string[]>;
  };
  rememberModels: (models: ModelInfo[]) => Promise<void>;
  /** Where checked settings, usage prefs and confirmed origins are written; extension storage by default. */
  prefs?: StoredPrefs;
  now?: () => number;
  newId?: () => string;
  keyTestTimeoutMs?: number;
  /** The model's context window in tokens; lib/claude/models by default. */
  contextWindow?: (model: string) => number;
  /** How long to wait for the API's exact token count before deciding from the estimate. */
  countTimeoutMs?: number;
  /** "Later, half price" (lib/batch/batch-runner.ts): gathered questions wake it; a batched answer's Stop cancels its batch. */
  batches?: { tick: () => Promise<void>; cancel: (jobId: string) => Promise<boolean> };
  /** A team gateway's budget for the key (lib/usage/gateway-key-info.ts); none without it. */
  gatewayBudget?: { refresh: (reason: 'asked') => Promise<GatewayBudgetRow | null> };
  /**
   * A new message the queue would send now is admitted in chat.send's own transaction and handed
   * to `start` once it has committed (lib/queue/send-at-once.ts); without this, every message waits for the queue's next run.
   */
  sendAtOnce?: {
    usagePrefs: () => Promise<Pick<UsagePrefs, 'cacheHours'>>;
    online: () => boolean;
    start: (admitted: AdmittedAtOnce, ready: Pick<ReadySend, 'creds' | 'settings' | 'storedMode' | 'request'>) => void;
    /** Resolves once the rate-limit figures that have arrived are written (lib/queue/wire-gate.ts): admission decides on them. */
    settled?: () => Promise<void>;
    /** The base URL's remembered prompt cache mode, read while the send's transaction runs rather than after it. */
    promptCacheMode?: (baseURL: string) => Promise<PromptCacheMode | undefined>;
    /** What a send needs, read while the user types (chat.prepare); without it, each send reads it. */
    readAhead?: Pick<ReadAhead, 'prepare' | 'take'>;
  };
  /** The context menu's templates and "Ask about this page" (lib/reach/reach-menus.ts); refused without it. */
  reach?: Pick<Reach, 'saveTemplates' | 'readPage'>;
}

const HOUR_MS = 60 * 60 * 1000;

/** Why the month or the queue cannot take a new request, with `waiting` jobs ahead of it; null when they can. */
function roomProblem(t: number, limits: Limits, state: WindowState, waiting: number): PaceError | null {
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

export function createHandlers(deps: HandlerDeps): Handlers {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const newId = deps.newId ?? (() => crypto.randomUUID());
  const prefs = deps.prefs ?? storedPrefs;

  /** Why there are no credentials: no key at all, a key still locked with its passphrase, or a gateway not confirmed. */
  async function missingKey(): Promise<PaceError> {
    return (await deps.keys.blocker()) ?? NO_KEY_ERROR;
  }

  /** Refuses a new request the month or the queue cannot take, before anything is stored. */
  async function checkRoom(): Promise<void> {
    const t = now();
    const [{ limits, state }, waiting] = await Promise.all([
      readQuotaState(db, t),
      db.jobs.where('state').anyOf(UNSENT_STATES).count(),
    ]);
    const problem = roomProblem(t, limits, state, waiting);
    if (problem) throw new PaceFailure(problem);
  }

  const readDeps: SendReadDeps = {
    db,
    now,
    credentials: deps.credentials,
    settings: deps.settings,
    usagePrefs: deps.sendAtOnce?.usagePrefs,
    promptCacheMode: deps.sendAtOnce?.promptCacheMode,
  };

  /** Refuses a request over the model's context window, before anything is stored or sent. */
  async function checkSize(
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
      window: (deps.contextWindow ?? contextWindow)(settings.model),
    };
    const error = await checkContextSize(request, async () => {
      const { headers } = parseHeaderLines(settings.extraHeaders);
      try {
        const client = deps.createClient(creds, headers);
        return await countInputTokens(client, request, AbortSignal.timeout(deps.countTimeoutMs ?? 5000));
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

  /** Stops the conversations' answers in flight, then deletes them with everything holding their text. */
  async function deleteStopped(conversationIds: string[]): Promise<number> {
    for (const job of await jobStore.activeJobsOf(db, conversationIds)) deps.runner.stop(job.id);
    const deleted = await deleteConversations(db, conversationIds);
    // Their queued messages are gone: the queue's figures change.
    void deps.pump();
    return deleted;
  }

  return {
    async 'chat.send'({ conversationId, text, model: chosen, later = false }) {
      const prompt = checkPrompt(text);
      if (!prompt.ok) throw new PaceFailure({ code: 'invalid_input', message: prompt.message, field: 'text' });
      const chosenModel = chosen == null ? undefined : checkModel(chosen);
      if (chosenModel && !chosenModel.ok)
        throw new PaceFailure({ code: 'invalid_input', message: chosenModel.message, field: 'model' });
      const atOnce = deps.sendAtOnce;
      // What the send needs, read while the user typed when that is still current (read-ahead.ts), else now.
      let taken = atOnce?.readAhead?.take(conversationId) ?? {
        reads: readForSend(readDeps, conversationId),
        current: () => false,
      };
      let reads = await taken.reads;
      // Made before a day or a month turned: what they counted no longer holds.
      if (!sameDay(reads, now())) {
        taken = { reads: readForSend(readDeps, conversationId), current: () => false };
        reads = await taken.reads;
      }
      const { creds } = reads;
      // The failures are reported in this order: no key, no conversation, no room.
      if (!creds) throw new PaceFailure(await missingKey());
      if (later && creds.demo) {
        throw new PaceFailure({
          code: 'invalid_input',
          message: 'The demo backend has no Message Batches: add your API key in options to send later at half price.',
          action: 'open_options',
        });
      }
      if (!reads.conversationFound) {
        throw new PaceFailure({
          code: 'invalid_input',
          message: 'That conversation no longer exists. Start a new chat.',
          action: 'new_chat',
        });
      }
      const room = roomProblem(now(), reads.limits, reads.state, reads.active.filter((j) => isUnsent(j.state)).length);
      if (room !== null) throw new PaceFailure(room);
      const settings = chosenModel ? { ...reads.settings, model: chosenModel.value } : reads.chatSettings;
      const cacheHours = atOnce ? reads.cacheHours : 0;
      const context = contextWithNewMessage(reads.earlier, prompt.value);
      const request = messageRequest(settings, context);
      const [, key] = await Promise.all([
        checkSize('send', creds, settings, context),
        cacheHours > 0 ? cacheKey(cacheableRequest(request, creds.baseURL)) : null,
      ]);
      // The figures the last response brought are written before this send's admission reads them.
      if (!later) await atOnce?.settled?.();
      const t = now();
      const ids = { conversationId: conversationId ?? newId(), userMessageId: newId(), assistantMessageId: newId() };
      const send = {
        jobId: ids.assistantMessageId,
        conversationId: ids.conversationId,
        now: t,
        settings,
        request,
        cache: key === null ? null : { key, ttlMs: cacheHours * HOUR_MS },
        demo: creds.demo,
      };
      const storedMode = Promise.resolve(reads.storedMode);
      // Room is checked again with the insert, in one transaction, so sends racing each other cannot
      // pass the caps; a message the queue would send now is admitted in it too (send-at-once.ts).
      const { exchange, admitted } = await db.transaction('rw', db.tables, async () => {
        await checkRoom();
        const exchange = await addExchange(db, {
          conversationId,
          ids,
          text: prompt.value,
          now: t,
          newId,
          model: settings.model,
          chosenModel: chosenModel?.value,
          later,
        });
        const admitted = !later && atOnce?.online() ? await admitAtOnceInTx(db, send) : null;
        return { exchange, admitted };
      });
      // Only now, the admission committed, does its request leave: nothing reaches the network uncounted.
      if (admitted) {
        atOnce?.start(admitted, { creds, settings, storedMode, request });
        return exchange;
      }
      if (later) void deps.batches?.tick();
      else void deps.pump();
      return exchange;
    },
    // eslint-disable-next-line @typescript-eslint/require-await -- every handler answers with a promise
    async 'chat.prepare'({ conversationId }) {
      const readAhead = deps.sendAtOnce?.readAhead;
      // Answered at once: the reads go on in the background.
      void readAhead?.prepare(conversationId);
      return { ready: readAhead !== undefined };
    },
    async 'chat.stop'({ messageId }) {
      if (await jobStore.cancel(db, messageId)) {
        void deps.pump();
        void deps.batches?.tick();
        return { stopped: true };
      }
      if (await deps.batches?.cancel(messageId)) return { stopped: true };
      return { stopped: deps.runner.stop(messageId) };
    },
    async 'chat.retry'({ messageId }) {
      // A damaged job row is no obstacle: the retry writes a fresh one.
      const found = await db.jobs.get(messageId);
      const job = isJob(found) ? found : undefined;
      if (deps.runner.isActive(messageId) || (job && !isFinished(job.state))) throw new PaceFailure(BUSY);
      const message = await db.messages.get(messageId);
      if (!message || message.role !== 'assistant') {
        throw new PaceFailure({ code: 'invalid_input', message: 'There is no answer with that id to retry.' });
      }
      const creds = await deps.credentials();
      if (!creds) throw new PaceFailure(await missingKey());
      await checkRoom();
      const context = contextForRetry(await conversationMessages(db, message.conversationId), messageId);
      if (context)
        await checkSize('retry', creds, await settingsFor(db, await deps.settings(), message.conversationId), context);
      // In the transaction that queues it: the job must still be the finished one read above (a
      // double click's other retry may have queued it since), and the room is checked again.
      const requeued = await db.transaction('rw', [db.messages, db.jobs, db.counters, db.meta], async () => {
        if (!(await jobStore.canRetry(db, messageId, job ?? null))) return null;
        await checkRoom();
        return jobStore.retry(db, messageId, now(), job ?? null);
      });
      if (!requeued) throw new PaceFailure(BUSY);
      void deps.pump();
      return { messageId };
    },
    async 'conversation.rename'({ conversationId, title }) {
      const checked = checkTitle(title);
      if (!checked.ok) throw new PaceFailure({ code: 'invalid_input', message: checked.message, field: 'title' });
      if (!(await renameConversation(db, conversationId, checked.value))) throw new PaceFailure(NO_CONVERSATION);
      return { title: checked.value };
    },
    async 'conversation.chooseModel'({ conversationId, model }) {
      const checked = checkModel(model);
      if (!checked.ok) throw new PaceFailure({ code: 'invalid_input', message: checked.message, field: 'model' });
      if (!(await chooseModel(db, conversationId, checked.value))) throw new PaceFailure(NO_CONVERSATION);
      return { model: checked.value };
    },
    async 'conversation.delete'({ conversationId }) {
      const deleted = await deleteStopped([conversationId]);
      if (deleted === 0) throw new PaceFailure(NO_CONVERSATION);
      return { deleted };
    },
    async 'conversation.deleteAll'() {
      return { deleted: await deleteStopped(await allConversationIds(db)) };
    },
    async 'chatPrefs.save'(input) {
      const checked = checkChatPrefs(input);
      if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'These choices are not valid.'));
      await prefs.saveChatPrefs(checked.value);
      await pruneConversations(db, now(), checked.value.keepDays);
      return checked.value;
    },
    async 'cache.clear'() {
      return { cleared: await clearCache(db) };
    },
    async 'queue.clear'() {
      const cancelled = await jobStore.clear(db);
      void deps.pump();
      return { cancelled };
    },
    async 'queue.tryNow'() {
      const allowed = await allowProbe(db, now());
      void deps.pump();
      return { allowed };
    },
    async 'limits.save'(input) {
      const checked = checkLimits(input);
      if (!checked.ok) {
        const first = Object.values(checked.errors)[0] ?? 'These limits are not valid.';
        throw new PaceFailure({ code: 'invalid_input', message: first, fields: checked.errors });
      }
      await saveLimits(db, checked.value);
      // Waiting jobs see the new limits at once.
      void deps.pump();
      return checked.value;
    },
    async 'limits.useLearned'() {
      const [current, server] = await Promise.all([readLimits(db), readServerLimits(db)]);
      if (!server)
        throw new PaceFailure({
          code: 'invalid_input',
          message:
            "Pace has not seen this key's limits yet: they come with Anthropic's answers. Send a message, then try again.",
        });
      const checked = checkLimits(learnedLimitsInput(current, server));
      if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'These limits are not valid.'));
      await saveLimits(db, checked.value);
      void deps.pump();
      return checked.value;
    },
    async 'settings.save'({ settings, confirmOrigin }) {
      const saved = await deps.settings();
      const keep = settings.extraHeaders === null;
      const checked = checkSettings({ ...settings, extraHeaders: settings.extraHeaders ?? saved.extraHeaders });
      if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'These settings are not valid.'));
      const [from, to] = [new URL(saved.baseURL).origin, new URL(checked.value.baseURL).origin];
      if (
        from !== to &&
        checked.value.extraHeaders !== '' &&
        (keep || checked.value.extraHeaders === saved.extraHeaders)
      ) {
        // The gateway headers are one gateway's secrets: they never follow the base URL to another origin unasked.
        throw new PaceFailure({
          code: 'invalid_input',
          message: `Not saved: the gateway headers were saved for ${from} and would go to ${to}. Press "Replace headers" to enter the ones for ${to}, or leave them empty.`,
          field: 'extraHeaders',
        });
      }
      const origin = unconfirmedOrigin(checked.value.baseURL, await deps.keys.origins());
      if (origin !== null && confirmOrigin) {
        await prefs.confirmOrigin(origin);
      } else if (origin !== null && (await deps.keys.status()).hasKey) {
        // The saved key would follow the base URL to a gateway the user has not said yes to.
        throw new PaceFailure({
          ...unconfirmedOriginError(origin),
          message: `Not saved: confirm first that your API key may go to ${origin}.`,
          field: 'baseURL',
        });
      }
      await prefs.saveSettings(checked.value);
      // The reply goes back to a page: the gateway headers' values, secrets like the key, go masked.
      return { ...checked.value, extraHeaders: maskHeaderLines(checked.value.extraHeaders) };
    },
    async 'usagePrefs.save'(input) {
      const checked = checkUsagePrefs(input);
      if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'These choices are not valid.'));
      await prefs.saveUsagePrefs(checked.value);
      return checked.value;
    },
    async 'batchPrefs.save'(input) {
      const checked = checkBatchPrefs(input);
      if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'These choices are not valid.'));
      await prefs.saveBatchPrefs(checked.value);
      // A shorter window or poll applies at once.
      void deps.batches?.tick();
      return checked.value;
    },
    async 'budget.save'(input) {
      const checked = checkBudget(input);
      if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'This budget is not valid.'));
      await saveBudget(db, checked.value);
      void deps.pump();
      return checked.value;
    },
    async 'key.confirmOrigin'({ origin }) {
      if (!isGatewayOrigin(origin)) {
        throw new PaceFailure({
          code: 'invalid_input',
          message: `"${origin.slice(0, 60)}" is not a gateway's origin: use https (such as https://gateway.example), or plain http only for this computer (localhost, 127.0.0.1, [::1]).`,
        });
      }
      await prefs.confirmOrigin(origin);
      return { origins: await deps.keys.origins() };
    },
    'key.status': () => deps.keys.status(),
    async 'templates.save'({ templates }) {
      if (!deps.reach) throw new PaceFailure(NO_REACH);
      return deps.reach.saveTemplates(templates);
    },
    async 'page.read'({ conversationId = null, model = null }) {
      if (!deps.reach) throw new PaceFailure(NO_REACH);
      const chosen = model === null ? null : checkModel(model);
      if (chosen && !chosen.ok)
        throw new PaceFailure({ code: 'invalid_input', message: chosen.message, field: 'model' });
      return deps.reach.readPage({ conversationId, model: chosen?.value ?? null });
    },
    async 'gateway.budget'() {
      return (await deps.gatewayBudget?.refresh('asked')) ?? null;
    },
    async 'key.test'({ key, baseURL }) {
      const url = checkBaseURL(baseURL);
      if (!url.ok) throw new PaceFailure({ code: 'invalid_input', message: url.message, field: 'baseURL' });
      let apiKey: string;
      if (key !== null && key.trim() !== '') {
        const checked = checkApiKey(key);
        if (!checked.ok) throw new PaceFailure({ code: 'invalid_input', message: checked.message, field: 'key' });
        apiKey = checked.value;
      } else {
        const saved = await deps.keys.saved();
        if (saved === null && (await deps.keys.status()).locked) {
          throw new PaceFailure({
            ...LOCKED_ERROR,
            message: 'The saved key is locked. Unlock it in the popup, or paste the key here to test it.',
            field: 'key',
          });
        }
        if (saved === null)
          throw new PaceFailure({ ...NO_KEY_ERROR, message: 'Paste a key to test: none is saved yet.', field: 'key' });
        // The saved key goes only to the saved base URL, never to one typed in the form and not saved.
        const savedURL = (await deps.settings()).baseURL;
        if (url.value !== savedURL) {
          throw new PaceFailure({
            code: 'invalid_input',
            message: `The saved key is sent only to the saved base URL (${savedURL}). Save the settings to use ${url.value}, or paste the key to test it there.`,
            field: 'baseURL',
          });
        }
        apiKey = saved;
      }
      const unconfirmed = unconfirmedOrigin(url.value, await deps.keys.origins());
      if (unconfirmed !== null) throw new PaceFailure({ ...unconfirmedOriginError(unconfirmed), field: 'baseURL' });
      try {
        const models = await listModels(
          deps.createClient({ apiKey, baseURL: url.value }),
          AbortSignal.timeout(deps.keyTestTimeoutMs ?? 15_000),
        );
        await deps.rememberModels(models);
        return { models };
      } catch (err) {
        throw new PaceFailure(withoutSecrets(toPaceError(err, 'key-test', url.value), [apiKey]));
      }
    },
    async 'key.save'({ key, remember, passphrase }) {
      const checked = checkApiKey(key);
      if (!checked.ok) throw new PaceFailure({ code: 'invalid_input', message: checked.message, field: 'key' });
      if (passphrase !== null && remember === 'session') {
        throw new PaceFailure({
          code: 'invalid_input',
          message:
            'A key kept only until the browser closes is never written to disk, so it takes no passphrase. Keep it on this device to protect it with one.',
          field: 'passphrase',
        });
      }
      const problem = passphrase === null ? null : passphraseProblem(passphrase);
      if (problem) throw new PaceFailure({ code: 'invalid_input', message: problem, field: 'passphrase' });
      const status = await deps.keys.save(checked.value, { remember, passphrase });
      // Anthropic's pause was about the old key, and so was the gateway's budget.
      await clearServerWait(db);
      await forgetGatewayBudget(db);
      void deps.pump();
      return status;
    },
    async 'key.unlock'({ passphrase }) {
      if (passphrase === '')
        throw new PaceFailure({ code: 'invalid_input', message: 'Type your passphrase first.', field: 'passphrase' });
      const result = await deps.keys.unlock(passphrase);
      if (!result.ok) throw new PaceFailure(UNLOCK_ERRORS[result.reason]);
      void deps.pump();
      return result.status;
    },
    async 'key.remove'() {
      const status = await deps.keys.remove();
      await clearServerWait(db);
      await forgetGatewayBudget(db);
      return status;
    },
  };
}

/** A whole form refused: the first field's message, and every field's for the form to show in place. */
function formRefused(errors: Partial<Record<string, string>>, fallback: string): PaceError {
  return { code: 'invalid_input', message: Object.values(errors)[0] ?? fallback, fields: errors };
}

const NO_CONVERSATION: PaceError = {
  code: 'invalid_input',
  message: 'That conversation no longer exists.',
  action: 'new_chat',
};
const NO_REACH: PaceError = { code: 'internal', message: 'This part of Pace is not running; reload the extension.' };

const BUSY: PaceError = { code: 'busy', message: 'This answer is still queued or being written. Stop it first.' };

const UNLOCK_ERRORS: Record<Exclude<UnlockResult, { ok: true }>['reason'], PaceError> = {
  wrong_passphrase: {
    code: 'invalid_input',
    message:
      'That passphrase does not unlock the saved key. Check it and try again, or remove the key on the options page and paste it again.',
    field: 'passphrase',
  },
  damaged: {
    code: 'locked',
    message: 'The saved key is damaged and cannot be unlocked. Remove it on the options page and paste your key again.',
    action: 'open_options',
  },
  not_sealed: { code: 'invalid_input', message: 'No saved key is locked with a passphrase.' },
};
