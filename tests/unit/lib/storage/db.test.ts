import Dexie from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { conversationMessages } from '@/lib/chat/conversation-store';
import { readWindowState } from '@/lib/limits/limiter-store';
import { admit } from '@/lib/limits/admit';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { PaceDB } from '@/lib/storage/db';
import { IN_FLIGHT } from '@/lib/usage/totals';

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

  it('upgrades a database written by version 2 and keeps every conversation, job, counter and limit', async () => {
    const name = `upgrade2-${Math.random()}`;
    names.push(name);
    const t = Date.UTC(2026, 10, 27, 12);
    // Exactly the second schema, as the previous Pace wrote it, with a queue in flight.
    const old = new Dexie(name);
    old.version(1).stores({ conversations: 'id, updatedAt', messages: 'id, [conversationId+createdAt], status' });
    old.version(2).stores({ jobs: 'id, state, createdAt', counters: 'key', meta: 'key' });
    await old.table('conversations').add({ id: 'c1', title: 'Queued chat', createdAt: 1, updatedAt: 2 });
    await old.table('messages').bulkAdd([
      { id: 'u1', conversationId: 'c1', role: 'user', text: 'Waiting question', createdAt: 1, status: 'done' },
      { id: 'a1', conversationId: 'c1', role: 'assistant', text: '', createdAt: 2, status: 'pending' },
    ]);
    await old.table('jobs').add({
      id: 'a1',
      conversationId: 'c1',
      state: 'waiting',
      createdAt: 2,
      attempts: 0,
      waitUntil: t + 5000,
      waitReason: 'minute',
    });
    await old.table('counters').bulkAdd([
      { key: 'utc:2026-11', count: 4321 },
      { key: 'local:2026-11', count: 4321 },
      { key: 'recent', count: 2, times: [t - 1000, t - 500] },
    ]);
    await old.table('meta').add({ key: 'limits', value: { ...DEFAULT_LIMITS, perMonth: 9000, plan: 'custom' } });
    old.close();

    const db = new PaceDB(name);
    expect(db.verno).toBe(6);
    expect((await conversationMessages(db, 'c1')).map((m) => m.text)).toEqual(['Waiting question', '']);
    expect(await db.jobs.get('a1')).toMatchObject({ state: 'waiting', waitReason: 'minute', waitUntil: t + 5000 });
    const limits = { ...DEFAULT_LIMITS, perMonth: 9000, plan: 'custom' as const };
    expect((await db.meta.get('limits'))?.value).toEqual(limits);
    const state = await readWindowState(db, t, limits);
    expect(state.monthCount).toBe(4321);
    expect(state.recentSends).toEqual([t - 1000, t - 500]);
    // The tables version 3 adds are there and empty.
    expect([
      await db.cache.count(),
      await db.usage.count(),
      await db.usageDays.count(),
      await db.usageMonths.count(),
    ]).toEqual([0, 0, 0, 0]);
    db.close();
  });

  it('upgrades a version 3 ledger and indexes its outcomes: the rows in flight are found by the index', async () => {
    const name = `upgrade3-${Math.random()}`;
    names.push(name);
    const old = new Dexie(name);
    old.version(1).stores({ conversations: 'id, updatedAt', messages: 'id, [conversationId+createdAt], status' });
    old.version(2).stores({ jobs: 'id, state, createdAt', counters: 'key', meta: 'key' });
    old.version(3).stores({ cache: 'key, lastUsedAt', usage: '++id, at', usageDays: 'day', usageMonths: 'month' });
    const row = (at: number, outcome: string) => ({
      at,
      model: 'm',
      conversationId: 'c',
      messageId: `m${at}`,
      outcome,
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
      ttftMs: null,
      totalMs: 0,
      attempt: 1,
      fromCache: false,
      costUsd: 0,
    });
    await old.table('usage').bulkAdd([row(1, 'ok'), row(2, IN_FLIGHT), row(3, 'ok')]);
    old.close();

    const db = new PaceDB(name);
    expect(db.verno).toBe(6);
    expect(await db.usage.count()).toBe(3);
    expect((await db.usage.where('outcome').equals(IN_FLIGHT).toArray()).map((r) => r.at)).toEqual([2]);
    db.close();
  });

  it('upgrades a version 4 database with a job waiting and a ledger row in flight: both kept, and the batches table is new and empty', async () => {
    const name = `upgrade4-${Math.random()}`;
    names.push(name);
    const old = new Dexie(name);
    old.version(1).stores({ conversations: 'id, updatedAt', messages: 'id, [conversationId+createdAt], status' });
    old.version(2).stores({ jobs: 'id, state, createdAt', counters: 'key', meta: 'key' });
    old.version(3).stores({ cache: 'key, lastUsedAt', usage: '++id, at', usageDays: 'day', usageMonths: 'month' });
    old.version(4).stores({ usage: '++id, at, outcome' });
    await old.table('jobs').add({ id: 'a1', conversationId: 'c1', state: 'waiting', createdAt: 5, attempts: 0 });
    await old.table('usage').add({
      at: 1,
      model: 'm',
      conversationId: 'c1',
      messageId: 'a0',
      outcome: IN_FLIGHT,
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
      ttftMs: null,
      totalMs: 0,
      attempt: 1,
      fromCache: false,
      costUsd: 0,
    });
    old.close();

    const db = new PaceDB(name);
    expect(db.verno).toBe(6);
    expect(await db.jobs.get('a1')).toMatchObject({ state: 'waiting' });
    expect(await db.usage.where('outcome').equals(IN_FLIGHT).count()).toBe(1);
    expect(await db.batches.count()).toBe(0);
    await db.batches.add({ id: 'b1', state: 'running', createdAt: 9, requests: [], polls: 0, nextPollAt: 10 });
    expect((await db.batches.where('state').equals('running').toArray()).map((b) => b.id)).toEqual(['b1']);
    db.close();
  });
});
