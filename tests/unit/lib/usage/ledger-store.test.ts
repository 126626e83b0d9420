/**
 * The ledger and the limiter agree: a send's row is written in flight when it is admitted and
 * ended in place, so each counted send is one row, counted once in the day and month totals,
 * whatever happens to the worker.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addExchange } from '@/lib/chat/conversation-store';
import * as jobStore from '@/lib/queue/job-store';
import { readWindowState, saveLimits } from '@/lib/limits/limiter-store';
import { admit } from '@/lib/limits/admit';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { PaceDB } from '@/lib/storage/db';
import { settleUsage } from '@/lib/usage/ledger-store';
import { dayKey, emptyTotals } from '@/lib/usage/totals';
import { row } from './fixtures';

let db: PaceDB;
beforeEach(() => {
  db = new PaceDB(`ledger-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

const NOW = Date.UTC(2026, 10, 27, 12);
const MODEL = 'claude-sonnet-4-6';
const monthKey = (t: number) => monthWindow(t, 'utc').key;
let ids = 0;

/** A queued message admitted by the limiter, as the scheduler does: its job is then `sending`. */
async function admitted(at = NOW) {
  const ex = await addExchange(db, {
    conversationId: null,
    text: 'q',
    now: at,
    newId: () => `id${++ids}`,
    model: MODEL,
  });
  const decision = await admit(db, at, ex.assistantMessageId);
  if (!decision.ok || decision.usageId === undefined) throw new Error('not admitted');
  return { id: ex.assistantMessageId, usageId: decision.usageId };
}

async function monthTotals(t = NOW) {
  return (await db.usageMonths.get(monthKey(t)))!;
}

const ended = { outcome: 'ok', status: 200, usage: row().usage, ttftMs: 400, totalMs: 2000, costUsd: row().costUsd };

describe('usage ledger: one row per counted send', () => {
  it('ends the row of a send in place: one row, counted once, with its tokens, cost and times', async () => {
    const { usageId } = await admitted();
    expect(await settleUsage(db, usageId, ended)).toBe(true);
    const rows = await db.usage.toArray();
    expect(rows).toHaveLength(1);
    // The row keeps the time it was counted at, so it stays in that day and month.
    expect(rows[0]).toMatchObject({
      id: usageId,
      at: NOW,
      outcome: 'ok',
      totalMs: 2000,
      usage: ended.usage,
      costUsd: ended.costUsd,
    });
    const month = await monthTotals();
    expect(month).toMatchObject({
      requests: 1,
      ok: 1,
      errors: 0,
      inputTokens: 1000,
      outputTokens: 500,
      costUsd: ended.costUsd,
    });
    expect(month.latency.reduce((a, b) => a + b, 0)).toBe(1);
    expect(month.ttft.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await db.usageDays.get(dayKey(NOW))).toMatchObject({ requests: 1, ok: 1 });
    // An ended row is not ended again: the send stays counted once.
    expect(await settleUsage(db, usageId, { outcome: 'overloaded' })).toBe(false);
    expect(await monthTotals()).toMatchObject({ requests: 1, ok: 1, errors: 0 });
    expect((await readWindowState(db, NOW, DEFAULT_LIMITS)).monthCount).toBe(1);
  });

  it('a failed attempt is one request and one error, in the day and the month', async () => {
    const { usageId } = await admitted();
    await settleUsage(db, usageId, { outcome: 'overloaded', status: 529, errorType: 'overloaded_error', totalMs: 300 });
    expect(await monthTotals()).toMatchObject({ requests: 1, ok: 0, errors: 1 });
    expect(await db.usageDays.get(dayKey(NOW))).toMatchObject({ requests: 1, errors: 1 });
  });

  it('a send cut off by a stopped worker becomes interrupted at start-up: the ledger still agrees with the limiter', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 10, perMonth: 100 });
    const cut = await admitted();
    const waiting = await addExchange(db, {
      conversationId: null,
      text: 'later',
      now: NOW,
      newId: () => `id${++ids}`,
      model: MODEL,
    });
    // ...the worker stops here: nothing ends the attempt.
    const recovered = await jobStore.recover(db);
    expect(recovered.resumed).toEqual([cut.id]);
    expect(await db.usage.get(cut.usageId)).toMatchObject({ outcome: 'interrupted', messageId: cut.id, attempt: 1 });
    const month = await monthTotals();
    // A request and an error, with no time measured (none was).
    expect(month).toMatchObject({
      requests: 1,
      ok: 0,
      errors: 1,
      latency: emptyTotals().latency,
      ttft: emptyTotals().ttft,
    });

    // The resumed send is a second counted request with its own row; the waiting one never went.
    const again = await admit(db, NOW + 1, cut.id);
    expect(again).toMatchObject({ ok: true });
    const counted = (await readWindowState(db, NOW + 1, DEFAULT_LIMITS)).monthCount;
    expect(counted).toBe(2);
    expect(await db.usage.count()).toBe(counted);
    expect((await monthTotals()).requests).toBe(counted);
    expect(await db.usage.filter((r) => r.messageId === waiting.assistantMessageId).count()).toBe(0);

    // A second restart leaves the ended row as it was and interrupts only the one in flight.
    await jobStore.recover(db);
    expect((await db.usage.toArray()).map((r) => r.outcome)).toEqual(['interrupted', 'interrupted']);
    expect(await monthTotals()).toMatchObject({ requests: 2, errors: 2 });
  });

  it('a row ended after midnight stays in the day and month its send was counted in', async () => {
    const lastMinute = Date.UTC(2026, 10, 30, 23, 59, 59);
    const { usageId } = await admitted(lastMinute);
    await settleUsage(db, usageId, { outcome: 'ok', totalMs: 5000 });
    expect((await monthTotals(lastMinute)).requests).toBe(1);
    expect(await db.usageMonths.get(monthKey(lastMinute + 5000))).toBeUndefined();
  });
});
