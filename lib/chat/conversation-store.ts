/**
 * Reads and writes conversations and messages. Every function takes the database, so tests pass a
 * fresh one (fake-indexeddb) and the background passes its own.
 */
import type { PaceError } from '../protocol';
import type { ChatMessage, Conversation, PaceDB } from '../storage/db';

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
 * Stores the user's message and an empty pending answer in one transaction, creating the
 * conversation when `conversationId` is null. The message is safe on disk before anything is sent.
 */
export async function addExchange(
  db: PaceDB,
  input: { conversationId: string | null; text: string; now: number; newId: () => string; model: string },
): Promise<NewExchange> {
  return db.transaction('rw', db.conversations, db.messages, async () => {
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
    return { conversationId, userMessageId, assistantMessageId };
  });
}

export function conversationMessages(db: PaceDB, conversationId: string): Promise<ChatMessage[]> {
  return db.messages
    .where('[conversationId+createdAt]')
    .between([conversationId, -Infinity], [conversationId, Infinity])
    .toArray();
}

export function recentConversations(db: PaceDB, limit = 50): Promise<Conversation[]> {
  return db.conversations.orderBy('updatedAt').reverse().limit(limit).toArray();
}

export async function markStreaming(db: PaceDB, id: string, model: string, demo: boolean): Promise<void> {
  await db.messages.update(id, { status: 'streaming', text: '', error: undefined, stopReason: null, model, demo });
}

export async function checkpoint(db: PaceDB, id: string, text: string): Promise<void> {
  await db.messages.update(id, { text });
}

export async function finishAnswer(
  db: PaceDB,
  id: string,
  result: { text: string; stopReason: string | null; usage: { inputTokens: number; outputTokens: number } },
): Promise<void> {
  await db.messages.update(id, { status: 'done', text: result.text, stopReason: result.stopReason, usage: result.usage });
}

export async function endAnswer(
  db: PaceDB,
  id: string,
  status: 'error' | 'stopped' | 'interrupted',
  text: string,
  error?: PaceError,
): Promise<void> {
  await db.messages.update(id, { status, text, error });
}

export async function resetForRetry(db: PaceDB, id: string): Promise<ChatMessage> {
  return db.transaction('rw', db.messages, async () => {
    const message = await db.messages.get(id);
    if (!message || message.role !== 'assistant') throw new Error('Only an answer can be retried.');
    await db.messages.update(id, { status: 'pending', text: '', error: undefined, stopReason: null });
    return { ...message, status: 'pending', text: '' };
  });
}

/**
 * After the background restarts: an answer that was streaming is marked interrupted (its text
 * kept); answers still pending are returned so the caller sends them.
 */
export async function recoverAfterRestart(db: PaceDB): Promise<ChatMessage[]> {
  return db.transaction('rw', db.messages, async () => {
    const streaming = await db.messages.where('status').equals('streaming').toArray();
    for (const m of streaming) {
      await db.messages.update(m.id, {
        status: 'interrupted',
        error: {
          code: 'interrupted',
          message: 'Pace was stopped by the browser in the middle of this answer. What arrived is kept; press Retry for a full answer.',
          action: 'retry',
        },
      });
    }
    return db.messages.where('status').equals('pending').sortBy('createdAt');
  });
}

/**
 * The message list sent to the API for the answer `answerId`: every earlier exchange that got an
 * answer, then the user message it answers. Exchanges whose answer failed empty are left out, so
 * roles always alternate and start with the user.
 */
export function buildContext(messages: ChatMessage[], answerId: string): { role: 'user' | 'assistant'; content: string }[] {
  const ordered = [...messages].sort((a, b) => a.createdAt - b.createdAt);
  const at = ordered.findIndex((m) => m.id === answerId);
  if (at < 1) throw new Error('The answer has no question before it.');
  const question = ordered[at - 1];
  if (!question || question.role !== 'user') throw new Error('The answer has no question before it.');
  const turns: { role: 'user' | 'assistant'; content: string }[] = [];
  for (let i = 0; i < at - 1; i++) {
    const m = ordered[i];
    const next = ordered[i + 1];
    if (m?.role === 'user' && next?.role === 'assistant' && next.text.trim() !== '') {
      turns.push({ role: 'user', content: m.text }, { role: 'assistant', content: next.text.trimEnd() });
      i++;
    }
  }
  turns.push({ role: 'user', content: question.text });
  return turns;
}
