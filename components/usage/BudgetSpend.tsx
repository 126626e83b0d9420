import { useLiveQuery } from 'dexie-react-hooks';
import { useMemo } from 'react';
import { formatDay } from '@/lib/limits/format';
import { getDb } from '@/lib/storage/db';
import type { BudgetSpend as Spend } from '@/lib/usage/budget-summary';
import { readBudgetSpend } from '@/lib/usage/read-budget-spend';
import { formatUsd } from '@/lib/usage/summary';
import { UsageChart, type ChartSeries, type ChartTable } from './UsageChart';

/** This month's spend against the monthly budget, as a chart and a table, with the projection; nothing without a monthly budget. */
export function BudgetSpend() {
  const data = useLiveQuery(() => readBudgetSpend(getDb(), Date.now()), []);
  const chart = useMemo(() => (data ? chartOf(data) : null), [data]);
  if (!data || !chart) return null;
  return (
    <>
      <section className="usage-card" aria-labelledby="budget-title" data-testid="usage-budget">
        <h2 id="budget-title">Spend budget this month</h2>
        <p className="usage-big">
          {formatUsd(data.spent)} <span className="hint">of {formatUsd(data.limit)}</span>
        </p>
        <p data-testid="usage-budget-projection">{data.sentence}</p>
      </section>
      <UsageChart
        title="Spend against the budget"
        testId="chart-budget"
        x={chart.x}
        series={chart.series}
        table={chart.table}
      />
    </>
  );
}

function chartOf(s: Spend): { x: number[]; series: ChartSeries[]; table: ChartTable } {
  const series: ChartSeries[] = [
    { label: 'Spent this month (US$)', values: s.days.map((d) => d.total), color: '--accent', kind: 'line' },
    { label: 'Budget (US$)', values: s.days.map(() => s.limit), color: '--err', kind: 'dashed' },
  ];
  return {
    x: s.days.map((d) => d.start),
    series,
    table: {
      caption: `Estimated spend each day of this month, and in all so far, against the monthly budget of ${formatUsd(s.limit)}`,
      rows: s.days.map((d) => formatDay(d.start, 'local')),
      columns: [
        { label: 'Spent that day', values: s.days.map((d) => formatUsd(d.spent)) },
        { label: 'Spent this month so far', values: s.days.map((d) => formatUsd(d.total)) },
      ],
    },
  };
}
