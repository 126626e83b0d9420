import { useEffect, useMemo, useRef } from 'react';
import { formatCount, formatDay, formatReset } from '@/lib/limits/format';
import { noMonthCap } from '@/lib/limits/plans';
import type { Limits } from '@/lib/storage/rows';
import { PRICES_AS_OF } from '@/lib/usage/prices';
import { formatMs, formatUsd, type UsageSummary } from '@/lib/usage/summary';
import { BudgetSpend } from './BudgetSpend';
import { AllDevices } from '../quota/AllDevices';
import { ExportButtons } from './ExportButtons';
import { TokenPeaks } from './TokenPeaks';
import { UsageChart, type ChartSeries, type ChartTable } from './UsageChart';
import { useUsageSummary } from './use-usage-summary';

/** The usage page: this month's figures, the last 30 days as charts, exports. Read-only. */
export function UsageDashboard({ onPainted }: { onPainted?: () => void }) {
  const data = useUsageSummary();
  const painted = useRef(false);
  useEffect(() => {
    if (data && !painted.current) {
      painted.current = true;
      onPainted?.();
    }
  }, [data, onPainted]);

  return (
    <main className="usage-page" aria-busy={!data}>
      <header className="usage-head">
        <div>
          <h1>Usage</h1>
          <p className="hint">
            Requests, tokens and estimated spend from this browser. Costs are estimates from Anthropic&apos;s list
            prices as of {PRICES_AS_OF}.
          </p>
        </div>
        {data && !data.summary.empty && <ExportButtons />}
      </header>
      <AllDevices />
      {!data ? (
        <p className="hint" role="status">
          Loading usage…
        </p>
      ) : data.summary.empty ? (
        <section className="usage-card usage-empty" data-testid="usage-empty">
          <h2>No usage yet</h2>
          <p>Once you ask Claude something from the toolbar, the requests, tokens and estimated spend show up here.</p>
        </section>
      ) : (
        <Figures summary={data.summary} limits={data.limits} />
      )}
    </main>
  );
}

