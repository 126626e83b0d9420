/** One handler per request in lib/protocol.ts; the `Handlers` type makes a missing one a type error. */
import type Anthropic from '@anthropic-ai/sdk';
import { listModels, type Credentials } from '../claude/client';
import { toPaceError } from '../claude/errors';
import type { ModelInfo } from '../claude/models';
import { addExchange, cancelQueued, clearQueue, requeueForRetry } from '../chat/conversation-store';
import { quota } from '../limits/admission';
import { formatCount, formatReset } from '../limits/format';
import { readLimits, readWindowState, saveLimits } from '../limits/limiter-store';
import { checkLimits } from '../limits/plans';
import { PaceFailure, type Handlers, type KeyStatus } from '../protocol';
import { MAX_QUEUE } from '../queue/job-states';
import { checkApiKey, checkBaseURL, checkPrompt, type Settings } from '../settings/validate';
import type { PaceDB } from '../storage/db';
import { NO_KEY_ERROR, type ChatRunner } from './chat-runner';

export interface HandlerDeps {
  db: PaceDB;
  runner: Pick<ChatRunner, 'stop' | 'isActive'>;
  /** Runs the queue after anything that changes it. */
  pump: () => Promise<void>;
  settings: () => Promise<Settings>;
  credentials: () => Promise<(Credentials & { demo: boolean }) | null>;
  createClient: (c: Credentials) => Anthropic;
  keys: {
    status: () => Promise<KeyStatus>;
    save: (key: string) => Promise<KeyStatus>;
    remove: () => Promise<KeyStatus>;
    saved: () => Promise<string | null>;
  };
  rememberModels: (models: ModelInfo[]) => Promise<void>;
  now?: () => number;
  newId?: () => string;
  keyTestTimeoutMs?: number;
}

export function createHandlers(deps: HandlerDeps): Handlers {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const newId = deps.newId ?? (() => crypto.randomUUID());

  /** Refuses a new request the month or the queue cannot take, before anything is stored. */
  async function checkRoom(): Promise<void> {
    const t = now();
    const limits = await readLimits(db);
    const q = quota(t, limits, await readWindowState(db, t, limits));
    const waiting = await db.jobs.where('state').anyOf('queued', 'waiting').count();
    if (waiting >= MAX_QUEUE) {
      throw new PaceFailure({
        code: 'queue_full',
        message: `${MAX_QUEUE} messages are already waiting to be sent. Wait for some to go, or clear the queue.`,
      });
    }
    if (q.monthLeft - waiting <= 0) {
      const waitingNote = waiting > 0 && q.monthLeft > 0 ? ` (the ${formatCount(waiting)} waiting take what is left)` : '';
      throw new PaceFailure({
        code: 'month_used_up',
        message: `This month's ${formatCount(limits.perMonth)} requests are used${waitingNote}. Sending resumes ${formatReset(q.monthResetAt, limits.monthStart)}.`,
      });
    }
  }

  return {
    async 'chat.send'({ conversationId, text }) {
      const prompt = checkPrompt(text);
      if (!prompt.ok) throw new PaceFailure({ code: 'invalid_input', message: prompt.message, field: 'text' });
      if (!(await deps.credentials())) throw new PaceFailure(NO_KEY_ERROR);
      if (conversationId !== null && !(await db.conversations.get(conversationId))) {
        throw new PaceFailure({ code: 'invalid_input', message: 'That conversation no longer exists. Start a new chat.', action: 'new_chat' });
      }
      await checkRoom();
      const { model } = await deps.settings();
      const exchange = await addExchange(db, { conversationId, text: prompt.value, now: now(), newId, model });
      void deps.pump();
      return exchange;
    },
    async 'chat.stop'({ messageId }) {
      if (await cancelQueued(db, messageId)) {
        void deps.pump();
        return { stopped: true };
      }
      return { stopped: deps.runner.stop(messageId) };
    },
    async 'chat.retry'({ messageId }) {
      const job = await db.jobs.get(messageId);
      if (deps.runner.isActive(messageId) || (job && job.state !== 'done' && job.state !== 'failed' && job.state !== 'cancelled')) {
        throw new PaceFailure({ code: 'busy', message: 'This answer is still queued or being written. Stop it first.' });
      }
      const message = await db.messages.get(messageId);
      if (!message || message.role !== 'assistant') {
        throw new PaceFailure({ code: 'invalid_input', message: 'There is no answer with that id to retry.' });
      }
      if (!(await deps.credentials())) throw new PaceFailure(NO_KEY_ERROR);
      await checkRoom();
      await requeueForRetry(db, messageId, now());
      void deps.pump();
      return { messageId };
    },
    async 'queue.clear'() {
      const cancelled = await clearQueue(db);
      void deps.pump();
      return { cancelled };
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
    'key.status': () => deps.keys.status(),
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
        if (saved === null) throw new PaceFailure({ ...NO_KEY_ERROR, message: 'Paste a key to test: none is saved yet.', field: 'key' });
        apiKey = saved;
      }
      try {
        const models = await listModels(
          deps.createClient({ apiKey, baseURL: url.value }),
          AbortSignal.timeout(deps.keyTestTimeoutMs ?? 15_000),
        );
        await deps.rememberModels(models);
        return { models };
      } catch (err) {
        throw new PaceFailure(toPaceError(err, 'key-test', url.value));
      }
    },
    async 'key.save'({ key }) {
      const checked = checkApiKey(key);
      if (!checked.ok) throw new PaceFailure({ code: 'invalid_input', message: checked.message, field: 'key' });
      const status = await deps.keys.save(checked.value);
      void deps.pump();
      return status;
    },
    'key.remove': () => deps.keys.remove(),
  };
}
