import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBudgetAlerts } from '@/lib/usage/budget-notifications';
import { NO_BUDGET } from '@/lib/limits/budget';
import type { Budget } from '@/lib/storage/rows';
import { saveBudget } from '@/lib/limits/budget-store';
import { DEFAULT_USAGE_PREFS } from '@/lib/settings/usage-prefs';
import { PaceDB } from '@/lib/storage/db';
import { saveLimits } from '@/lib/limits/limiter-store';
import { admit } from '@/lib/limits/admit';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { recordUsage, settleUsage } from '@/lib/usage/ledger-store';
import { estimateCost } from '@/lib/usage/prices';

let db: PaceDB;
let shown: { id: string; title: string; body: string }[];
const NOW = Date.UTC(2026, 10, 10, 12);
/** Sonnet 5.5 ($2 / $10 per million): with max_tokens 4,000 the next request reserves at least $0.04. */
const MODEL = 'claude-sonnet-5-5';

beforeEach(() => {
  db = new PaceDB(`budget-alerts-${Math.random()}`);
  shown = [];
});
afterEach(async () => {
  await db.delete();
});

const alerts = () =>
  createBudgetAlerts({
    db,
    prefs: async () => DEFAULT_USAGE_PREFS,
    notify: async (id, title, body) => void shown.push({ id, title, body }),
    settings: async () => ({ model: MODEL, maxTokens: 4_000 }),
    now: () => NOW,
    log: () => undefined,
  });

it('asked after every queue run, reads nothing else when no budget is set', async () => {
  const prefs = vi.fn(async () => DEFAULT_USAGE_PREFS);
  const settings = vi.fn(async () => ({ model: MODEL, maxTokens: 4_000 }));
  const budgetAlerts = createBudgetAlerts({
    db,
    prefs,
    notify: async () => undefined,
    settings,
    now: () => NOW,
    log: () => undefined,
  });
  await budgetAlerts.check();
  expect([prefs.mock.calls.length, settings.mock.calls.length]).toEqual([0, 0]);
  await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 5 });
  await budgetAlerts.check();
  expect([prefs.mock.calls.length, settings.mock.calls.length]).toEqual([1, 1]);
});

/** An answer that cost `usd`, in the ledger as the runner leaves it. */
const spend = (usd: number) =>
  recordUsage(db, {
    at: NOW,
    model: 'claude-sonnet-5-5',
    conversationId: 'c',
    messageId: 'm',
    outcome: 'ok',
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
    ttftMs: null,
    totalMs: 1,
    attempt: 1,
    fromCache: false,
    costUsd: usd,
  });

describe('spend budget alerts', () => {
  const budget = (patch: Partial<Budget> = {}): Budget => ({ ...NO_BUDGET, monthlyUsd: 10, ...patch });

  it('shows 80%, 95% and 100% of the monthly budget once each, even when checked twice at once', async () => {
    await saveBudget(db, budget());
    const a = alerts();
    await spend(7.9);
    await a.check();
    expect(shown).toEqual([]);
    await spend(0.2);
    await Promise.all([a.check(), alerts().check()]);
    expect(shown.map((s) => s.title)).toEqual(["Pace: 80% of this month's spend budget used"]);
    expect(shown[0]!.body).toBe('$8.10 of your $10.00 monthly budget spent; it resets 1 Dec, 00:00 UTC.');
    await spend(1.5);
    await a.check();
    await spend(0.5);
    await a.check();
    await a.check();
    expect(shown.map((s) => s.title)).toEqual([
      "Pace: 80% of this month's spend budget used",
      "Pace: 95% of this month's spend budget used",
      "Pace: this month's spend budget is used",
    ]);
  });

  it('in pause mode, says the budget is used once admission can send nothing more, though what is spent stays under it', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 100, perMonth: 1_000 });
    await saveBudget(db, budget({ monthlyUsd: 0.1 }));
    const a = alerts();
    const cost = { model: MODEL, inputTokens: 1_000, maxTokens: 4_000 };
    const usage = { inputTokens: 1_000, outputTokens: 4_000, cacheReadTokens: 0, cacheCreationTokens: 0 };
    const sendAndAnswer = async (id: string) => {
      await db.jobs.add({ id, conversationId: 'c', state: 'queued', createdAt: NOW, attempts: 0 });
      const r = await admit(db, NOW, id, { cost });
      if (!r.ok) return r;
      await settleUsage(db, r.usageId!, { outcome: 'ok', model: MODEL, usage, costUsd: estimateCost(MODEL, usage) });
      return r;
    };
    expect(await sendAndAnswer('j1')).toMatchObject({ ok: true });
    await a.check();
    expect(shown).toEqual([]);
    expect(await sendAndAnswer('j2')).toMatchObject({ ok: true });
    await a.check();
    // $0.084 spent: $0.016 left, less than any next request's $0.04 of answer. Nothing more goes.
    expect(await sendAndAnswer('j3')).toMatchObject({ ok: false, reason: 'refused' });
    expect(shown).toEqual([
      {
        id: expect.stringContaining('-100') as string,
        title: "Pace: this month's spend budget is used",
        body: '$0.08 of your $0.10 monthly budget spent. Pace sends nothing more until 1 Dec, 00:00 UTC.',
      },
    ]);
    await a.check();
    expect(shown).toHaveLength(1);
  });

  it('says nothing without a budget', async () => {
    await spend(50);
    await alerts().check();
    expect(shown).toEqual([]);
  });
});