function Figures({ summary: s, limits }: { summary: UsageSummary; limits: Limits }) {
  const charts = useMemo(() => chartData(s), [s]);
  return (
    <>
      {s.suggestion && (
        <p className="usage-suggestion" role="note" data-testid="usage-suggestion">
          {s.suggestion.text}
        </p>
      )}
      <div className="usage-cards">
        <section className="usage-card" aria-labelledby="month-title" data-testid="usage-month">
          <h2 id="month-title">This month</h2>
          <p className="usage-big">
            {formatCount(s.month.requests)}{' '}
            <span className="hint">
              {noMonthCap(s.month) ? 'requests (no monthly cap)' : `of ${formatCount(s.month.perMonth)} requests`}
            </span>
          </p>
          <p data-testid="usage-spend">
            Estimated spend: <strong>{formatUsd(s.month.costUsd)}</strong>
            {s.month.unknownCost > 0 && (
              <span className="hint">
                {' '}
                + {formatCount(s.month.unknownCost)} request{s.month.unknownCost === 1 ? '' : 's'} with cost unknown
                (model not in the price list)
              </span>
            )}
          </p>
          <p data-testid="usage-projection">{s.projection.sentence}</p>
          <p className="hint">The month resets {formatReset(s.month.end, limits.monthStart)}.</p>
        </section>
        <section className="usage-card" aria-labelledby="latency-title" data-testid="usage-latency">
          <h2 id="latency-title">Response time</h2>
          <dl className="usage-dl">
            <dt>Whole answer, median</dt>
            <dd>{formatMs(s.latency.median)}</dd>
            <dt>Whole answer, 95th percentile</dt>
            <dd>{formatMs(s.latency.p95)}</dd>
            <dt>First words, median</dt>
            <dd>{formatMs(s.latency.ttftMedian)}</dd>
            <dt>First words, 95th percentile</dt>
            <dd>{formatMs(s.latency.ttftP95)}</dd>
          </dl>
          <p className="hint">This month; each figure is the top of its range (under 1.1 s, under 1.5 s...).</p>
        </section>
        <section className="usage-card" aria-labelledby="cache-title" data-testid="usage-cache">
          <h2 id="cache-title">Answered from the cache</h2>
          <p className="usage-big">{formatCount(s.cache.hits)}</p>
          <p>
            {s.cache.hits === 0
              ? 'No repeated questions this month.'
              : `Repeated questions answered without a request, saving about ${formatUsd(s.cache.savedUsd)}.`}
          </p>
          <p data-testid="prompt-cache-saved">
            {s.cache.promptCacheSavedUsd >= 0
              ? `Saved by Anthropic's prompt cache: ${formatUsd(s.cache.promptCacheSavedUsd)} this month.`
              : `Anthropic's prompt cache cost ${formatUsd(-s.cache.promptCacheSavedUsd)} more than it saved this month (prompts written to it but not read again in time).`}
          </p>
        </section>
      </div>
      <BudgetSpend />
      <UsageChart
        title="Requests per day"
        testId="chart-requests"
        x={charts.x}
        series={charts.requests}
        table={charts.requestsTable}
      />
      <UsageChart
        title="Tokens per day"
        testId="chart-tokens"
        x={charts.x}
        series={charts.tokens}
        table={charts.tokensTable}
      />
      <TokenPeaks />
      <UsageChart
        title="Errors and rate limits per day"
        testId="chart-errors"
        x={charts.x}
        series={charts.errors}
        table={charts.errorsTable}
      />
      <section className="usage-card" aria-labelledby="top-title" data-testid="usage-top">
        <h2 id="top-title">Costliest conversations this month</h2>
        {s.topConversations.length === 0 ? (
          <p className="hint">No priced requests yet this month.</p>
        ) : (
          <table className="usage-table">
            <caption className="sr-only">
              The five conversations with the highest estimated cost this month, and the part of it spent on input (the
              prompt, prompt-cache writes and reads)
            </caption>
            <thead>
              <tr>
                <th scope="col">Conversation</th>
                <th scope="col">Estimated cost</th>
                <th scope="col">of which input</th>
              </tr>
            </thead>
            <tbody>
              {s.topConversations.map((c) => (
                <tr key={c.id}>
                  <th scope="row">{c.title ?? <span className="hint">Deleted conversation</span>}</th>
                  <td>{formatUsd(c.costUsd)}</td>
                  <td>{c.inputCostUsd === null ? '-' : formatUsd(c.inputCostUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

function chartData(s: UsageSummary) {
  const x = s.days.map((d) => d.start);
  const rows = s.days.map((d) => formatDay(d.start, 'local'));
  const col = (label: string, values: number[], fmt = formatCount) => ({ label, values: values.map(fmt) });
  const requests: ChartSeries[] = [
    { label: 'Requests', values: s.days.map((d) => d.requests), color: '--accent', kind: 'bars' },
    { label: 'Daily pace of the plan', values: s.days.map((d) => d.pace), color: '--muted', kind: 'dashed' },
  ];
  const tokens: ChartSeries[] = [
    { label: 'Input tokens', values: s.days.map((d) => d.inputTokens), color: '--accent', kind: 'line' },
    { label: 'Output tokens', values: s.days.map((d) => d.outputTokens), color: '--ok', kind: 'line' },
  ];
  const errors: ChartSeries[] = [
    { label: 'Failed requests', values: s.days.map((d) => d.errors), color: '--err', kind: 'bars' },
    { label: 'of which rate limited (429)', values: s.days.map((d) => d.rateLimited), color: '--accent', kind: 'line' },
  ];
  const requestsTable: ChartTable = {
    caption: `Requests per day over the last 30 days, against the plan's daily pace of ${formatCount(Math.round(s.dailyPace))}`,
    rows,
    columns: [
      col('Requests', requests[0]!.values),
      col(
        'Answered from the cache',
        s.days.map((d) => d.cacheHits),
      ),
    ],
  };
  const tokensTable: ChartTable = {
    caption: 'Input and output tokens per day over the last 30 days',
    rows,
    columns: [col('Input tokens', tokens[0]!.values), col('Output tokens', tokens[1]!.values)],
  };
  const errorsTable: ChartTable = {
    caption:
      'Failed requests per day over the last 30 days, and how many of them Anthropic refused as rate limited (429)',
    rows,
    columns: [col('Failed requests', errors[0]!.values), col('Rate limited (429)', errors[1]!.values)],
  };
  return { x, requests, tokens, errors, requestsTable, tokensTable, errorsTable };
}
