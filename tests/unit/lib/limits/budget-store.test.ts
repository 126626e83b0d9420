/**
 * The spend budget through the real admission and ledger transactions (fake-indexeddb): what is
 * reserved, when it is replaced, and that no interleaving of sends, answers, failures and worker
 * stops spends past the budget.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_BUDGET, worstCaseUsd, type RequestCost } from '@/lib/limits/budget';
import type { Budget, SpendState } from '@/lib/storage/rows';
import { readBudgetView, saveBudget } from '@/lib/limits/budget-store';
import { saveLimits } from '@/lib/limits/limiter-store';
import { admit } from '@/lib/limits/admit';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import * as jobStore from '@/lib/queue/job-store';
import { PaceDB, type TokenUsage } from '@/lib/storage/db';
import { settleUsage } from '@/lib/usage/ledger-store';
import { estimateCost, priceFor } from '@/lib/usage/prices';
import { INTERRUPTED } from '@/lib/usage/totals';

let db: PaceDB;
beforeEach(async () => {
  db = new PaceDB(`budget-${Math.random()}`);
  // Request limits high enough that only the budget holds requests back.
  await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 100_000, perMonth: 1_000_000 });
});
afterEach(async () => {
  await db.delete();
});

const NOW = Date.UTC(2026, 10, 20, 12);
const MODEL = 'claude-sonnet-5-5';
const budget = (patch: Partial<Budget> = {}): Budget => ({ ...NO_BUDGET, monthlyUsd: 1, ...patch });
const cost = (inputTokens: number, maxTokens: number): RequestCost => ({ model: MODEL, inputTokens, maxTokens });
const worst = (c: RequestCost) => worstCaseUsd(priceFor(MODEL)!, c)!;
const usage = (inputTokens: number, outputTokens: number): TokenUsage => ({
  inputTokens,
  outputTokens,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
});

async function queue(id: string): Promise<void> {
  await db.jobs.add({ id, conversationId: 'c', state: 'queued', createdAt: NOW, attempts: 0 });
}

async function spendRow(): Promise<SpendState> {
  const row = await db.meta.get('spend');
  return row?.key === 'spend' ? row.value : { reserved: {}, extra: {} };
}

/** Ends a send as the runner does: its ledger row with the answer's usage, priced. */
function answer(usageId: number, u: TokenUsage) {
  return settleUsage(db, usageId, { outcome: 'ok', model: MODEL, usage: u, costUsd: estimateCost(MODEL, u) });
}

