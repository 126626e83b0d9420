import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import { formatDay } from '@/lib/limits/format';

export interface ChartSeries {
  label: string;
  values: number[];
  /** A CSS colour or a custom property of styles.css (`--accent`). */
  color: string;
  kind: 'bars' | 'line' | 'dashed';
}

export interface ChartTable {
  caption: string;
  /** Row headers (the days) and one column per series. */
  rows: string[];
  columns: { label: string; values: string[] }[];
}

const HEIGHT = 180;
const COMPACT = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** A palette colour as the canvas takes it: the page's colours are light-dark() pairs, resolved by the browser for the theme in force. */
function cssColor(color: string): string {
  if (!color.startsWith('--')) return color;
  const probe = document.createElement('span');
  probe.style.color = `var(${color}, #888)`;
  document.body.append(probe);
  const resolved = getComputedStyle(probe).color;
  probe.remove();
  return resolved || '#888';
}

/**
 * One uPlot chart over days (x in ms since the epoch), with its figures also as a table: always
 * in the page for screen readers, shown on screen on request. The canvas is hidden from them.
 */
export function UsageChart({
  title,
  x,
  series,
  table,
  testId,
}: {
  title: string;
  x: number[];
  series: ChartSeries[];
  table: ChartTable;
  testId: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [showTable, setShowTable] = useState(false);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const bars = uPlot.paths.bars?.({ size: [0.6, 40] });
    const muted = cssColor('--muted');
    const line = cssColor('--line');
    const axis = { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
    const xAxis = { ...axis, values: (_u: uPlot, splits: number[]) => splits.map((t) => formatDay(t * 1000, 'local')) };
    const yAxis = { ...axis, size: 56, values: (_u: uPlot, splits: number[]) => splits.map((n) => COMPACT.format(n)) };
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: HEIGHT,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
        axes: [xAxis, yAxis],
        legend: { show: true },
        cursor: { points: { show: false } },
        series: [
          { label: 'Day', value: (_u: uPlot, t: number | null) => (t === null ? '-' : formatDay(t * 1000, 'local')) },
          ...series.map((s) => {
            const stroke = cssColor(s.color);
            return s.kind === 'bars'
              ? { label: s.label, stroke, fill: stroke, alpha: 0.75, width: 0, paths: bars, points: { show: false } }
              : {
                  label: s.label,
                  stroke,
                  width: 2,
                  dash: s.kind === 'dashed' ? [6, 4] : undefined,
                  points: { show: false },
                };
          }),
        ],
      },
      // uPlot's time scale counts seconds.
      [x.map((t) => t / 1000), ...series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series]);

  return (
    <section className="usage-card usage-chart" aria-labelledby={`${testId}-title`} data-testid={testId}>
      <div className="usage-card-head">
        <h2 id={`${testId}-title`}>{title}</h2>
        <button type="button" className="link" aria-expanded={showTable} onClick={() => setShowTable((v) => !v)}>
          {showTable ? 'Hide table' : 'Show as table'}
        </button>
      </div>
      <div ref={box} className="chart-box" aria-hidden="true" />
      <div className={showTable ? 'usage-table-wrap' : 'sr-only'}>
        <table className="usage-table">
          <caption>{table.caption}</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              {table.columns.map((c) => (
                <th scope="col" key={c.label}>
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((r, i) => (
              <tr key={r}>
                <th scope="row">{r}</th>
                {table.columns.map((c) => (
                  <td key={c.label}>{c.values[i]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
