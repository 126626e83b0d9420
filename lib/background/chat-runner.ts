/**
 * Sends answers and streams them into the database. Answers within one conversation go one after
 * another (each request is built when it starts, so it carries the answers before it); different
 * conversations run side by side. The streamed text is checkpointed to IndexedDB every
 * `checkpointMs` and pushed to open pages every `publishMs`.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { Credentials } from '../claude/client';
import { isAbort, toPaceError } from '../claude/errors';
import { applyStreamEvent, emptyAnswer } from '../claude/stream';
import {
  buildContext,
  checkpoint,
  conversationMessages,
  endAnswer,
  finishAnswer,
  markStreaming,
} from '../chat/conversation-store';
import type { PaceError, PaceEvent } from '../protocol';
import type { Settings } from '../settings/validate';
import type { PaceDB } from '../storage/db';
import type { KeepAlive } from './keep-alive';

export interface RunnerDeps {
  db: PaceDB;
  credentials: () => Promise<(Credentials & { demo: boolean }) | null>;
  settings: () => Promise<Settings>;
  createClient: (c: Credentials) => Anthropic;
  publish: (event: PaceEvent) => void;
  keepAlive: KeepAlive;
  now?: () => number;
  checkpointMs?: number;
  publishMs?: number;
  log?: (message: string, detail?: unknown) => void;
}

export const NO_KEY_ERROR: PaceError = {
  code: 'no_key',
  message: 'No API key is set. Add your Anthropic API key on the options page.',
  action: 'open_options',
};

export interface ChatRunner {
  enqueue(conversationId: string, answerId: string): Promise<void>;
  stop(answerId: string): boolean;
  isActive(answerId: string): boolean;
}

export function createChatRunner(deps: RunnerDeps): ChatRunner {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const checkpointMs = deps.checkpointMs ?? 250;
  const publishMs = deps.publishMs ?? 40;
  const log = deps.log ?? ((m: string, d?: unknown) => console.info(`[pace] ${m}`, d ?? ''));
  const controllers = new Map<string, AbortController>();
  const chains = new Map<string, Promise<void>>();

  async function run(conversationId: string, answerId: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted) {
      await endAnswer(db, answerId, 'stopped', '');
      return;
    }
    const creds = await deps.credentials();
    if (!creds) {
      await endAnswer(db, answerId, 'error', '', NO_KEY_ERROR);
      return;
    }
    const settings = await deps.settings();
    const context = buildContext(await conversationMessages(db, conversationId), answerId);
    await markStreaming(db, answerId, settings.model, creds.demo);
    deps.keepAlive.start();
    let answer = emptyAnswer();
    let savedAt = now();
    let publishedAt = 0;
    try {
      const stream = await deps.createClient(creds).messages.create(
        {
          model: settings.model,
          max_tokens: settings.maxTokens,
          messages: context,
          ...(settings.systemPrompt ? { system: settings.systemPrompt } : {}),
          stream: true,
        },
        { signal },
      );
      for await (const event of stream) {
        answer = applyStreamEvent(answer, event);
        const t = now();
        if (t - publishedAt >= publishMs) {
          publishedAt = t;
          deps.publish({ type: 'answer.progress', messageId: answerId, text: answer.text });
        }
        if (t - savedAt >= checkpointMs) {
          savedAt = t;
          await checkpoint(db, answerId, answer.text);
        }
      }
      if (signal.aborted) {
        log('answer stopped by the user', answerId);
        await endAnswer(db, answerId, 'stopped', answer.text);
      } else if (!answer.done) {
        await endAnswer(db, answerId, 'error', answer.text, {
          code: 'unreachable',
          message: 'The connection ended before the answer was complete.',
          action: 'retry',
        });
      } else {
        await finishAnswer(db, answerId, {
          text: answer.text,
          stopReason: answer.stopReason,
          usage: { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens },
        });
      }
    } catch (err) {
      if (isAbort(err) || signal.aborted) {
        log('answer stopped by the user', answerId);
        await endAnswer(db, answerId, 'stopped', answer.text);
      } else {
        const error = toPaceError(err, 'chat', creds.baseURL);
        log(`answer failed: ${error.code}`, answerId);
        await endAnswer(db, answerId, 'error', answer.text, error);
      }
    } finally {
      deps.keepAlive.stop();
      deps.publish({ type: 'answer.progress', messageId: answerId, text: answer.text });
    }
  }

  return {
    enqueue(conversationId, answerId) {
      const controller = new AbortController();
      controllers.set(answerId, controller);
      const previous = chains.get(conversationId) ?? Promise.resolve();
      const next = previous
        .then(() => run(conversationId, answerId, controller.signal))
        .catch(async (err: unknown) => {
          log('answer could not run', err);
          await endAnswer(db, answerId, 'error', '', toPaceError(err, 'chat', '')).catch((e: unknown) =>
            log('could not record the failure', e),
          );
        })
        .finally(() => {
          controllers.delete(answerId);
          if (chains.get(conversationId) === next) chains.delete(conversationId);
        });
      chains.set(conversationId, next);
      return next;
    },
    stop(answerId) {
      const controller = controllers.get(answerId);
      if (!controller) return false;
      controller.abort();
      return true;
    },
    isActive(answerId) {
      return controllers.has(answerId);
    },
  };
}
