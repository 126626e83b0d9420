import Dexie from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { conversationMessages } from '@/lib/chat/conversation-store';
import { admit, readWindowState } from '@/lib/limits/limiter-store';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { PaceDB } from '@/lib/storage/db';

const names: string[] = [];
afterEach(async () => {
  for (const name of names.splice(0)) await Dexie.delete(name);
});

describe('the database schema', () => {
  it('upgrades a database written by version 1 and keeps every conversation and message', async () => {
    const name = `upgrade-${Math.random()}`;
    names.push(name);
    // Exactly the first schema, as an earlier Pace wrote it.
    const old = new Dexie(name);
    old.version(1).stores({ conversations: 'id, updatedAt', messages: 'id, [conversationId+createdAt], status' });
    await old.table('conversations').add({ id: 'c1', title: 'Old chat', createdAt: 1, updatedAt: 2 });
    await old.table('messages').bulkAdd([
      { id: 'u1', conversationId: 'c1', role: 'user', text: 'Hello', createdAt: 1, status: 'done' },
      { id: 'a1', conversationId: 'c1', role: 'assistant', text: 'Hi there.', createdAt: 2, status: 'done' },
    ]);
    old.close();

    const db = new PaceDB(name);
    expect((await db.conversations.get('c1'))?.title).toBe('Old chat');
    expect((await conversationMessages(db, 'c1')).map((m) => m.text)).toEqual(['Hello', 'Hi there.']);
    // The tables version 2 adds work at once.
    expect(await db.jobs.count()).toBe(0);
    expect(await admit(db, Date.UTC(2026, 10, 27), null)).toEqual({ ok: true });
    expect((await readWindowState(db, Date.UTC(2026, 10, 27), DEFAULT_LIMITS)).monthCount).toBe(1);
    db.close();
  });
});
