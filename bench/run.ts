/**
 * `npm run bench` (or `npm run bench -- limiter admission budget cache dashboard worker popup firstword`, any of them): prints figures, each beside a baseline measured in the same run. It never fails
 * on a slow machine; it says whether each target was met.
 */
import 'fake-indexeddb/auto';
import { createServer } from 'node:http';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { benchAdmission, type Timings } from './admission-core';
import { benchBudgetAdmission, type BudgetTimings } from './budget-admission';
import { benchCacheLookup, type LookupTimings } from './cache-core';
import { benchDashboard, printDashboard } from './dashboard';
import { benchPopupOpen, benchWorkerColdStart, printSizes } from './extension-speed';
import { CHROMIUM } from '../tests/e2e/support/chromium';
import { benchFirstWord, printFirstWord } from './firstword';
import { capacityUsed, PER_MINUTE, runBottleneck, runPace, runPQueue, trace, worstWindow } from './limiter-trace';

const ms = (n: number) => `${n.toFixed(3)} ms`;
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;

async function limiterTrace() {
  const arrivals = trace();
  console.log(
    `\n## Limiter on one trace: ${arrivals.length} prompts in bursts over 30 simulated minutes, ${PER_MINUTE} a minute\n`,
  );
  console.log('| limiter | sent | worst rolling 60 s | windows over N | capacity used |');
  console.log('|---|---|---|---|---|');
  const rows: [string, number[]][] = [
    ['Pace (rolling window)', runPace(arrivals)],
    ['Bottleneck (reservoir, refreshed every 60 s)', await runBottleneck(arrivals)],
    ['p-queue (intervalCap N per 60 s)', await runPQueue(arrivals)],
  ];
  for (const [name, sends] of rows) {
    const sorted = [...sends].sort((a, b) => a - b);
    const over = sorted.filter(
      (t, i) => sorted.slice(0, i + 1).filter((u) => u > t - 60_000).length > PER_MINUTE,
    ).length;
    console.log(`| ${name} | ${sends.length} | ${worstWindow(sends)} | ${over} | ${pct(capacityUsed(sends))} |`);
  }
  const pace = rows[0]![1];
  const ok = worstWindow(pace) <= PER_MINUTE && capacityUsed(pace) >= 0.99;
  console.log(`\nPace target (no window over ${PER_MINUTE}, at least 99% of capacity used): ${ok ? 'met' : 'MISSED'}`);
}

