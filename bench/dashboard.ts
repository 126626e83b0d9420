/**
 * The usage page's time to first paint, in the built extension in Chromium: from navigation to the
 * page's `pace-usage-painted` mark (figures, charts and tables on screen), with an empty ledger
 * (the baseline) and with a year of ledger rows (about 100,000).
 */
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { launchChromiumWithExtension } from '../tests/e2e/support/chromium';
import { percentiles } from './stats';

const OUT = '.tmp/bench-ext';

async function paintTimes(page: Page, loads: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < loads; i++) {
    await page.reload();
    await page.locator('#root[data-ready=true]').waitFor({ timeout: 30_000 });
    times.push(await page.evaluate(() => performance.getEntriesByName('pace-usage-painted')[0]!.startTime));
  }
  return times;
}

const median = (xs: number[]) => percentiles(xs).median;

export async function benchDashboard(
  rows = 100_000,
  loads = 7,
): Promise<{ empty: number[]; full: number[]; seeded: { rows: number; days: number; months: number } } | string> {
  const built = spawnSync('npx', ['wxt', 'build'], { env: { ...process.env, PACE_OUT_DIR: OUT }, encoding: 'utf8' });
  if (built.status !== 0) return `the extension did not build: ${built.stderr.slice(-300)}`;
  const seedJs = (
    await build({ entryPoints: ['bench/usage-seed.ts'], bundle: true, write: false, format: 'iife', target: 'es2022' })
  ).outputFiles[0]!.text;
  const browser = await launchChromiumWithExtension(`${OUT}/chrome-mv3`);
  try {
    const page = await browser.open('usage.html', { width: 1100, height: 1400 });
    await page.locator('#root[data-ready=true]').waitFor({ timeout: 30_000 });
    const empty = await paintTimes(page, loads);
    // Evaluated through the DevTools protocol: the page's own CSP allows no inline script.
    await page.evaluate(seedJs);
    const seeded = await page.evaluate(
      ([n, now]) =>
        (
          globalThis as unknown as {
            seedUsage: (n: number, now: number) => Promise<{ rows: number; days: number; months: number }>;
          }
        ).seedUsage(n, now),
      [rows, Date.now()] as const,
    );
    const full = await paintTimes(page, loads);
    return { empty, full, seeded };
  } catch (err) {
    return `could not run in Chromium: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await browser.close();
  }
}

export function printDashboard(r: Awaited<ReturnType<typeof benchDashboard>>) {
  console.log('\n## Usage page: time to first paint in the built extension (Chromium), median of 7 loads\n');
  if (typeof r === 'string') {
    console.log(r);
    return;
  }
  const f = (n: number) => `${n.toFixed(0)} ms`;
  console.log('| ledger | rows | median | slowest |');
  console.log('|---|---|---|---|');
  console.log(`| empty (baseline) | 0 | ${f(median(r.empty))} | ${f(Math.max(...r.empty))} |`);
  console.log(
    `| a year of use | ${r.seeded.rows.toLocaleString('en-US')} (${r.seeded.days} day and ${r.seeded.months} month totals) | ${f(median(r.full))} | ${f(Math.max(...r.full))} |`,
  );
  console.log(`\nTarget (painted in under 500 ms with a year of rows): ${median(r.full) < 500 ? 'met' : 'MISSED'}`);
}
