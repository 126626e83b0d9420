import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import {
  addExchange,
  buildContext,
  conversationMessages,
  loadConversations,
  loadMessages,
} from '@/lib/chat/conversation-store';
import * as jobStore from '@/lib/queue/job-store';
import { createScheduler } from '@/lib/queue/scheduler';
import { PaceDB, type Job } from '@/lib/storage/db';
import { conversationProblem, jobProblem, messageProblem, readable, skippedNotice } from '@/lib/storage/row-guards';

const SECRET = 'private words the user typed';

describe('row checks', () => {
  it('name what is wrong with a row, or return null for a good one', () => {
    expect(conversationProblem({ id: 'c', title: 't', createdAt: 1, updatedAt: 2 })).toBeNull();
    expect(conversationProblem({ id: 'c', createdAt: 1, updatedAt: 2 })).toBe('title is missing');
    expect(conversationProblem('c')).toBe('not an object');
    const message = { id: 'm', conversationId: 'c', role: 'user', text: 'hi', createdAt: 1, status: 'done' };
    expect(messageProblem(message)).toBeNull();
    expect(messageProblem({ ...message, text: { html: SECRET } })).toBe('text is not text');
    expect(messageProblem({ ...message, status: 'exploded' })).toBe('status is not a known status');
    expect(messageProblem({ ...message, createdAt: NaN })).toBe('createdAt is not a time');
    expect(messageProblem({ ...message, role: 'system' })).toBe('role is not user or assistant');
    const job = { id: 'j', conversationId: 'c', state: 'queued', createdAt: 1, attempts: 0 };
    expect(jobProblem(job)).toBeNull();
    expect(jobProblem({ ...job, state: 'bogus' })).toBe('state is not a known state');
    expect(jobProblem({ ...job, attempts: '1' })).toBe('attempts is not a count');
    expect(jobProblem(null)).toBe('not an object');
  });

  it('keep the good rows and report each bad one by table and id, never by its text', () => {
    const report = vi.fn();
    const rows = [
      { id: 'good', conversationId: 'c', role: 'user', text: 'ok', createdAt: 1, status: 'done' },
      { id: 'bad', conversationId: 'c', role: 'user', text: { secret: SECRET }, createdAt: 2, status: 'done' },
      [SECRET],
    ];
    const r = readable('messages', rows, messageProblem, report);
    expect(r.rows.map((m) => (m as { id: string }).id)).toEqual(['good']);
    expect(r.skipped).toEqual([
      { table: 'messages', id: '"bad"', reason: 'text is not text' },
      { table: 'messages', id: '?', reason: 'not an object' },
    ]);
    expect(report).toHaveBeenCalledTimes(2);
    expect(JSON.stringify(report.mock.calls)).not.toContain(SECRET);
  });

  it('say how many rows the popup left out', () => {
    expect(skippedNotice(0, 'message')).toBeNull();
    expect(skippedNotice(1, 'message')).toBe('1 saved message could not be read and was skipped.');
    expect(skippedNotice(3, 'conversation')).toBe('3 saved conversations could not be read and were skipped.');
  });
});

describe('stored rows that are corrupted', () => {
  let db: PaceDB;
  let n = 0;
  const newId = () => `id${++n}`;
  let warn: MockInstance<typeof console.warn>;
  beforeEach(() => {
    db = new PaceDB(`row-guards-${Math.random()}`);
    warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await db.delete();
  });

  /** Two conversations, each a question and a queued answer; then damaged rows written straight into the tables. */
  async function damaged() {
    const a = await addExchange(db, { conversationId: null, text: 'question A', now: 1000, newId, model: 'm' });
    const b = await addExchange(db, { conversationId: null, text: 'question B', now: 2000, newId, model: 'm' });
    const c = a.conversationId;
    await db.messages.bulkPut([
      { id: 'bad-text', conversationId: c, role: 'user', text: { body: SECRET }, createdAt: 500, status: 'done' },
      { id: 'bad-status', conversationId: c, role: 'assistant', text: SECRET, createdAt: 600, status: 'exploded' },
      { id: 'bad-role', conversationId: c, text: SECRET, createdAt: 700, status: 'done' },
    ] as never);
    await db.conversations.bulkPut([
      { id: 'bad-conversation', createdAt: 1, updatedAt: 3000 },
      { id: 'bad-times', title: SECRET, createdAt: 'yesterday', updatedAt: 2500 },
    ] as never);
    await db.jobs.bulkPut([
      { id: 'bogus-job', conversationId: c, state: 'bogus', createdAt: 1, attempts: 0 },
      { id: 'queued-no-attempts', conversationId: 'elsewhere', state: 'queued', createdAt: 1 },
      { id: 'sending-no-conversation', state: 'sending', createdAt: 1, attempts: 1 },
    ] as never);
    return { a, b };
  }

  const warned = (): string[] => warn.mock.calls.map((args) => args.join(' '));

  it('the message and history readers skip them and report each by table and id', async () => {
    const { a, b } = await damaged();
    const loaded = await loadMessages(db, a.conversationId);
    expect(loaded.messages.map((m) => m.id)).toEqual([a.userMessageId, a.assistantMessageId]);
    expect(loaded.skipped.map((s) => s.id).sort()).toEqual(['"bad-role"', '"bad-status"', '"bad-text"']);
    expect(skippedNotice(loaded.skipped.length, 'message')).toBe(
      '3 saved messages could not be read and were skipped.',
    );
    const history = await loadConversations(db);
    expect(history.conversations.map((c) => c.id)).toEqual([b.conversationId, a.conversationId]);
    expect(history.skipped.map((s) => s.id).sort()).toEqual(['"bad-conversation"', '"bad-times"']);
    expect(warned().some((w) => w.includes('in messages') && w.includes('"bad-text"'))).toBe(true);
    expect(warned().some((w) => w.includes('in conversations') && w.includes('"bad-conversation"'))).toBe(true);
    expect(warned().join('\n')).not.toContain(SECRET);
    // The context for the damaged conversation's answer is built from its readable messages.
    expect(buildContext(await conversationMessages(db, a.conversationId), a.assistantMessageId)).toEqual([
      { role: 'user', content: 'question A' },
    ]);
  });

  it('recovery after a restart goes on past a damaged job', async () => {
    const { b } = await damaged();
    await db.jobs.update(b.assistantMessageId, { state: 'streaming' });
    expect(await jobStore.recover(db)).toEqual({ resumed: [b.assistantMessageId], failed: [] });
    expect(warned().some((w) => w.includes('in jobs') && w.includes('"sending-no-conversation"'))).toBe(true);
  });

  it('the queue skips a damaged job, reports it, and sends the others', async () => {
    const { a, b } = await damaged();
    const started: Job[] = [];
    const log = vi.fn();
    const scheduler = createScheduler({
      db,
      now: () => 10_000,
      blocker: async () => null,
      startJob: async (job) => {
        started.push(job);
      },
      failJob: async () => undefined,
      wakeAt: () => undefined,
      changed: () => undefined,
      log,
    });
    await scheduler.pump();
    expect(started.map((j) => j.id).sort()).toEqual([a.assistantMessageId, b.assistantMessageId].sort());
    expect(
      log.mock.calls.map((c) => String(c[0])).some((m) => m.includes('in jobs') && m.includes('"queued-no-attempts"')),
    ).toBe(true);
    expect(log.mock.calls.map((c) => String(c[0])).some((m) => m.includes('"sending-no-conversation"'))).toBe(true);
  });
});
