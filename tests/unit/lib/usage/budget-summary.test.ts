import { describe, expect, it } from 'vitest';
import { NO_BUDGET, type PeriodSpend } from '@/lib/limits/budget';
import type { Budget } from '@/lib/storage/rows';
import { budgetAlertText, dueBudgetAlerts } from '@/lib/usage/budget-alerts';
import { budgetSpend, projectSpend } from '@/lib/usage/budget-summary';
import { emptyTotals } from '@/lib/usage/totals';

const START = Date.UTC(2026, 11, 1);
const END = Date.UTC(2027, 0, 1);
const DAY = 86_400_000;
const all = { at80: true, at95: true, at100: true };
const month = (settled: number, limit = 20): PeriodSpend => ({
  period: 'month',
  limit,
  settled,
  reserved: 0,
  end: END,
  key: 'utc:2026-12',
});
const budget = (patch: Partial<Budget> = {}): Budget => ({ ...NO_BUDGET, monthlyUsd: 20, ...patch });

describe('projectSpend', () => {
  it('says when the budget is reached at this pace', () => {
    // $10 in 10 days: $1 a day reaches $20 ten days later.
    expect(projectSpend(10, 20, START + 10 * DAY, START, END, 'utc')).toEqual({
      reachesBudgetAt: START + 20 * DAY,
      sentence: 'At this pace you reach $20.00 on 21 Dec.',
    });
  });
  it('says what the month will cost when the pace stays under the budget', () => {
    expect(projectSpend(1, 20, START + 10 * DAY, START, END, 'utc').sentence).toBe(
      'At this pace you will spend about $3.10 of your $20.00 budget by 1 Jan.',
    );
  });
  it('says so when nothing is spent or the budget is used', () => {
    expect(projectSpend(0, 20, START + DAY, START, END, 'utc').sentence).toBe(
      'Nothing spent yet this month; $20.00 of budget until 1 Jan.',
    );
    expect(projectSpend(20, 20, START + DAY, START, END, 'utc').sentence).toBe(
      'You have spent $20.00 of your $20.00 budget this month; it resets on 1 Jan.',
    );
  });
});

describe('budgetSpend', () => {
  it("adds up the month's days, a zero for a day with no spend", () => {
    const start = new Date(2026, 11, 1).getTime();
    const day = (d: string, costUsd: number) => ({ ...emptyTotals(), day: d, costUsd });
    const s = budgetSpend(
      new Date(2026, 11, 3, 12).getTime(),
      month(3),
      start,
      [day('2026-12-01', 1), day('2026-12-03', 2)],
      'local',
    );
    expect(s.days.map((d) => [d.spent, d.total])).toEqual([
      [1, 1],
      [0, 1],
      [2, 3],
    ]);
    expect(s).toMatchObject({ limit: 20, spent: 3 });
  });
});

describe('dueBudgetAlerts', () => {
  it('fires each threshold once a period, the highest only when several pass at once', () => {
    const first = dueBudgetAlerts(null, budget(), [month(16.5)], all);
    expect(first.fire.map((f) => f.threshold)).toEqual([80]);
    expect(dueBudgetAlerts(first.state, budget(), [month(17)], all).fire).toEqual([]);
    const jump = dueBudgetAlerts(first.state, budget(), [month(20)], all);
    expect(jump.fire.map((f) => f.threshold)).toEqual([100]);
    expect(dueBudgetAlerts(jump.state, budget(), [month(25)], all).fire).toEqual([]);
    // A new month starts over.
    expect(
      dueBudgetAlerts(jump.state, budget(), [{ ...month(16.5), key: 'utc:2027-01' }], all).fire.map((f) => f.threshold),
    ).toEqual([80]);
  });

  it('always says, in warn-only mode, that the budget is passed', () => {
    const off = { at80: false, at95: false, at100: false };
    const due = dueBudgetAlerts(null, budget({ whenReached: 'warn' }), [month(21)], off);
    expect(due.fire.map((f) => f.threshold)).toEqual([100]);
    expect(budgetAlertText(due.fire[0]!, budget({ whenReached: 'warn' }), '1 Jan, 00:00 UTC')).toEqual({
      title: "Pace: this month's spend budget is passed",
      body: '$21.00 of your $20.00 monthly budget spent. Warn only: Pace keeps sending; choose "Pause" under Spend budget in the options to stop at the budget.',
    });
    expect(dueBudgetAlerts(null, budget(), [month(21)], off).fire).toEqual([]);
  });
});
