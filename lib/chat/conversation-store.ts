/**
 * Reads and writes conversations and messages. Every function takes the database, so tests pass a
 * fresh one (fake-indexeddb) and the background passes its own.
 */
import type { ChatMessage, Conversation, Job, PaceDB } from '../storage/db';
import { isFinished } from '../queue/job-states';
import { settleUsage } from '../usage/ledger-store';
import { INTERRUPTED } from '../usage/totals';
import { conversationProblem, isJob, jobProblem, messageProblem, readable, type SkippedRow } from '../storage/row-guards';

export const TITLE_CHARS = 60;

export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0]?.replace(/\s+/g, ' ') ?? '';
  return line.length > TITLE_CHARS ? `${line.slice(0, TITLE_CHARS - 1)}…` : line || 'New chat';
}

export interface NewExchange {
  conversationId: string;
  userMessageId: string;
  assistantMessageId: string;
}

/**
 * Stores the user's message, an empty pending answer and its queued job in one transaction,
 * creating the conversation when `conversationId` is null. The message is safe on disk before
 * anything is sent.
 */
export async function addExchange(
  db: PaceDB,
  input: { conversationId: string | null; text: string; now: number; newId: () => string; model: string },
): Promise<NewExchange> {
  return db.transaction('rw', [db.conversations, db.messages, db.jobs], async () => {
    let conversationId = input.conversationId;
    let last = 0;
    if (conversationId !== null) {
      const existing = await db.conversations.get(conversationId);
      if (!existing) throw new Error(`Conversation ${conversationId} does not exist.`);
      const newest = await db.messages
        .where('[conversationId+createdAt]')
        .between([conversationId, -Infinity], [conversationId, Infinity])
        .last();
      last = newest?.createdAt ?? 0;
      await db.conversations.update(conversationId, { updatedAt: input.now });
    } else {
      conversationId = input.newId();
      await db.conversations.add({ id: conversationId, title: titleFrom(input.text), createdAt: input.now, updatedAt: input.now });
    }
    // Strictly increasing times keep the order of messages even within one millisecond.
    const userAt = Math.max(input.now, last + 1);
    const userMessageId = input.newId();
    const assistantMessageId = input.newId();
    await db.messages.bulkAdd([
      { id: userMessageId, conversationId, role: 'user', text: input.text, createdAt: userAt, status: 'done' },
      {
        id: assistantMessageId,
        conversationId,
        role: 'assistant',
        text: '',
        createdAt: userAt + 1,
        status: 'pending',
        model: input.model,
      },
    ]);
    await db.jobs.add({ id: assistantMessageId, conversationId, state: 'queued', createdAt: userAt + 1, attempts: 0 });
    return { conversationId, userMessageId, assistantMessageId };
  });
}

/** A conversation's messages, oldest first; unreadable rows are left out and reported (see row-guards). */
export async function loadMessages(db: PaceDB, conversationId: string): Promise<{ messages: ChatMessage[]; skipped: SkippedRow[] }> {
  const rows = await db.messages
    .where('[conversationId+createdAt]')
    .between([conversationId, -Infinity], [conversationId, Infinity])
    .toArray();
  const { rows: messages, skipped } = readable<ChatMessage>('messages', rows, messageProblem);
  return { messages, skipped };
}

export async function conversationMessages(db: PaceDB, conversationId: string): Promise<ChatMessage[]> {
  return (await loadMessages(db, conversationId)).messages;
}

/** The most recently updated conversations; unreadable rows are left out and reported. */
export async function loadConversations(db: PaceDB, limit = 50): Promise<{ conversations: Conversation[]; skipped: SkippedRow[] }> {
  const rows = await db.conversations.orderBy('updatedAt').reverse().limit(limit).toArray();
  const { rows: conversations, skipped } = readable<Conversation>('conversations', rows, conversationProblem);
  return { conversations, skipped };
}

export async function recentConversations(db: PaceDB, limit = 50): Promise<Conversation[]> {
  return (await loadConversations(db, limit)).conversations;
}

/** The text already there stays (a resumed answer) until the new stream replaces it. */
export async function markStreaming(db: PaceDB, id: string, model: string, demo: boolean): Promise<void> {
  await db.messages.update(id, { status: 'streaming', error: undefined, stopReason: null, model, demo });
}

export async function checkpoint(db: PaceDB, id: string, text: string): Promise<void> {
  await db.messages.update(id, { text });
}

/**
 * Whether the answer's job may be retried: finished, and still the one the caller saw (`seen`,
 * read before: another retry may have queued it since). Null `seen`: there was no readable job.
 */
export async function canRetry(db: PaceDB, id: string, seen?: Pick<Job, 'createdAt' | 'attempts'> | null): Promise<boolean> {
  const found = await db.jobs.get(id);
  // A damaged job row is no obstacle: the retry writes a fresh one.
  const job = isJob(found) ? found : undefined;
  if (job && !isFinished(job.state)) return false;
  return seen === undefined || (job?.createdAt === seen?.createdAt && job?.attempts === seen?.attempts);
}

/**
 * Clears an answer and queues its job again, at the back of the queue: a retry is a new request.
 * Null, with nothing written, unless `canRetry` holds in the same transaction, so one click makes
 * one request whatever the timing.
 */
export async function requeueForRetry(db: PaceDB, id: string, now: number, seen?: Pick<Job, 'createdAt' | 'attempts'> | null): Promise<ChatMessage | null> {
  return db.transaction('rw', db.messages, db.jobs, async () => {
    const message = await db.messages.get(id);
    if (!message || message.role !== 'assistant') throw new Error('Only an answer can be retried.');
    if (!(await canRetry(db, id, seen))) return null;
    const job = await db.jobs.get(id);
    await db.messages.update(id, { status: 'pending', text: '', error: undefined, stopReason: null, resumed: undefined, fromCache: undefined });
    await db.jobs.put({
      id,
      conversationId: message.conversationId,
      state: 'queued',
      createdAt: now,
      attempts: isJob(job) ? job.attempts : 0,
      // Retry and "Ask again" want a new answer: the cache is not asked.
      skipCacheLookup: true,
    });
    return { ...message, status: 'pending', text: '' };
  });
}

