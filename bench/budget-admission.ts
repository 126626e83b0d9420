/**
 * Admission with a spend budget and token limits on, against requests-only admission, in the same
 * run: each sample admits a real queued job (its ledger row opened; with the budget and token limits,
 * its worst case reserved and its tokens counted against the minute) and
 * its attempt is then ended, untimed, so a few requests are on their way as in real use. The two
 * databases take turns, sample by sample, so the machine's noise falls on both alike.
 */
import type { RequestCost } from '../lib/limits/budget';
import { NO_BUDGET } from '../lib/limits/budget';
import { saveBudget } from '../lib/limits/budget-store';
import { saveLimits } from '../lib/limits/limiter-store';
import { admit } from '../lib/limits/admit';
import { DEFAULT_LIMITS, PLANS } from '../lib/limits/plans';
import type { TokenNeed } from '../lib/limits/token-buckets';
import { PaceDB } from '../lib/storage/db';
import { settleUsage } from '../lib/usage/ledger-store';
import { percentiles, type Percentiles } from './stats';

export interface BudgetTimings {
  requestsOnly: Percentiles;
  withBudget: Percentiles;
  /** withBudget's median over requestsOnly's. */
  ratio: number;
}

const COST: RequestCost = { model: 'claude-sonnet-5-5', inputTokens: 2_000, maxTokens: 4_096, promptCache: '5m' };
/** What each request asks of the token limits (Anthropic's Start tier figures are the limits). */
const NEED: TokenNeed = { inputTokens: COST.inputTokens, outputTokens: COST.maxTokens };
/** Requests on their way at any time. */
const IN_FLIGHT = 3;

export async function benchBudgetAdmission(count = 3_000, durability?: 'default' | 'relaxed'): Promise<BudgetTimings> {
  const start = Date.UTC(2026, 10, 2, 9);
  const setUp = async (budget: boolean) => {
    const db = new PaceDB(`bench-budget-${budget}-${Date.now()}-${Math.random()}`, { durability });
    const tokens = budget
      ? { inputPerMinute: PLANS.start.inputPerMinute, outputPerMinute: PLANS.start.outputPerMinute }
      : {};
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'paid', perMinute: 60, perMonth: 250_000, ...tokens });
    if (budget) await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 100_000, dailyUsd: 10_000 });
    await db.jobs.bulkAdd(
      Array.from({ length: count }, (_, i) => ({
        id: `j${i}`,
        conversationId: `c${i % 50}`,
        state: 'queued' as const,
        createdAt: i,
        attempts: 0,
      })),
    );
    return {
      db,
      open: [] as number[],
      samples: [] as number[],
      cost: budget ? COST : null,
      need: budget ? NEED : undefined,
    };
  };
  const runs = [await setUp(false), await setUp(true)];
  for (let i = 0; i < count; i++) {
    for (const run of runs) {
      const t0 = performance.now();
      const r = await admit(run.db, start + i * 1000, `j${i}`, {
        cost: run.cost,
        ...(run.need ? { need: run.need } : {}),
      });
      run.samples.push(performance.now() - t0);
      if (r.ok && r.usageId !== undefined) run.open.push(r.usageId);
      if (run.open.length > IN_FLIGHT) {
        const usage = { inputTokens: 1_800, outputTokens: 600, cacheReadTokens: 0, cacheCreationTokens: 0 };
        await settleUsage(run.db, run.open.shift()!, { outcome: 'ok', model: COST.model, usage, costUsd: 0.0144 });
      }
    }
  }
  await Promise.all(runs.map((r) => r.db.delete()));
  const [requestsOnly, withBudget] = runs.map((r) => percentiles(r.samples)) as [Percentiles, Percentiles];
  return { requestsOnly, withBudget, ratio: withBudget.median / requestsOnly.median };
}
