/** What opening a batch counts: the month (each request once, as far as it has room), the minute (one call), and the spend budget at half price. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFailed, openBatch, placeResult } from '@/lib/batch/batch-store';
import { addExchange } from '@/lib/chat/conversation-store';
import { budgetPrice, NO_BUDGET, worstCaseUsd, type RequestCost } from '@/lib/limits/budget';
import { saveBudget } from '@/lib/limits/budget-store';
import { RECENT_KEY, saveLimits } from '@/lib/limits/limiter-store';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { recover } from '@/lib/queue/job-store';
import { PaceDB, type Job } from '@/lib/storage/db';
import { BATCHED } from '@/lib/usage/totals';

const T = Date.UTC(2026, 10, 16, 12);
const MODEL = 'claude-haiku-4-5';
const COST: RequestCost = { model: MODEL, inputTokens: 1000, maxTokens: 1000, estimated: true };
let db: PaceDB;
let n = 0;
beforeEach(() => {
  db = new PaceDB(`batch-store-${Math.random()}`);
});
afterEach(() => db.close());

async function gathered(count: number): Promise<Job[]> {
  const jobs: Job[] = [];
  for (let i = 0; i < count; i++) {
    const e = await addExchange(db, {
      conversationId: null,
      text: `q${i}`,
      now: T + i,
      newId: () => `id${++n}`,
      model: MODEL,
      later: true,
    });
    jobs.push((await db.jobs.get(e.assistantMessageId))!);
  }
  return jobs;
}
const monthCount = async () => (await db.counters.get(monthWindow(T, 'utc').key))?.count ?? 0;

describe('openBatch', () => {
  it('counts each request once against the month, as many as it has room for, and the create once in the minute; the rest keep gathering', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, perMonth: 2 });
    const jobs = await gathered(3);
    const opened = await openBatch(
      db,
      'b1',
      T + 10,
      jobs.map((job) => ({ job, model: MODEL, cost: null })),
    );
    expect(opened.ok && opened.batch.requests.map((r) => r.jobId)).toEqual([jobs[0]!.id, jobs[1]!.id]);
    expect(await monthCount()).toBe(2);
    expect((await db.counters.get(RECENT_KEY))?.times).toEqual([T + 10]);
    expect((await db.jobs.bulkGet(jobs.map((j) => j.id))).map((j) => j?.state)).toEqual([
      'batched',
      'batched',
      'gathering',
    ]);
    expect(await db.usage.where('outcome').equals(BATCHED).count()).toBe(2);

    // The month is full: nothing more is counted, and the create waits for the month to turn.
    const again = await openBatch(db, 'b2', T + 20, [{ job: jobs[2]!, model: MODEL, cost: null }]);
    expect(again).toMatchObject({ ok: false, reason: 'month' });
    expect(await monthCount()).toBe(2);
  });

  it('reserves each request at the batch price, half of its worst case', async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 10 });
    const [job] = await gathered(1);
    const opened = await openBatch(db, 'b1', T + 10, [{ job: job!, model: MODEL, cost: COST }]);
    expect(opened.ok).toBe(true);
    const spend = await db.meta.get('spend');
    const reserved = spend?.key === 'spend' ? Object.values(spend.value.reserved) : [];
    expect(reserved).toHaveLength(1);
    expect(reserved[0]!.usd).toBeCloseTo(worstCaseUsd(budgetPrice(MODEL, null)!.price, COST)! / 2, 12);

    // The create failed for good: the count, the ledger row and the reservation are all given back.
    await createFailed(db, 'b1', { error: { code: 'bad_request', message: 'No.' } });
    expect(await monthCount()).toBe(0);
    expect(await db.usage.count()).toBe(0);
    const after = await db.meta.get('spend');
    expect(after?.key === 'spend' && after.value.reserved).toEqual({});
    expect(await db.jobs.get(job!.id)).toMatchObject({ state: 'failed' });
  });

  it("survives start-up's recovery: a batched request's ledger row stays on its way and keeps its reservation", async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 10 });
    const [job] = await gathered(1);
    expect((await openBatch(db, 'b1', T + 10, [{ job: job!, model: MODEL, cost: COST }])).ok).toBe(true);
    await recover(db, T + 60_000);
    expect((await db.usage.toArray()).map((r) => r.outcome)).toEqual([BATCHED]);
    const spend = await db.meta.get('spend');
    expect(spend?.key === 'spend' && Object.keys(spend.value.reserved)).toHaveLength(1);
    expect(await db.jobs.get(job!.id)).toMatchObject({ state: 'batched' });
  });

  it('fails a question the budget can never fit, saying why, and counts nothing for it', async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 0.000001 });
    const [job] = await gathered(1);
    const opened = await openBatch(db, 'b1', T + 10, [{ job: job!, model: MODEL, cost: COST }]);
    expect(opened.ok).toBe(false);
    expect(opened.refused.map((r) => r.jobId)).toEqual([job!.id]);
    expect(await db.messages.get(job!.id)).toMatchObject({ status: 'error', error: { code: 'budget' } });
    expect(await monthCount()).toBe(0);
  });

  it('places a result once: the same result read again changes nothing', async () => {
    const [job] = await gathered(1);
    const opened = await openBatch(db, 'b1', T + 10, [{ job: job!, model: MODEL, cost: null }]);
    if (!opened.ok) throw new Error('not opened');
    const expired = { kind: 'released', why: 'expired', error: { code: 'cancelled', message: 'expired' } } as const;
    expect(await placeResult(db, opened.batch, job!.id, expired, T + 20)).toEqual({ kind: 'released', savedUsd: 0 });
    expect(await placeResult(db, opened.batch, job!.id, expired, T + 30)).toBeNull();
    expect(await monthCount()).toBe(0);
  });
});