/** Cancels a job that has not been sent: it is not counted. False if it was already on its way. */
export async function cancelQueued(db: PaceDB, id: string): Promise<boolean> {
  return db.transaction('rw', db.messages, db.jobs, async () => {
    const job = await db.jobs.get(id);
    if (!job || (job.state !== 'queued' && job.state !== 'waiting')) return false;
    await db.jobs.update(id, { state: 'cancelled', waitUntil: undefined, waitReason: undefined });
    await db.messages.update(id, {
      status: 'stopped',
      error: { code: 'cancelled', message: 'Cancelled before it was sent: not counted against your limits.', action: 'retry' },
    });
    return true;
  });
}

/** Cancels every job that has not been sent yet; returns how many. */
export async function clearQueue(db: PaceDB): Promise<number> {
  // One transaction for the lot: open pages see the queue empty at once, not job by job.
  return db.transaction('rw', db.messages, db.jobs, async () => {
    const waiting = await db.jobs.where('state').anyOf('queued', 'waiting').primaryKeys();
    let cancelled = 0;
    for (const id of waiting) if (await cancelQueued(db, id)) cancelled += 1;
    return cancelled;
  });
}

/**
 * Folds the later waiting messages of the job's conversation into its request (one user turn,
 * one answer), to save quota. Their answer placeholders are removed and the answer moves after
 * the last of them. Returns the ids folded in.
 */
export async function combineWaiting(db: PaceDB, job: Job): Promise<string[]> {
  return db.transaction('rw', db.messages, db.jobs, async () => {
    const later = readable<Job>('jobs', await db.jobs.where('state').anyOf('queued', 'waiting').toArray(), jobProblem)
      .rows.filter((j) => j.conversationId === job.conversationId && j.createdAt > job.createdAt)
      .sort((a, b) => a.createdAt - b.createdAt);
    if (later.length === 0) return [];
    const ids = later.map((j) => j.id);
    const messages = await conversationMessages(db, job.conversationId);
    const lastQuestion = messages.filter((m) => m.role === 'user' && m.createdAt < later.at(-1)!.createdAt).at(-1)!;
    for (const id of ids) {
      await db.jobs.update(id, { state: 'done', waitUntil: undefined, waitReason: undefined });
      await db.messages.delete(id);
    }
    await db.messages.update(job.id, { createdAt: lastQuestion.createdAt + 0.5 });
    await db.jobs.update(job.id, { combined: [...(job.combined ?? []), ...ids] });
    return ids;
  });
}

/**
 * After the background restarts: a job cut off while sending or streaming is sent again once
 * (its answer keeps the text received, marked resumed); a second cut-off fails it, text kept.
 * Either way the ledger row of the send that was cut off, still in flight, becomes 'interrupted'.
 */
export async function recoverAfterRestart(db: PaceDB): Promise<{ resumed: string[]; failed: string[] }> {
  return db.transaction('rw', [db.messages, db.jobs, db.usage, db.usageDays, db.usageMonths], async () => {
    const cut = readable<Job>('jobs', await db.jobs.where('state').anyOf('sending', 'streaming').toArray(), jobProblem).rows;
    const resumed: string[] = [];
    const failed: string[] = [];
    for (const job of cut) {
      if (job.usageId !== undefined) await settleUsage(db, job.usageId, { outcome: INTERRUPTED });
      if (!job.resumed) {
        await db.jobs.update(job.id, { state: 'queued', resumed: true });
        await db.messages.update(job.id, { status: 'pending', resumed: true });
        resumed.push(job.id);
      } else {
        await db.jobs.update(job.id, { state: 'failed' });
        await db.messages.update(job.id, {
          status: 'interrupted',
          error: {
            code: 'interrupted',
            message: 'Pace was stopped by the browser in the middle of this answer, twice. What arrived is kept; press Retry for a full answer.',
            action: 'retry',
          },
        });
        failed.push(job.id);
      }
    }
    return { resumed, failed };
  });
}

/**
 * The message list sent to the API for the answer `answerId`: every earlier exchange that got an
 * answer, then the question it answers. Consecutive questions (combined into one request, or
 * left unanswered) form one user turn; exchanges whose answer failed empty are left out, so roles
 * always alternate and start with the user.
 */
export function buildContext(messages: ChatMessage[], answerId: string): { role: 'user' | 'assistant'; content: string }[] {
  const ordered = [...messages].sort((a, b) => a.createdAt - b.createdAt);
  const at = ordered.findIndex((m) => m.id === answerId);
  if (at < 0 || ordered[at]!.role !== 'assistant') throw new Error('There is no such answer.');
  const turns: { role: 'user' | 'assistant'; content: string }[] = [];
  let asked: string[] = [];
  for (const m of ordered.slice(0, at)) {
    if (m.role === 'user') {
      asked.push(m.text);
    } else if (m.text.trim() !== '' && asked.length > 0) {
      turns.push({ role: 'user', content: asked.join('\n\n') }, { role: 'assistant', content: m.text.trimEnd() });
      asked = [];
    } else {
      // An answer that failed empty: its question is left out with it.
      asked = [];
    }
  }
  if (asked.length === 0) throw new Error('The answer has no question before it.');
  turns.push({ role: 'user', content: asked.join('\n\n') });
  return turns;
}