describe('admission with a spend budget', () => {
  it("reserves the request's worst case with its ledger row, and the answer's cost replaces it once", async () => {
    await saveBudget(db, budget());
    await queue('j1');
    const c = cost(1_000, 4_000);
    const admitted = await admit(db, NOW, 'j1', { cost: c });
    expect(admitted).toEqual({ ok: true, usageId: expect.any(Number) as number });
    const id = admitted.ok ? admitted.usageId! : -1;
    expect((await spendRow()).reserved).toEqual({ [id]: { usd: worst(c), at: NOW } });
    expect((await readBudgetView(db, NOW))?.periods[0]).toMatchObject({ settled: 0, reserved: worst(c) });

    expect(await answer(id, usage(900, 100))).toBe(true);
    const spent = (900 * 2 + 100 * 10) / 1e6;
    expect((await spendRow()).reserved).toEqual({});
    expect((await readBudgetView(db, NOW))?.periods[0]).toMatchObject({
      settled: expect.closeTo(spent, 12) as number,
      reserved: 0,
    });
    // Ended once: a second end changes nothing.
    expect(await answer(id, usage(5_000, 5_000))).toBe(false);
    expect((await readBudgetView(db, NOW))?.periods[0]).toMatchObject({
      settled: expect.closeTo(spent, 12) as number,
      reserved: 0,
    });
  });

  it("counts an answer a gateway priced below list prices at list prices, and keeps the gateway's figure in the ledger", async () => {
    await saveBudget(db, budget({ monthlyUsd: 0.05 }));
    await queue('j1');
    await queue('j2');
    const c = cost(1_000, 4_000);
    const first = await admit(db, NOW, 'j1', { cost: c });
    const id = first.ok ? first.usageId! : -1;
    const u = usage(900, 4_000);
    const list = estimateCost(MODEL, u)!;
    await settleUsage(db, id, {
      outcome: 'ok',
      model: MODEL,
      usage: u,
      costUsd: 0,
      costFrom: 'gateway',
      listCostUsd: list,
    });
    expect(await db.usage.get(id)).toMatchObject({ costUsd: 0, costFrom: 'gateway' });
    expect((await readBudgetView(db, NOW))?.periods[0]).toMatchObject({
      settled: expect.closeTo(list, 12) as number,
      reserved: 0,
    });
    // $0.0418 is spent at list prices: the next worst case ($0.042) no longer fits in $0.05.
    expect(await admit(db, NOW + 1, 'j2', { cost: c })).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('refuses a request that cannot fit, counting and sending nothing', async () => {
    await saveBudget(db, budget({ monthlyUsd: 0.01 }));
    await queue('j1');
    const r = await admit(db, NOW, 'j1', { cost: cost(1_000, 4_000) });
    expect(r).toMatchObject({
      ok: false,
      reason: 'refused',
      error: {
        code: 'budget',
        message: expect.stringContaining(
          'could cost up to $0.04; $0.01 of your $0.01 monthly budget is left; it resets 1 Dec, 00:00 UTC.',
        ) as string,
      },
    });
    expect(await db.jobs.get('j1')).toMatchObject({ state: 'queued', attempts: 0 });
    expect(await db.usage.count()).toBe(0);
    expect(await db.counters.count()).toBe(0);
  });

  it('holds a request that fits once those on their way settle, then lets it go', async () => {
    await saveBudget(db, budget({ monthlyUsd: 0.05 }));
    await queue('j1');
    await queue('j2');
    const c = cost(1_000, 4_000);
    const first = await admit(db, NOW, 'j1', { cost: c });
    expect(await admit(db, NOW + 1, 'j2', { cost: c })).toEqual({
      ok: false,
      reason: 'budget',
      retryAt: Date.UTC(2026, 11, 1),
    });
    await answer(first.ok ? first.usageId! : -1, usage(100, 50));
    expect(await admit(db, NOW + 2, 'j2', { cost: c })).toMatchObject({ ok: true });
  });

  it('counts a send cut off by a stopped worker at its worst case (what it cost is never known)', async () => {
    await saveBudget(db, budget());
    await queue('j1');
    const c = cost(1_000, 4_000);
    await admit(db, NOW, 'j1', { cost: c });
    await jobStore.recover(db);
    expect((await db.usage.toArray())[0]?.outcome).toBe(INTERRUPTED);
    expect((await spendRow()).reserved).toEqual({});
    expect((await readBudgetView(db, NOW))?.periods[0]).toMatchObject({ settled: worst(c), reserved: 0 });
  });

  it('at start-up, ends a row left in flight whose job is not (its end failed to write) and drops reservations with no row in flight', async () => {
    await saveBudget(db, budget({ monthlyUsd: 0.1 }));
    for (const id of ['j1', 'j2', 'j3']) await queue(id);
    const c = cost(1_000, 4_000);
    const lost = await admit(db, NOW, 'j1', { cost: c });
    const lostId = lost.ok ? lost.usageId! : -1;
    // The answer came and the job finished, but ending its ledger row failed (a storage error): row and reservation stay.
    await jobStore.start(db, 'j1');
    await jobStore.finish(
      db,
      'j1',
      { status: 'done', text: 'ok', stopReason: 'end_turn', error: undefined },
      { at: NOW, outcome: 'ok' },
    );
    expect((await db.jobs.get('j1'))?.state).toBe('done');
    const second = await admit(db, NOW + 1, 'j2', { cost: c });
    // A third worst case does not fit until the stranded one goes.
    expect(await admit(db, NOW + 2, 'j3', { cost: c })).toMatchObject({ ok: false, reason: 'budget' });
    const secondId = second.ok ? second.usageId! : -1;
    await answer(secondId, usage(100, 100));
    // A reservation whose row is gone (pruned, or damaged storage) can never be replaced either.
    const spend = await spendRow();
    await db.meta.put({
      key: 'spend',
      value: { ...spend, reserved: { ...spend.reserved, 999: { usd: 0.05, at: NOW } } },
    });

    await jobStore.recover(db, NOW + 10);
    expect(await db.usage.get(lostId)).toMatchObject({ outcome: INTERRUPTED });
    expect((await spendRow()).reserved).toEqual({});
    // The stranded send counts its worst case, as any send cut off; the answered one its usage.
    expect((await readBudgetView(db, NOW + 10))?.periods[0]).toMatchObject({
      settled: expect.closeTo(worst(c) + (100 * 2 + 100 * 10) / 1e6, 12) as number,
      reserved: 0,
    });
    expect(await admit(db, NOW + 11, 'j3', { cost: c })).toMatchObject({ ok: true });
  });

  it('at start-up, ends a row left in flight with no budget set', async () => {
    await queue('j1');
    const r = await admit(db, NOW, 'j1');
    const id = r.ok ? r.usageId! : -1;
    await jobStore.start(db, 'j1');
    await jobStore.finish(
      db,
      'j1',
      { status: 'done', text: 'ok', stopReason: 'end_turn', error: undefined },
      { at: NOW, outcome: 'ok' },
    );
    expect((await db.jobs.get('j1'))?.state).toBe('done');
    await jobStore.recover(db, NOW + 60_000);
    expect(await db.usage.get(id)).toMatchObject({ outcome: INTERRUPTED });
    expect((await db.usageMonths.toArray())[0]).toMatchObject({ requests: 1, errors: 1 });
  });

  it('1,000 admissions at once, from four connections, leave the stored spend and reservations exact', async () => {
    const c = cost(1_000, 4_000);
    // Room for exactly 600 worst cases.
    await saveBudget(db, budget({ monthlyUsd: worst(c) * 600 + 1e-7 }));
    const ids = Array.from({ length: 1_000 }, (_, i) => `j${i}`);
    await db.jobs.bulkAdd(
      ids.map((id) => ({ id, conversationId: id, state: 'queued' as const, createdAt: NOW, attempts: 0 })),
    );
    // Four connections, as the background, the popup and the options page each open their own.
    const connections = [db, ...[1, 2, 3].map(() => new PaceDB(db.name))];
    const results = await Promise.all(ids.map((id, i) => admit(connections[i % 4]!, NOW + i, id, { cost: c })));
    for (const other of connections.slice(1)) other.close();
    const admitted = results.flatMap((r) => (r.ok ? [r.usageId!] : []));
    expect(admitted).toHaveLength(600);
    expect(results.filter((r) => !r.ok && r.reason === 'budget')).toHaveLength(400);
    const spend = await spendRow();
    expect(
      Object.keys(spend.reserved)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([...admitted].sort((a, b) => a - b));
    expect(await db.usage.count()).toBe(600);
    expect(await db.jobs.where('state').equals('sending').count()).toBe(600);
    // Each answer settles its own reservation: in the end nothing is reserved and the ledger holds every cost.
    await Promise.all(admitted.map((id) => answer(id, usage(1_000, 1_000))));
    const view = await readBudgetView(db, NOW + 1_000);
    expect(view?.periods[0]).toMatchObject({ reserved: 0, settled: expect.closeTo(600 * 0.012, 9) as number });
    expect((await spendRow()).reserved).toEqual({});
  }, 60_000);
});

/**
 * A request as the queue measures it: its prompt estimated at four characters a token, and, as the
 * budget reserves without the API's count (REVIEW item 3), its hard upper bound: a token is at least
 * one byte, so the prompt's bytes (here ASCII, four per estimated token) bound what the API counts.
 */
interface Sent {
  model: typeof MODEL | typeof HAIKU;
  estimate: number;
  max: number;
  cache: boolean;
}
const HAIKU = 'claude-haiku-5-5';
const boundOf = (r: Sent) => r.estimate * 4;
const costOf = (r: Sent): RequestCost => ({
  model: r.model,
  inputTokens: boundOf(r),
  maxTokens: r.max,
  ...(r.cache ? { promptCache: '5m' as const } : {}),
});
const worstOf = (c: RequestCost) => worstCaseUsd(priceFor(c.model)!, c)!;

type Step =
  | ({ kind: 'send' } & Sent)
  | {
      kind: 'answer';
      pick: number;
      inShare: number;
      outShare: number;
      readShare: number;
      writeShare: number;
      gateway: number | null;
    }
  | { kind: 'fail'; pick: number; inShare: number }
  | { kind: 'stop'; billedShare: number }
  | { kind: 'tick'; ms: number };

/** A share of what was reserved, often all of it: the worst cases are where a budget breaks. */
const share = fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true }));
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('send' as const),
    model: fc.constant(MODEL),
    estimate: fc.integer({ min: 0, max: 3_000 }),
    max: fc.integer({ min: 1, max: 4_000 }),
    cache: fc.boolean(),
  }),
  // Haiku 5.5's prompts around its long-prompt threshold (100,000 tokens), where the price is five times higher.
  fc.record({
    kind: fc.constant('send' as const),
    model: fc.constant(HAIKU),
    estimate: fc.integer({ min: 20_000, max: 40_000 }),
    max: fc.integer({ min: 1, max: 4_000 }),
    cache: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('answer' as const),
    pick: fc.nat(),
    inShare: share,
    outShare: share,
    readShare: share,
    writeShare: share,
    // A team gateway's own figure, from nothing to twice the list price; null: no gateway.
    gateway: fc.option(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 2, noNaN: true }))),
  }),
  fc.record({ kind: fc.constant('fail' as const), pick: fc.nat(), inShare: share }),
  fc.record({ kind: fc.constant('stop' as const), billedShare: share }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 60_000 }) }),
);

