/**
 * Issue 21: no figure a server sends can break the budget. The ledger and the budget refuse a cost
 * that is not a finite number >= 0, at the write and at the sum; an answer naming a cheaper model
 * than the one asked for is priced at the dearer; an answer with no usage keeps its worst case.
 * Real admission and ledger transactions on fake-indexeddb.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { admit } from '@/lib/limits/admit';
import { NO_BUDGET, periodSpends, settledExtraUsd, worstCaseUsd, type RequestCost } from '@/lib/limits/budget';
import { readBudgetView, reserveInTx, saveBudget } from '@/lib/limits/budget-store';
import { saveLimits } from '@/lib/limits/limiter-store';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { PaceDB, type TokenUsage } from '@/lib/storage/db';
import { recordAttempt } from '@/lib/usage/attempt-ledger';
import { recordUsage, settleUsage } from '@/lib/usage/ledger-store';
import { estimateCost, pricedModel, priceFor } from '@/lib/usage/prices';
import { addMonthRow, addRow, emptyMonth, emptyTotals, removeRow } from '@/lib/usage/totals';
import { row } from './fixtures';

let db: PaceDB;
beforeEach(async () => {
  db = new PaceDB(`figures-${Math.random()}`);
  await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 100_000, perMonth: 1_000_000 });
});
afterEach(async () => {
  await db.delete();
});

const NOW = Date.UTC(2026, 10, 20, 12);
const ASKED = 'claude-sonnet-4-6';
const CHEAPER = 'claude-3-haiku';
const usage = (inputTokens: number, outputTokens: number): TokenUsage => ({
  inputTokens,
  outputTokens,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
});
const cost = (inputTokens: number, maxTokens: number): RequestCost => ({ model: ASKED, inputTokens, maxTokens });
const worst = (c: RequestCost) => worstCaseUsd(priceFor(ASKED)!, c)!;
const monthSpend = async (t = NOW) => (await readBudgetView(db, t))!.periods[0]!;
const log = () => undefined;

async function queue(id: string): Promise<void> {
  await db.jobs.add({ id, conversationId: 'c', state: 'queued', createdAt: NOW, attempts: 0 });
}

async function admitted(id: string, c: RequestCost, at = NOW): Promise<number> {
  await queue(id);
  const a = await admit(db, at, id, { cost: c });
  if (!a.ok || a.usageId === undefined) throw new Error(`not admitted: ${JSON.stringify(a)}`);
  return a.usageId;
}

describe('the ledger refuses a cost that is not a finite number >= 0', () => {
  it('stores NaN, Infinity and negative costs as unknown, and the month total stays a finite sum', async () => {
    for (const costUsd of [Number.NaN, Number.POSITIVE_INFINITY, -5])
      await recordUsage(db, row({ at: NOW, costUsd, inputCostUsd: costUsd }));
    await recordUsage(db, row({ at: NOW, costUsd: 0.25 }));
    const rows = await db.usage.toArray();
    expect(rows.map((r) => r.costUsd)).toEqual([null, null, null, 0.25]);
    expect(rows.map((r) => r.inputCostUsd ?? null)).toEqual([null, null, null, null]);
    const month = (await db.usageMonths.get(monthWindow(NOW, 'utc').key))!;
    expect(month.costUsd).toBe(0.25);
    expect(month.unknownCost).toBe(3);
    expect(Object.values(month.conversations).every(Number.isFinite)).toBe(true);
  });

  it('settles a row whose usage is not whole token counts as unknown usage: no tokens, no cost, its worst case kept', async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 10 });
    const c = cost(1_000, 1_000);
    const id = await admitted('j1', c);
    await settleUsage(db, id, {
      outcome: 'ok',
      usage: { inputTokens: -7, outputTokens: Number.NaN, cacheReadTokens: 0, cacheCreationTokens: 0 },
      costUsd: -1,
    });
    expect(await db.usage.get(id)).toMatchObject({ usage: usage(0, 0), costUsd: null, usageUnknown: true });
    const month = await monthSpend();
    expect(month.settled).toBeCloseTo(worst(c), 12);
    expect(month.reserved).toBe(0);
  });

  it('sums a damaged row (NaN or negative cost, fractional tokens) as none, and takes it out again the same way', () => {
    const damaged = row({
      costUsd: Number.NaN,
      inputCostUsd: -1,
      promptCacheSavedUsd: Number.NaN,
      usage: { inputTokens: 1.5, outputTokens: -3, cacheReadTokens: 0, cacheCreationTokens: 0 },
    });
    const good = row({ costUsd: 0.5 });
    const t = addRow(addRow(emptyTotals(), damaged), good);
    expect(t.costUsd).toBe(0.5);
    expect(t.inputTokens).toBe(1000);
    expect(t.outputTokens).toBe(500);
    expect(t.promptCacheSavedUsd).toBe(0);
    expect(t.unknownCost).toBe(1);
    expect(removeRow(t, damaged)).toMatchObject({ costUsd: 0.5, unknownCost: 0, requests: 1 });
    const m = addMonthRow(addMonthRow(emptyMonth('utc:2026-11'), damaged), good);
    expect(m.costUsd).toBe(0.5);
    expect(m.conversations).toEqual({ c1: 0.5 });
  });
});

describe('the budget refuses a cost that is not a finite number >= 0', () => {
  it('never stores a reservation of NaN or negative dollars', async () => {
    await expect(
      db.transaction('rw', db.meta, () =>
        reserveInTx(db, { reserved: {}, extra: {} }, 1, { usd: Number.NaN, at: NOW }, NOW),
      ),
    ).rejects.toThrow(/not a cost/);
    await expect(
      db.transaction('rw', db.meta, () => reserveInTx(db, { reserved: {}, extra: {} }, 1, { usd: -1, at: NOW }, NOW)),
    ).rejects.toThrow(/not a cost/);
    expect(await db.meta.get('spend')).toBeUndefined();
  });

  it("reads a period's spend as a finite sum whatever the ledger total or a reservation holds", () => {
    const budget = { ...NO_BUDGET, monthlyUsd: 5 };
    const [p] = periodSpends(
      NOW,
      'utc',
      budget,
      {
        reserved: { 1: { usd: Number.NaN, at: NOW }, 2: { usd: 1, at: NOW } },
        extra: { [monthWindow(NOW, 'utc').key]: -3 },
      },
      { month: Number.NaN, day: 0 },
    );
    expect(p).toMatchObject({ settled: 0, reserved: 1 });
  });

  it('adds a finite amount >= 0 to a period when an answer settles, whatever it says it cost', () => {
    const r = { usd: 0.2, at: NOW };
    const ended = { model: ASKED, interrupted: false, gatewayUsd: null, usage: usage(10, 10) };
    expect(settledExtraUsd(r, { ...ended, listUsd: Number.NaN })).toBe(0.2);
    expect(settledExtraUsd(r, { ...ended, listUsd: null, gatewayUsd: -4 })).toBe(0.2);
    expect(settledExtraUsd(r, { ...ended, listUsd: 0.05 })).toBe(0);
  });
});

describe('price by the dearer', () => {
  it('picks the model asked for unless the one named costs more; an unknown price never lowers it', () => {
    const u = usage(1_000, 1_000);
    expect(pricedModel(ASKED, CHEAPER, u)).toBe(ASKED);
    expect(pricedModel(CHEAPER, ASKED, u)).toBe(ASKED);
    expect(pricedModel(ASKED, 'some-unknown-model', u)).toBe(ASKED);
    expect(pricedModel('some-unknown-model', CHEAPER, u)).toBe('some-unknown-model');
    expect(pricedModel(ASKED, null, u)).toBe(ASKED);
  });

  it("settles a streamed answer naming a cheaper model at the requested model's price", async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 10 });
    const id = await admitted('j1', cost(1_000, 1_000));
    const u = usage(900, 800);
    await recordAttempt(
      db,
      id,
      {
        at: NOW,
        model: CHEAPER,
        conversationId: 'c',
        messageId: 'j1',
        outcome: 'ok',
        usage: u,
        ttftMs: 1,
        totalMs: 2,
        attempt: 1,
        fromCache: false,
      },
      { cacheTtl: '5m', gatewayCost: null, requested: ASKED },
      log,
    );
    const stored = await db.usage.get(id);
    expect(stored?.costUsd).toBeCloseTo(estimateCost(ASKED, u)!, 12);
    expect(stored?.costUsd).toBeGreaterThan(estimateCost(CHEAPER, u)!);
    expect((await monthSpend()).settled).toBeCloseTo(estimateCost(ASKED, u)!, 12);
  });

  it('keeps the worst-case reservation as the spend of an answer that brought no usage at all, and admission then refuses what no longer fits', async () => {
    const c = cost(1_000, 1_000);
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: worst(c) * 1.5 });
    const id = await admitted('j1', c);
    await recordAttempt(
      db,
      id,
      {
        at: NOW,
        model: ASKED,
        conversationId: 'c',
        messageId: 'j1',
        outcome: 'ok',
        usage: usage(0, 0),
        ttftMs: 1,
        totalMs: 2,
        attempt: 1,
        fromCache: false,
      },
      { cacheTtl: '5m', gatewayCost: null, requested: ASKED },
      log,
    );
    expect(await db.usage.get(id)).toMatchObject({ costUsd: null, usageUnknown: true });
    expect(await monthSpend()).toMatchObject({ settled: expect.closeTo(worst(c), 12) as number, reserved: 0 });
    await queue('j2');
    expect(await admit(db, NOW + 1, 'j2', { cost: c })).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('releases the reservation of an attempt that failed before any answer (nothing billed)', async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 10 });
    const id = await admitted('j1', cost(1_000, 1_000));
    await recordAttempt(
      db,
      id,
      {
        at: NOW,
        model: ASKED,
        conversationId: 'c',
        messageId: 'j1',
        outcome: 'overloaded',
        usage: usage(0, 0),
        ttftMs: null,
        totalMs: 2,
        attempt: 1,
        fromCache: false,
      },
      { cacheTtl: '5m', gatewayCost: null, requested: ASKED },
      log,
    );
    expect(await monthSpend()).toMatchObject({ settled: 0, reserved: 0 });
  });
});
