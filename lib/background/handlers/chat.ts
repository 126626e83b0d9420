/** chat.prepare, chat.stop and chat.retry; chat.send is in ./chat-send.ts. */
import { contextForRetry } from '../../claude/context-size';
import { conversationMessages, settingsFor } from '../../chat/conversation-store';
import { PaceFailure, type ReplyOf, type RequestOf } from '../../protocol';
import { isFinished } from '../../queue/job-states';
import * as jobStore from '../../queue/job-store';
import { isJob } from '../../storage/row-guards';
import { checkRoom, checkSize } from './chat-checks';
import type { Deps } from './deps';
import { missingKey } from './refusals';
import type { PaceError } from '../../storage/rows';

const BUSY: PaceError = { code: 'busy', message: 'This answer is still queued or being written. Stop it first.' };

// eslint-disable-next-line @typescript-eslint/require-await -- every handler answers with a promise
export async function chatPrepare(
  d: Deps,
  { conversationId }: RequestOf<'chat.prepare'>,
): Promise<ReplyOf<'chat.prepare'>> {
  const readAhead = d.sendAtOnce?.readAhead;
  // Answered at once: the reads go on in the background.
  void readAhead?.prepare(conversationId);
  return { ready: readAhead !== undefined };
}

export async function chatStop(d: Deps, { messageId }: RequestOf<'chat.stop'>): Promise<ReplyOf<'chat.stop'>> {
  if (await jobStore.cancel(d.db, messageId)) {
    void d.pump();
    void d.batches?.tick();
    return { stopped: true };
  }
  if (await d.batches?.cancel(messageId)) return { stopped: true };
  return { stopped: d.runner.stop(messageId) };
}

export async function chatRetry(d: Deps, { messageId }: RequestOf<'chat.retry'>): Promise<ReplyOf<'chat.retry'>> {
  const { db } = d;
  // A damaged job row is no obstacle: the retry writes a fresh one.
  const found = await db.jobs.get(messageId);
  const job = isJob(found) ? found : undefined;
  if (d.runner.isActive(messageId) || (job && !isFinished(job.state))) throw new PaceFailure(BUSY);
  const message = await db.messages.get(messageId);
  if (!message || message.role !== 'assistant') {
    throw new PaceFailure({ code: 'invalid_input', message: 'There is no answer with that id to retry.' });
  }
  const creds = await d.credentials();
  if (!creds) throw new PaceFailure(await missingKey(d));
  await checkRoom(d);
  const context = contextForRetry(await conversationMessages(db, message.conversationId), messageId);
  if (context)
    await checkSize(d, 'retry', creds, await settingsFor(db, await d.settings(), message.conversationId), context);
  // In the transaction that queues it: the job must still be the finished one read above (a
  // double click's other retry may have queued it since), and the room is checked again.
  const requeued = await db.transaction('rw', [db.messages, db.jobs, db.counters, db.meta], async () => {
    if (!(await jobStore.canRetry(db, messageId, job ?? null))) return null;
    await checkRoom(d);
    return jobStore.retry(db, messageId, d.now(), job ?? null);
  });
  if (!requeued) throw new PaceFailure(BUSY);
  void d.pump();
  return { messageId };
}
