import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WINDOW_MS } from '@/lib/limits/admission';
import { allowProbe, pauseAll, readLimits, readWindowState, saveLimits } from '@/lib/limits/limiter-store';
import { admit, admitBatchCall } from '@/lib/limits/admit';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import type { Limits } from '@/lib/storage/rows';
import { PaceDB } from '@/lib/storage/db';
import { emptyTotals } from '@/lib/usage/totals';

let name: string;
let db: PaceDB;
beforeEach(() => {
  name = `limiter-${Math.random()}`;
  db = new PaceDB(name);
});
afterEach(async () => {
  await db.delete();
});

const custom = (perMinute: number, perMonth: number): Limits => ({
  ...DEFAULT_LIMITS,
  plan: 'custom',
  perMinute,
  perMonth,
});
const NOW = Date.UTC(2026, 10, 27, 12);

describe('admit', () => {
  it('uses the Free plan until limits are saved, then the saved ones', async () => {
    expect(await readLimits(db)).toEqual(DEFAULT_LIMITS);
    await saveLimits(db, custom(3, 100));
    expect((await readLimits(db)).perMinute).toBe(3);
  });

  it('records a send and counts it for the minute and the month', async () => {
    await saveLimits(db, custom(2, 100));
    expect(await admit(db, NOW, null)).toEqual({ ok: true });
    expect(await admit(db, NOW + 1, null)).toEqual({ ok: true });
    expect(await admit(db, NOW + 2, null)).toEqual({ ok: false, reason: 'minute', retryAt: NOW + WINDOW_MS });
    expect(await readWindowState(db, NOW + 2, custom(2, 100))).toEqual({ recentSends: [NOW, NOW + 1], monthCount: 2 });
    expect(await admit(db, NOW + WINDOW_MS, null)).toEqual({ ok: true });
  });

  it('claims a queued job in the same transaction, and only once', async () => {
    await db.jobs.add({ id: 'j1', conversationId: 'c', state: 'queued', createdAt: 1, attempts: 0 });
    const admitted = await admit(db, NOW, 'j1');
    expect(admitted).toEqual({ ok: true, usageId: expect.any(Number) as number });
    expect(await db.jobs.get('j1')).toMatchObject({
      state: 'sending',
      attempts: 1,
      usageId: admitted.ok ? admitted.usageId : -1,
    });
    expect(await admit(db, NOW, 'j1')).toEqual({ ok: false, reason: 'gone' });
    await db.jobs.add({ id: 'j2', conversationId: 'c', state: 'cancelled', createdAt: 2, attempts: 0 });
    expect(await admit(db, NOW, 'j2')).toEqual({ ok: false, reason: 'gone' });
    // Neither refusal was counted.
    expect((await readWindowState(db, NOW, DEFAULT_LIMITS)).monthCount).toBe(1);
  });

  it("writes the send's ledger row, in flight, in the transaction that counts it", async () => {
    await db.messages.add({
      id: 'j1',
      conversationId: 'c',
      role: 'assistant',
      text: '',
      createdAt: 1,
      status: 'pending',
      model: 'claude-haiku-4-5',
    });
    await db.jobs.add({ id: 'j1', conversationId: 'c', state: 'queued', createdAt: 1, attempts: 2 });
    const admitted = await admit(db, NOW, 'j1');
    expect(await db.usage.toArray()).toEqual([
      {
        id: admitted.ok ? admitted.usageId : -1,
        at: NOW,
        model: 'claude-haiku-4-5',
        conversationId: 'c',
        messageId: 'j1',
        outcome: 'sending',
        usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
        ttftMs: null,
        totalMs: 0,
        attempt: 3,
        fromCache: false,
        costUsd: 0,
      },
    ]);
    // Counted as a request, not yet as an error nor in the response times.
    expect(await db.usageMonths.get(monthWindow(NOW, 'utc').key)).toMatchObject({
      requests: 1,
      ok: 0,
      errors: 0,
      latency: emptyTotals().latency,
    });
    // A refusal writes no row.
    await saveLimits(db, custom(1, 100));
    await db.jobs.add({ id: 'j2', conversationId: 'c2', state: 'queued', createdAt: 2, attempts: 0 });
    expect(await admit(db, NOW + 1, 'j2')).toMatchObject({ ok: false, reason: 'minute' });
    expect(await db.usage.count()).toBe(1);
  });

  it('jobs admitted at once from several contexts: every counted send has exactly one ledger row', async () => {
    const limits = custom(37, 1_000_000);
    await saveLimits(db, limits);
    await db.jobs.bulkAdd(
      Array.from({ length: 200 }, (_, i) => ({
        id: `j${i}`,
        conversationId: `c${i}`,
        state: 'queued' as const,
        createdAt: i,
        attempts: 0,
      })),
    );
    const contexts = [db, new PaceDB(name), new PaceDB(name), new PaceDB(name)];
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => admit(contexts[i % 4]!, NOW + (i % 7), `j${i}`)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(37);
    const rows = await db.usage.toArray();
    expect(new Set(rows.map((r) => r.messageId)).size).toBe(37);
    const counted = (await readWindowState(db, NOW + 10, limits)).monthCount;
    expect([rows.length, (await db.usageMonths.get(monthWindow(NOW, 'utc').key))?.requests]).toEqual([
      counted,
      counted,
    ]);
    for (const c of contexts.slice(1)) c.close();
  });

  it('1,000 admissions fired at once from several contexts never overshoot, and the counts are exact', async () => {
    const limits = custom(37, 1_000_000);
    await saveLimits(db, limits);
    // Four separate connections to the same database, as popup, options and background would hold.
    const contexts = [db, new PaceDB(name), new PaceDB(name), new PaceDB(name)];
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => admit(contexts[i % 4]!, NOW + (i % 7), null)),
    );
    const admitted = results.filter((r) => r.ok).length;
    expect(admitted).toBe(37);
    const state = await readWindowState(db, NOW + 10, limits);
    expect(state.recentSends).toHaveLength(37);
    expect(state.monthCount).toBe(37);
    for (const c of contexts.slice(1)) c.close();
  });

  it('keeps only the sends still in the window, and the month count of every send', async () => {
    await saveLimits(db, custom(1000, 1000));
    for (let i = 0; i < 5; i++) await admit(db, NOW + i * 10 * WINDOW_MS, null);
    const later = NOW + 5 * 60 * WINDOW_MS;
    await admit(db, later, null);
    expect((await db.counters.get('recent'))?.times).toEqual([later]);
    expect((await readWindowState(db, later, custom(1000, 1000))).monthCount).toBe(6);
  });

  it('after the clock went back, earlier sends stamped in the future still hold the window', async () => {
    await saveLimits(db, custom(2, 100));
    await admit(db, NOW, null);
    await admit(db, NOW, null);
    expect(await admit(db, NOW - 3_600_000, null)).toMatchObject({ ok: false, reason: 'minute' });
  });

  it('lowering the monthly limit below what is used pauses until the month turns', async () => {
    await saveLimits(db, custom(10, 100));
    for (let i = 0; i < 5; i++) await admit(db, NOW + i, null);
    await saveLimits(db, custom(3, 3));
    expect(await admit(db, NOW + WINDOW_MS, null)).toEqual({
      ok: false,
      reason: 'month',
      retryAt: Date.UTC(2026, 11, 1),
    });
  });
});

describe('a Message Batch call during a pause', () => {
  it("waits out the pause even after Try now, and leaves Try now's probe to the chat queue", async () => {
    await pauseAll(db, { until: NOW + 20_000, reason: 'rate_limited', message: 'Wait.' }, undefined, NOW);
    expect(await allowProbe(db, NOW)).toBe(true);
    expect(await admitBatchCall(db, NOW + 1)).toEqual({ ok: false, reason: 'server', retryAt: NOW + 20_000 });
    expect((await readWindowState(db, NOW + 1, DEFAULT_LIMITS)).probeAllowed).toBe(true);
    // The chat queue's request still goes as the probe.
    expect(await admit(db, NOW + 2, null)).toMatchObject({ ok: true });
    expect(await admitBatchCall(db, NOW + 20_000)).toEqual({ ok: true, taken: 0 });
  });
});
