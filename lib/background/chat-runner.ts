/**
 * Sends one admitted job's request and streams the answer into the database. The request is built
 * now, not when the message was queued, so it carries every answer before it. The streamed text is
 * checkpointed to IndexedDB every `checkpointMs` and pushed to open pages every `publishMs`.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { Credentials } from '../claude/client';
import { isAbort, toPaceError } from '../claude/errors';
import { applyStreamEvent, emptyAnswer } from '../claude/stream';
import { buildContext, checkpoint, conversationMessages, markStreaming } from '../chat/conversation-store';
import type { PaceError, PaceEvent } from '../protocol';
import type { Settings } from '../settings/validate';
import type { Job, JobState, MessageStatus, PaceDB } from '../storage/db';
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
  /** Runs an admitted job to its end; never rejects. */
  start(job: Job): Promise<void>;
  /** Aborts a job in flight; false if it is not running here. */
  stop(jobId: string): boolean;
  isActive(jobId: string): boolean;
}

/** Ends a job and its answer together. */
export async function endJob(
  db: PaceDB,
  id: string,
  state: Extract<JobState, 'done' | 'failed' | 'cancelled'>,
  message: { status: MessageStatus; text?: string; error?: PaceError; stopReason?: string | null; usage?: { inputTokens: number; outputTokens: number } },
): Promise<void> {
  // Absent fields are left as they are (Dexie would delete a field set to undefined): an answer
  // that failed before any new text keeps the text it had.
  const patch = Object.fromEntries(Object.entries(message).filter(([, v]) => v !== undefined));
  await db.transaction('rw', db.jobs, db.messages, async () => {
    await db.jobs.update(id, { state, waitUntil: undefined, waitReason: undefined });
    await db.messages.update(id, patch);
  });
}

export function createChatRunner(deps: RunnerDeps): ChatRunner {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const checkpointMs = deps.checkpointMs ?? 250;
  const publishMs = deps.publishMs ?? 40;
  const log = deps.log ?? ((m: string, d?: unknown) => console.info(`[pace] ${m}`, d ?? ''));
  const controllers = new Map<string, AbortController>();

  async function run(job: Job, signal: AbortSignal): Promise<void> {
    const id = job.id;
    const creds = await deps.credentials();
    if (!creds) {
      await endJob(db, id, 'failed', { status: 'error', error: NO_KEY_ERROR });
      return;
    }
    const settings = await deps.settings();
    const context = buildContext(await conversationMessages(db, job.conversationId), id);
    await markStreaming(db, id, settings.model, creds.demo);
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
      await db.jobs.update(id, { state: 'streaming' });
      for await (const event of stream) {
        answer = applyStreamEvent(answer, event);
        const t = now();
        if (t - publishedAt >= publishMs) {
          publishedAt = t;
          deps.publish({ type: 'answer.progress', messageId: id, text: answer.text });
        }
        if (t - savedAt >= checkpointMs) {
          savedAt = t;
          await checkpoint(db, id, answer.text);
        }
      }
      if (signal.aborted) {
        log('answer stopped by the user', id);
        await endJob(db, id, 'cancelled', { status: 'stopped', text: answer.text });
      } else if (!answer.done) {
        await endJob(db, id, 'failed', {
          status: 'error',
          text: answer.text,
          error: { code: 'unreachable', message: 'The connection ended before the answer was complete.', action: 'retry' },
        });
      } else {
        await endJob(db, id, 'done', {
          status: 'done',
          text: answer.text,
          stopReason: answer.stopReason,
          usage: { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens },
        });
      }
    } catch (err) {
      if (isAbort(err) || signal.aborted) {
        log('answer stopped by the user', id);
        await endJob(db, id, 'cancelled', { status: 'stopped', text: answer.text || undefined });
      } else {
        const error = toPaceError(err, 'chat', creds.baseURL);
        log(`answer failed: ${error.code}`, id);
        await endJob(db, id, 'failed', { status: 'error', text: answer.text || undefined, error });
      }
    } finally {
      deps.publish({ type: 'answer.progress', messageId: id, text: answer.text });
    }
  }

  return {
    async start(job) {
      const controller = new AbortController();
      controllers.set(job.id, controller);
      deps.keepAlive.start();
      try {
        await run(job, controller.signal);
      } catch (err) {
        log('answer could not run', err);
        await endJob(db, job.id, 'failed', { status: 'error', error: toPaceError(err, 'chat', '') }).catch((e: unknown) =>
          log('could not record the failure', e),
        );
      } finally {
        deps.keepAlive.stop();
        controllers.delete(job.id);
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
  };
}
