/**
 * Reads and writes conversations and messages; their jobs are written by lib/queue/job-store.ts
 * only. Every function takes the database, so tests pass a fresh one (fake-indexeddb) and the
 * background passes its own.
 */
import type { ChatMessage, Conversation, PaceDB } from '../storage/db';
import { enqueueInTx } from '../queue/job-store';
import { conversationProblem, messageProblem, readable, type SkippedRow } from '../storage/row-guards';

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
  input: { conversationId: string | null; text: string; now: number; newId: () => string; model: string; later?: boolean },
): Promise<NewExchange> {
  // The reads go out together and so do the writes: each await is a round trip, and the user waits for the first word.
  return db.transaction('rw', [db.conversations, db.messages, db.jobs], async () => {
    let conversationId = input.conversationId;
    let last = 0;
    let written: Promise<unknown>;
    if (conversationId !== null) {
      const [existing, newest] = await Promise.all([
        db.conversations.get(conversationId),
        db.messages
          .where('[conversationId+createdAt]')
          .between([conversationId, -Infinity], [conversationId, Infinity])
          .last(),
      ]);
      if (!existing) throw new Error(`Conversation ${conversationId} does not exist.`);
      last = newest?.createdAt ?? 0;
      written = db.conversations.update(conversationId, { updatedAt: input.now });
    } else {
      conversationId = input.newId();
      written = db.conversations.add({ id: conversationId, title: titleFrom(input.text), createdAt: input.now, updatedAt: input.now });
    }
    // Strictly increasing times keep the order of messages even within one millisecond.
    const userAt = Math.max(input.now, last + 1);
    const userMessageId = input.newId();
    const assistantMessageId = input.newId();
    const added = db.messages.bulkAdd([
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
    await Promise.all([written, added, enqueueInTx(db, { id: assistantMessageId, conversationId, createdAt: userAt + 1 }, input.later)]);
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
