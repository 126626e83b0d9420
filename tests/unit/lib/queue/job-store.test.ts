import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addExchange, buildContext, conversationMessages } from '@/lib/chat/conversation-store';
import * as jobStore from '@/lib/queue/job-store';
import { PaceDB } from '@/lib/storage/db';

let db: PaceDB;
let n = 0;
const newId = () => `id-${++n}`;

beforeEach(() => {
  db = new PaceDB(`jobs-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

describe('job store', () => {
  it('queues a retry only for a finished answer, and only if its job is still the one the caller saw', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'q', now: 1, newId, model: 'm' });
    const id = a.assistantMessageId;
    expect(await jobStore.retry(db, id, 2)).toBeNull();
    await db.jobs.update(id, { state: 'failed', attempts: 1 });
    const seen = (await db.jobs.get(id))!;
    // Two retries that both saw the failed job: the first queues it, the second finds it changed.
    const [first, second] = await Promise.all([jobStore.retry(db, id, 3, seen), jobStore.retry(db, id, 4, seen)]);
    expect([first?.status, second]).toEqual(['pending', null]);
    expect(await db.jobs.get(id)).toMatchObject({ state: 'queued', createdAt: 3, attempts: 1 });
    // Still refused once that retry has finished: it was not the job the second caller saw.
    await db.jobs.update(id, { state: 'done', attempts: 2 });
    expect(await jobStore.retry(db, id, 5, seen)).toBeNull();
    expect(await jobStore.retry(db, id, 5, await db.jobs.get(id))).toMatchObject({ status: 'pending' });
  });

  it('after a restart, sends a cut-off job again once, keeping its text, then fails it', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'q1', now: 1, newId, model: 'm' });
    const b = await addExchange(db, { conversationId: null, text: 'q2', now: 2, newId, model: 'm' });
    await db.jobs.update(a.assistantMessageId, { state: 'streaming', attempts: 1 });
    await db.messages.update(a.assistantMessageId, { status: 'streaming', text: 'half an ans' });
    expect(await jobStore.recover(db)).toEqual({ resumed: [a.assistantMessageId], failed: [] });
    expect(await db.jobs.get(a.assistantMessageId)).toMatchObject({ state: 'queued', resumed: true });
    expect(await db.messages.get(a.assistantMessageId)).toMatchObject({
      status: 'pending',
      text: 'half an ans',
      resumed: true,
    });
    // The job that never started is left to the queue as it was.
    expect((await db.jobs.get(b.assistantMessageId))?.state).toBe('queued');

    await db.jobs.update(a.assistantMessageId, { state: 'sending', attempts: 2 });
    expect(await jobStore.recover(db)).toEqual({ resumed: [], failed: [a.assistantMessageId] });
    expect(await db.messages.get(a.assistantMessageId)).toMatchObject({
      status: 'interrupted',
      text: 'half an ans',
      error: { code: 'interrupted', action: 'retry' },
    });
  });

  it('cancels a queued job without counting it, but not one already sent', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'q1', now: 1, newId, model: 'm' });
    expect(await jobStore.cancel(db, a.assistantMessageId)).toBe(true);
    expect(await db.jobs.get(a.assistantMessageId)).toMatchObject({ state: 'cancelled' });
    expect(await db.messages.get(a.assistantMessageId)).toMatchObject({
      status: 'stopped',
      error: { code: 'cancelled' },
    });
    const b = await addExchange(db, { conversationId: null, text: 'q2', now: 2, newId, model: 'm' });
    await db.jobs.update(b.assistantMessageId, { state: 'streaming' });
    expect(await jobStore.cancel(db, b.assistantMessageId)).toBe(false);
  });

  it('clears the queue: every job not yet sent is cancelled', async () => {
    for (let i = 0; i < 3; i++)
      await addExchange(db, { conversationId: null, text: `q${i}`, now: i, newId, model: 'm' });
    const first = (await db.jobs.orderBy('createdAt').first())!;
    await db.jobs.update(first.id, { state: 'sending' });
    expect(await jobStore.clear(db)).toBe(2);
    expect((await db.jobs.toArray()).map((j) => j.state).sort()).toEqual(['cancelled', 'cancelled', 'sending']);
  });

  it('combines the waiting messages of a conversation into one request and one answer', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'first', now: 10, newId, model: 'm' });
    const b = await addExchange(db, { conversationId: a.conversationId, text: 'second', now: 11, newId, model: 'm' });
    const c = await addExchange(db, { conversationId: a.conversationId, text: 'third', now: 12, newId, model: 'm' });
    const other = await addExchange(db, { conversationId: null, text: 'elsewhere', now: 13, newId, model: 'm' });
    const job = (await db.jobs.get(a.assistantMessageId))!;
    expect(await jobStore.combine(db, job)).toEqual([b.assistantMessageId, c.assistantMessageId]);
    const msgs = await conversationMessages(db, a.conversationId);
    expect(msgs.map((m) => `${m.role}:${m.text}`)).toEqual(['user:first', 'user:second', 'user:third', 'assistant:']);
    expect(buildContext(msgs, a.assistantMessageId)).toEqual([{ role: 'user', content: 'first\n\nsecond\n\nthird' }]);
    expect((await db.jobs.get(other.assistantMessageId))?.state).toBe('queued');
    expect((await db.jobs.get(b.assistantMessageId))?.state).toBe('done');
  });

  it('moves a job only as the table allows: a late end leaves an ended answer as it is', async () => {
    const a = await addExchange(db, { conversationId: null, text: 'q', now: 1, newId, model: 'm' });
    const id = a.assistantMessageId;
    // Not sent yet: it cannot start streaming.
    await jobStore.start(db, id);
    expect((await db.jobs.get(id))?.state).toBe('queued');
    await jobStore.admitInTx(db, (await db.jobs.get(id))!, undefined);
    await jobStore.start(db, id);
    expect(await db.jobs.get(id)).toMatchObject({ state: 'streaming', attempts: 1 });
    await jobStore.finish(db, id, { status: 'done', text: 'answer', error: undefined }, { at: 2, outcome: 'ok' });
    await jobStore.fail(
      db,
      id,
      { status: 'error', error: { code: 'internal', message: 'late' } },
      { at: 3, outcome: 'internal' },
    );
    expect(await db.jobs.get(id)).toMatchObject({ state: 'done', log: [{ outcome: 'ok' }] });
    expect(await db.messages.get(id)).toMatchObject({ status: 'done', text: 'answer' });
    expect(await db.messages.get(id)).not.toHaveProperty('error');
    await expect(jobStore.admitInTx(db, (await db.jobs.get(id))!, undefined)).rejects.toThrow(
      'A done job cannot be sent.',
    );
  });
});
