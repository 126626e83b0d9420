/** One handler per request in lib/protocol.ts; the `Handlers` type makes a missing one a type error. */
import type Anthropic from '@anthropic-ai/sdk';
import { listModels, type Credentials } from '../claude/client';
import { toPaceError } from '../claude/errors';
import { addExchange, resetForRetry } from '../chat/conversation-store';
import { PaceFailure, type Handlers, type KeyStatus } from '../protocol';
import { checkApiKey, checkBaseURL, checkPrompt, type Settings } from '../settings/validate';
import type { PaceDB } from '../storage/db';
import type { ModelInfo } from '../claude/models';
import { NO_KEY_ERROR, type ChatRunner } from './chat-runner';

export interface HandlerDeps {
  db: PaceDB;
  runner: ChatRunner;
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
  const now = deps.now ?? Date.now;
  const newId = deps.newId ?? (() => crypto.randomUUID());
  return {
    async 'chat.send'({ conversationId, text }) {
      const prompt = checkPrompt(text);
      if (!prompt.ok) throw new PaceFailure({ code: 'invalid_input', message: prompt.message, field: 'text' });
      if (!(await deps.credentials())) throw new PaceFailure(NO_KEY_ERROR);
      const { model } = await deps.settings();
      if (conversationId !== null && !(await deps.db.conversations.get(conversationId))) {
        throw new PaceFailure({ code: 'invalid_input', message: 'That conversation no longer exists. Start a new chat.', action: 'new_chat' });
      }
      const exchange = await addExchange(deps.db, { conversationId, text: prompt.value, now: now(), newId, model });
      void deps.runner.enqueue(exchange.conversationId, exchange.assistantMessageId);
      return exchange;
    },
    async 'chat.stop'({ messageId }) {
      return { stopped: deps.runner.stop(messageId) };
    },
    async 'chat.retry'({ messageId }) {
      if (deps.runner.isActive(messageId)) {
        throw new PaceFailure({ code: 'busy', message: 'This answer is still being written. Stop it first.' });
      }
      const message = await deps.db.messages.get(messageId);
      if (!message || message.role !== 'assistant') {
        throw new PaceFailure({ code: 'invalid_input', message: 'There is no answer with that id to retry.' });
      }
      if (!(await deps.credentials())) throw new PaceFailure(NO_KEY_ERROR);
      await resetForRetry(deps.db, messageId);
      void deps.runner.enqueue(message.conversationId, messageId);
      return { messageId };
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
      return deps.keys.save(checked.value);
    },
    'key.remove': () => deps.keys.remove(),
  };
}