describe('the budget holds (property)', () => {
  it('in pause mode, whatever mix of requests, answers, failures, gateways and worker stops: spent never passes the budget, and each reservation goes exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 0.01, max: 0.3, noNaN: true }),
        fc.option(share),
        fc.array(step, { minLength: 20, maxLength: 40 }),
        async (limit, dailyShare, steps) => {
          await db.delete();
          db = new PaceDB(`budget-prop-${Math.random()}`);
          await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 100_000, perMonth: 1_000_000 });
          // A daily budget, when set, at most the monthly one: the tighter of the two holds.
          const daily = dailyShare === null ? null : Math.max(0.005, limit * dailyShare);
          await saveBudget(db, budget({ monthlyUsd: limit, dailyUsd: daily }));
          const cap = Math.min(limit, daily ?? Infinity);
          let t = NOW;
          let next = 0;
          /** What Anthropic billed at list prices: every answer and failure at its usage, a cut-off send at up to its worst case. */
          let billed = 0;
          /**
           * What gateways charged above list prices. The budget counts the higher of the two, but can
           * only reserve at list prices (a gateway's own price is known once it has answered), so this
           * much may stand above the budget in Pace's own count: never in what Anthropic billed.
           */
          let gatewayAbove = 0;
          const costs = new Map<string, RequestCost>();
          const inFlight = new Map<number, { job: string; c: RequestCost }>();
          const reservedOnce = new Set<number>();
          const released = new Set<number>();
          const endOf = async (usageId: number, ok: Promise<boolean>) => {
            expect(await ok).toBe(true);
            expect(released.has(usageId)).toBe(false);
            released.add(usageId);
            expect((await spendRow()).reserved[usageId]).toBeUndefined();
            inFlight.delete(usageId);
          };
          for (const s of steps) {
            if (s.kind === 'tick') t += s.ms;
            else if (s.kind === 'send') {
              const id = `j${next++}`;
              costs.set(id, costOf(s));
              await queue(id);
            }
            if (s.kind === 'send' || s.kind === 'tick' || s.kind === 'stop') {
              // The queue offers every waiting job; the budget decides.
              for (const job of await db.jobs.where('state').anyOf('queued', 'waiting').toArray()) {
                const c = costs.get(job.id)!;
                const r = await admit(db, t, job.id, { cost: c });
                if (r.ok) {
                  expect(reservedOnce.has(r.usageId!)).toBe(false);
                  reservedOnce.add(r.usageId!);
                  expect((await spendRow()).reserved[r.usageId!]).toEqual({ usd: worstOf(c), at: t });
                  inFlight.set(r.usageId!, { job: job.id, c });
                } else if (r.reason === 'refused') {
                  await jobStore.fail(db, job.id, { status: 'error', error: r.error });
                } else if (r.reason === 'budget') {
                  await jobStore.wait(db, [job.id], { waitReason: 'budget', waitUntil: r.retryAt });
                }
              }
            }
            const open = [...inFlight.entries()];
            if ((s.kind === 'answer' || s.kind === 'fail') && open.length > 0) {
              const [usageId, { job, c }] = open[s.pick % open.length]!;
              // The server reads up to the bound (past the estimate) and writes at most max_tokens;
              // with the cache on, parts of the prompt are written to it or read from it.
              const prompt = Math.floor(c.inputTokens * s.inShare);
              const read = s.kind === 'answer' && c.promptCache ? Math.floor(prompt * s.readShare) : 0;
              const written = s.kind === 'answer' && c.promptCache ? Math.floor((prompt - read) * s.writeShare) : 0;
              const u: TokenUsage = {
                inputTokens: prompt - read - written,
                outputTokens: s.kind === 'answer' ? Math.floor(c.maxTokens * s.outShare) : 0,
                cacheReadTokens: read,
                cacheCreationTokens: written,
              };
              const list = estimateCost(c.model, u)!;
              billed += list;
              const gateway =
                s.kind === 'answer' && s.gateway !== null
                  ? { costUsd: list * s.gateway, costFrom: 'gateway' as const, listCostUsd: list }
                  : { costUsd: list };
              gatewayAbove += Math.max(0, gateway.costUsd - list);
              await endOf(
                usageId,
                settleUsage(db, usageId, {
                  outcome: s.kind === 'answer' ? 'ok' : 'overloaded',
                  model: c.model,
                  usage: u,
                  ...gateway,
                }),
              );
              if (s.kind === 'answer')
                await jobStore.finish(
                  db,
                  job,
                  { status: 'done', text: 'ok', stopReason: 'end_turn', error: undefined },
                  { at: t, outcome: 'ok' },
                );
              else await jobStore.fail(db, job, { status: 'error', error: { code: 'overloaded', message: 'busy' } });
            }
            if (s.kind === 'stop') {
              // The worker stops: what was on its way was billed somewhere up to its worst case, never more.
              for (const [, { c }] of open) billed += worstOf(c) * s.billedShare;
              const stopped = open.map(([id]) => id);
              await jobStore.recover(db, t);
              for (const id of stopped) {
                expect((await db.usage.get(id))?.outcome).toBe(INTERRUPTED);
                released.add(id);
                inFlight.delete(id);
              }
              expect(
                Object.keys((await spendRow()).reserved)
                  .map(Number)
                  .sort(),
              ).toEqual([...inFlight.keys()].sort());
            }
            expect(billed).toBeLessThanOrEqual(cap + 1e-9);
            const view = await readBudgetView(db, t);
            for (const p of view!.periods)
              expect(p.settled + p.reserved).toBeLessThanOrEqual(p.limit + gatewayAbove + 1e-9);
          }
          // Every reservation made was either released or is still open, never both, never twice.
          expect([...reservedOnce].every((id) => released.has(id) !== inFlight.has(id))).toBe(true);
          expect(Object.keys((await spendRow()).reserved).length).toBe(inFlight.size);
        },
      ),
      // Shrinking a run of 40 database steps outlasts the timeout: report the first counterexample as found.
      { numRuns: 60, endOnFailure: true },
    );
  }, 120_000);
});
