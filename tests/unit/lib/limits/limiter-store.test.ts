import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WINDOW_MS } from '@/lib/limits/admission';
import { admit, readLimits, readWindowState, saveLimits } from '@/lib/limits/limiter-store';
import { DEFAULT_LIMITS, type Limits } from '@/lib/limits/plans';
import { PaceDB } from '@/lib/storage/db';

let name: string;
let db: PaceDB;
beforeEach(() => {
  name = `limiter-${Math.random()}`;
  db = new PaceDB(name);
});
afterEach(async () => {
  await db.delete();
});

const custom = (perMinute: number, perMonth: number): Limits => ({ ...DEFAULT_LIMITS, plan: 'custom', perMinute, perMonth });
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
    expect(await admit(db, NOW, 'j1')).toEqual({ ok: true });
    expect(await db.jobs.get('j1')).toMatchObject({ state: 'sending', attempts: 1 });
    expect(await admit(db, NOW, 'j1')).toEqual({ ok: false, reason: 'gone' });
    await db.jobs.add({ id: 'j2', conversationId: 'c', state: 'cancelled', createdAt: 2, attempts: 0 });
    expect(await admit(db, NOW, 'j2')).toEqual({ ok: false, reason: 'gone' });
    // Neither refusal was counted.
    expect((await readWindowState(db, NOW, DEFAULT_LIMITS)).monthCount).toBe(1);
  });

  it('1,000 admissions fired at once from several contexts never overshoot, and the counts are exact', async () => {
    const limits = custom(37, 1_000_000);
    await saveLimits(db, limits);
    // Four separate connections to the same database, as popup, options and background would hold.
    const contexts = [db, new PaceDB(name), new PaceDB(name), new PaceDB(name)];
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => admit(contexts[i % 4]!, NOW + (i % 7), null)));
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
    expect(await admit(db, NOW + WINDOW_MS, null)).toEqual({ ok: false, reason: 'month', retryAt: Date.UTC(2026, 11, 1) });
  });
});