/** Runs `call` in a Chromium page on 127.0.0.1 that loaded the benchmarks' bundle: real IndexedDB. */
async function inChromium<T>(call: (page: import('playwright-core').Page) => Promise<T>): Promise<T | string> {
  const bundle = await build({
    entryPoints: ['bench/browser-entry.ts'],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2022',
  });
  const js = bundle.outputFiles[0]!.text;
  const server = createServer((req, res) => {
    if (req.url === '/bench.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script src="/bench.js"></script>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    return await call(page);
  } catch (err) {
    return `could not run in Chromium: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await browser.close();
    server.close();
  }
}

async function admissionCost() {
  console.log(
    '\n## Cost of one admission (the whole IndexedDB transaction), 10,000 admissions, Paid plan at one a second\n',
  );
  console.log('| where | admission median | admission p99 | baseline median | baseline p99 |');
  console.log('|---|---|---|---|---|');
  const node = await benchAdmission(10_000);
  console.log(
    `| Node, fake-indexeddb | ${ms(node.admission.median)} | ${ms(node.admission.p99)} | ${ms(node.baseline.median)} | ${ms(node.baseline.p99)} |`,
  );
  const browser = await inChromium((page) =>
    page.evaluate(() =>
      (
        globalThis as unknown as {
          runAdmissionBench: (n: number, d: string) => Promise<{ admission: Timings; baseline: Timings }>;
        }
      ).runAdmissionBench(10_000, 'relaxed'),
    ),
  );
  if (typeof browser === 'string') {
    console.log(`| Chromium, IndexedDB | ${browser} | | | |`);
    return;
  }
  console.log(
    `| Chromium, IndexedDB | ${ms(browser.admission.median)} | ${ms(browser.admission.p99)} | ${ms(browser.baseline.median)} | ${ms(browser.baseline.p99)} |`,
  );
  console.log('\nBaseline: a bare read-write transaction that puts one row, on the same database.');
  console.log(`Chromium target (p99 under 2 ms): ${browser.admission.p99 < 2 ? 'met' : 'MISSED'}`);
}

async function budgetAdmissionCost() {
  console.log(
    '\n## Admission with a spend budget and token limits on, against requests-only admission in the same run, 3,000 admissions each, 3 requests on their way\n',
  );
  console.log('| where | requests only median | p99 | with budget and token limits median | p99 | ratio of medians |');
  console.log('|---|---|---|---|---|---|');
  const row = (where: string, r: BudgetTimings) =>
    console.log(
      `| ${where} | ${ms(r.requestsOnly.median)} | ${ms(r.requestsOnly.p99)} | ${ms(r.withBudget.median)} | ${ms(r.withBudget.p99)} | ${r.ratio.toFixed(2)}x |`,
    );
  const node = await benchBudgetAdmission();
  row('Node, fake-indexeddb', node);
  const browser = await inChromium((page) =>
    page.evaluate(() =>
      (globalThis as unknown as { runBudgetBench: (n: number, d: string) => Promise<BudgetTimings> }).runBudgetBench(
        3_000,
        'relaxed',
      ),
    ),
  );
  if (typeof browser === 'string') console.log(`| Chromium, IndexedDB | ${browser} | | | | |`);
  else row('Chromium, IndexedDB', browser);
  const ratio = typeof browser === 'string' ? node.ratio : browser.ratio;
  console.log(
    `\nTarget (with budget and token limits within 1.25x of requests only${typeof browser === 'string' ? ', Node' : ', Chromium'}): ${ratio <= 1.25 ? 'met' : 'MISSED'}`,
  );
}

async function cacheLookupCost() {
  console.log(
    '\n## Response cache lookup with 10,000 answers stored (hash the request, read the entry; its "used" mark is batched), 2,000 lookups, 90% hits\n',
  );
  console.log('| where | lookup median | lookup p99 | hits | baseline median | baseline p99 |');
  console.log('|---|---|---|---|---|---|');
  const node = await benchCacheLookup();
  const row = (where: string, r: { lookup: LookupTimings; baseline: LookupTimings }) =>
    console.log(
      `| ${where} | ${ms(r.lookup.median)} | ${ms(r.lookup.p99)} | ${r.lookup.hits} | ${ms(r.baseline.median)} | ${ms(r.baseline.p99)} |`,
    );
  row('Node, fake-indexeddb', node);
  const browser = await inChromium((page) =>
    page.evaluate(() =>
      (
        globalThis as unknown as { runCacheBench: () => Promise<{ lookup: LookupTimings; baseline: LookupTimings }> }
      ).runCacheBench(),
    ),
  );
  if (typeof browser === 'string') {
    console.log(`| Chromium, IndexedDB | ${browser} | | | | |`);
    return;
  }
  row('Chromium, IndexedDB', browser);
  console.log('\nBaseline: a bare read of one entry by its key, on the same table.');
  console.log(`Chromium target (p99 under 5 ms): ${browser.lookup.p99 < 5 ? 'met' : 'MISSED'}`);
}

// `npm run bench -- cache dashboard` runs only those sections; no argument runs them all.
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);
if (wanted('limiter')) await limiterTrace();
if (wanted('admission')) await admissionCost();
if (wanted('budget')) await budgetAdmissionCost();
if (wanted('cache')) await cacheLookupCost();
if (wanted('dashboard')) printDashboard(await benchDashboard());
if (wanted('worker') || wanted('popup')) await printSizes();
if (wanted('worker')) await benchWorkerColdStart();
if (wanted('popup')) await benchPopupOpen();
if (wanted('firstword')) printFirstWord(await benchFirstWord());
