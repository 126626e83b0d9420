import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addExchange,
  buildContext,
  cancelQueued,
  clearQueue,
  combineWaiting,
  conversationMessages,
  recentConversations,
  recoverAfterRestart,
  requeueForRetry,
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
    await expect(addExchange(db, { conversationId: 'nope', text: 'x', now: 1, newId, model: 'm' })).rejects.toThrow('does not exist');
    expect(await db.messages.count()).toBe(0);
  });

  it('queues a retry only for a finished answer, and only if its job is still the one the caller saw', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'q', now: 1, newId, model: 'm' });
    const id = a.assistantMessageId;
    expect(await requeueForRetry(db, id, 2)).toBeNull();
    await db.jobs.update(id, { state: 'failed', attempts: 1 });
    const seen = (await db.jobs.get(id))!;
    // Two retries that both saw the failed job: the first queues it, the second finds it changed.
    const [first, second] = await Promise.all([requeueForRetry(db, id, 3, seen), requeueForRetry(db, id, 4, seen)]);
    expect([first?.status, second]).toEqual(['pending', null]);
    expect(await db.jobs.get(id)).toMatchObject({ state: 'queued', createdAt: 3, attempts: 1 });
    // Still refused once that retry has finished: it was not the job the second caller saw.
    await db.jobs.update(id, { state: 'done', attempts: 2 });
    expect(await requeueForRetry(db, id, 5, seen)).toBeNull();
    expect(await requeueForRetry(db, id, 5, await db.jobs.get(id))).toMatchObject({ status: 'pending' });
  });

  it('lists conversations newest first', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'old', now: 1, newId, model: 'm' });
    await addExchange(db, { conversationId: null, text: 'new', now: 2, newId, model: 'm' });
    await addExchange(db, { conversationId: a.conversationId, text: 'old again', now: 3, newId, model: 'm' });
    expect((await recentConversations(db)).map((c) => c.title)).toEqual(['old', 'new']);
  });

  it('after a restart, sends a cut-off job again once, keeping its text, then fails it', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'q1', now: 1, newId, model: 'm' });
    const b = await addExchange(db, { conversationId: null, text: 'q2', now: 2, newId, model: 'm' });
    await db.jobs.update(a.assistantMessageId, { state: 'streaming', attempts: 1 });
    await db.messages.update(a.assistantMessageId, { status: 'streaming', text: 'half an ans' });
    expect(await recoverAfterRestart(db)).toEqual({ resumed: [a.assistantMessageId], failed: [] });
    expect(await db.jobs.get(a.assistantMessageId)).toMatchObject({ state: 'queued', resumed: true });
    expect(await db.messages.get(a.assistantMessageId)).toMatchObject({ status: 'pending', text: 'half an ans', resumed: true });
    // The job that never started is left to the queue as it was.
    expect((await db.jobs.get(b.assistantMessageId))?.state).toBe('queued');

    await db.jobs.update(a.assistantMessageId, { state: 'sending', attempts: 2 });
    expect(await recoverAfterRestart(db)).toEqual({ resumed: [], failed: [a.assistantMessageId] });
    expect(await db.messages.get(a.assistantMessageId)).toMatchObject({
      status: 'interrupted',
      text: 'half an ans',
      error: { code: 'interrupted', action: 'retry' },
    });
  });

  it('cancels a queued job without counting it, but not one already sent', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'q1', now: 1, newId, model: 'm' });
    expect(await cancelQueued(db, a.assistantMessageId)).toBe(true);
    expect(await db.jobs.get(a.assistantMessageId)).toMatchObject({ state: 'cancelled' });
    expect(await db.messages.get(a.assistantMessageId)).toMatchObject({ status: 'stopped', error: { code: 'cancelled' } });
    const b = await addExchange(db, { conversationId: null, text: 'q2', now: 2, newId, model: 'm' });
    await db.jobs.update(b.assistantMessageId, { state: 'streaming' });
    expect(await cancelQueued(db, b.assistantMessageId)).toBe(false);
  });

  it('clears the queue: every job not yet sent is cancelled', async () => {
    for (let i = 0; i < 3; i++) await addExchange(db, { conversationId: null, text: `q${i}`, now: i, newId, model: 'm' });
    const first = (await db.jobs.orderBy('createdAt').first())!;
    await db.jobs.update(first.id, { state: 'sending' });
    expect(await clearQueue(db)).toBe(2);
    expect((await db.jobs.toArray()).map((j) => j.state).sort()).toEqual(['cancelled', 'cancelled', 'sending']);
  });

  it('combines the waiting messages of a conversation into one request and one answer', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'first', now: 10, newId, model: 'm' });
    const b = await addExchange(db, { conversationId: a.conversationId, text: 'second', now: 11, newId, model: 'm' });
    const c = await addExchange(db, { conversationId: a.conversationId, text: 'third', now: 12, newId, model: 'm' });
    const other = await addExchange(db, { conversationId: null, text: 'elsewhere', now: 13, newId, model: 'm' });
    const job = (await db.jobs.get(a.assistantMessageId))!;
    expect(await combineWaiting(db, job)).toEqual([b.assistantMessageId, c.assistantMessageId]);
    const msgs = await conversationMessages(db, a.conversationId);
    expect(msgs.map((m) => `${m.role}:${m.text}`)).toEqual(['user:first', 'user:second', 'user:third', 'assistant:']);
    expect(buildContext(msgs, a.assistantMessageId)).toEqual([{ role: 'user', content: 'first\n\nsecond\n\nthird' }]);
    expect((await db.jobs.get(other.assistantMessageId))?.state).toBe('queued');
    expect((await db.jobs.get(b.assistantMessageId))?.state).toBe('done');
  });

  it('titles from the first line, shortened', () => {
    expect(titleFrom('  hello\nworld')).toBe('hello');
    expect(titleFrom('x'.repeat(100))).toHaveLength(60);
    expect(titleFrom('   ')).toBe('New chat');
  });
});

describe('buildContext', () => {
  const msg = (id: string, role: 'user' | 'assistant', text: string, createdAt: number, status: ChatMessage['status'] = 'done'): ChatMessage => ({
    id,
    conversationId: 'c',
    role,
    text,
    createdAt,
    status,
  });

  it('sends earlier answered exchanges, then the question', () => {
    const messages = [msg('u1', 'user', 'Hi', 1), msg('a1', 'assistant', 'Hello! ', 2), msg('u2', 'user', 'More?', 3), msg('a2', 'assistant', '', 4, 'pending')];
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
    const messages = [msg('u1', 'user', 'A', 1), msg('a1', 'assistant', '', 2, 'pending'), msg('u2', 'user', 'B', 3), msg('a2', 'assistant', 'b', 4)];
    expect(buildContext(messages, 'a1')).toEqual([{ role: 'user', content: 'A' }]);
  });
});
