import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addExchange,
  buildContext,
  conversationMessages,
  recentConversations,
  titleFrom,
} from '@/lib/chat/conversation-store';
import { PaceDB, type ChatMessage } from '@/lib/storage/db';

let db: PaceDB;
let n = 0;
const newId = () => `id-${++n}`;

beforeEach(() => {
  db = new PaceDB(`test-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

describe('conversation store', () => {
  it('stores the question and a pending answer, creating the conversation', async () => {
    const ex = await addExchange(db, { conversationId: null, text: 'What is Pace?', now: 1000, newId, model: 'm' });
    const conv = await db.conversations.get(ex.conversationId);
    expect(conv).toMatchObject({ title: 'What is Pace?', createdAt: 1000, updatedAt: 1000 });
    const msgs = await conversationMessages(db, ex.conversationId);
    expect(msgs.map((m) => [m.role, m.status, m.text])).toEqual([
      ['user', 'done', 'What is Pace?'],
      ['assistant', 'pending', ''],
    ]);
  });

  it('keeps the order of exchanges added within the same millisecond', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'one', now: 5, newId, model: 'm' });
    await addExchange(db, { conversationId: a.conversationId, text: 'two', now: 5, newId, model: 'm' });
    await addExchange(db, { conversationId: a.conversationId, text: 'three', now: 5, newId, model: 'm' });
    const msgs = await conversationMessages(db, a.conversationId);
    expect(msgs.filter((m) => m.role === 'user').map((m) => m.text)).toEqual(['one', 'two', 'three']);
  });

  it('refuses an unknown conversation and writes nothing', async () => {
    await expect(addExchange(db, { conversationId: 'nope', text: 'x', now: 1, newId, model: 'm' })).rejects.toThrow(
      'does not exist',
    );
    expect(await db.messages.count()).toBe(0);
  });

  it('lists conversations newest first', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'old', now: 1, newId, model: 'm' });
    await addExchange(db, { conversationId: null, text: 'new', now: 2, newId, model: 'm' });
    await addExchange(db, { conversationId: a.conversationId, text: 'old again', now: 3, newId, model: 'm' });
    expect((await recentConversations(db)).map((c) => c.title)).toEqual(['old', 'new']);
  });

  it('titles from the first line, shortened', () => {
    expect(titleFrom('  hello\nworld')).toBe('hello');
    expect(titleFrom('x'.repeat(100))).toHaveLength(60);
    expect(titleFrom('   ')).toBe('New chat');
  });
});

describe('buildContext', () => {
  const msg = (
    id: string,
    role: 'user' | 'assistant',
    text: string,
    createdAt: number,
    status: ChatMessage['status'] = 'done',
  ): ChatMessage => ({
    id,
    conversationId: 'c',
    role,
    text,
    createdAt,
    status,
  });

  it('sends earlier answered exchanges, then the question', () => {
    const messages = [
      msg('u1', 'user', 'Hi', 1),
      msg('a1', 'assistant', 'Hello! ', 2),
      msg('u2', 'user', 'More?', 3),
      msg('a2', 'assistant', '', 4, 'pending'),
    ];
    expect(buildContext(messages, 'a2')).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'More?' },
    ]);
  });

  it('leaves out exchanges whose answer failed empty, so roles alternate', () => {
    const messages = [
      msg('u1', 'user', 'first', 1),
      msg('a1', 'assistant', '', 2, 'error'),
      msg('u2', 'user', 'second', 3),
      msg('a2', 'assistant', '', 4, 'pending'),
    ];
    expect(buildContext(messages, 'a2')).toEqual([{ role: 'user', content: 'second' }]);
  });

  it('ignores everything after the answer being built (a retry of an earlier answer)', () => {
    const messages = [
      msg('u1', 'user', 'A', 1),
      msg('a1', 'assistant', '', 2, 'pending'),
      msg('u2', 'user', 'B', 3),
      msg('a2', 'assistant', 'b', 4),
    ];
    expect(buildContext(messages, 'a1')).toEqual([{ role: 'user', content: 'A' }]);
  });
});
