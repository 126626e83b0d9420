import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBudgetAlerts } from '@/lib/background/budget-alerts';
import { NO_BUDGET, type Budget } from '@/lib/limits/budget';
import { saveBudget } from '@/lib/limits/budget-store';
import { DEFAULT_USAGE_PREFS } from '@/lib/settings/usage-prefs';
import { PaceDB } from '@/lib/storage/db';
import { recordUsage } from '@/lib/usage/ledger-store';

let db: PaceDB;
let shown: { id: string; title: string; body: string }[];
const NOW = Date.UTC(2026, 10, 10, 12);

beforeEach(() => {
  db = new PaceDB(`budget-alerts-${Math.random()}`);
  shown = [];
});
afterEach(async () => {
  await db.delete();
});

const alerts = () =>
  createBudgetAlerts({ db, prefs: async () => DEFAULT_USAGE_PREFS, notify: async (id, title, body) => void shown.push({ id, title, body }), now: () => NOW, log: () => undefined });

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

  it('says nothing without a budget', async () => {
    await spend(50);
    await alerts().check();
    expect(shown).toEqual([]);
  });
});
