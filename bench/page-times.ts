/**
 * When an extension page became usable, in the page's own clock (from the start of its navigation),
 * measured two ways: with the page opened by Playwright, and with it opened by Chromium alone.
 *
 * Playwright attaches to every new page and sets it up before letting it run; the page's clock
 * counts that time, which a user clicking the toolbar button never waits for (here it added 5-61
 * ms to the popup, 6-39 ms to a page holding only a message box). So the popup is also opened with no driver attached:
 * Chromium is started by itself on a copy of the build, in which a runner page
 * (bench-runner.html, opened by a line added to the copy's worker when it is installed) opens each
 * page in a tab in turn, and each page reports its own times to it; the runner posts them all here.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, chromiumArgs } from '../tests/e2e/support/chromium';

/** A page's times, ms from the start of its navigation. */
export interface PageTimes {
  /** The message box took focus. */
  usable?: number;
  /** React has drawn the chat (its top bar is there; popup.html's own, marked data-early, is not React's). */
  drawn?: number;
  /** The month's quota is on screen (QuotaBar's, or the early line's before it: .quota-month with its figure). */
  quota?: number;
  /** The first contentful paint. */
  painted?: number;
  /** The load event started. */
  loaded: number;
}

export type TimeName = keyof PageTimes;

/** A page to open: its path in the build (or `html` to write there), and the times to wait for besides its load. */
export interface BenchPage {
  path: string;
  html?: string;
  want: TimeName[];
}

/** Run in the page before anything of its own: records when the box takes focus and when React has drawn. */
export const MARK_TIMES = `(() => {
  const times = (window.paceTimes = {});
  new MutationObserver((_, observer) => {
    if (times.quota === undefined && document.querySelector('.quota-month strong')) times.quota = performance.now();
    if (times.drawn === undefined && document.querySelector('header.topbar:not([data-early])')) times.drawn = performance.now();
    if (times.quota !== undefined && times.drawn !== undefined) observer.disconnect();
  }).observe(document, { childList: true, subtree: true });
  document.addEventListener('focusin', (e) => {
    if (times.usable === undefined && e.target.matches('textarea[aria-label="Message"]')) times.usable = performance.now();
  }, true);
})();`;

/**
 * Run in the page: its times once its load event and every time named in `want` are in, else null.
 * (Its source is also written into bench-times.js: it names no function, so it reads the same there.)
 */
export function timesOnceIn(want: TimeName[]): PageTimes | null {
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  if (!nav || nav.loadEventStart === 0) return null;
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const times: PageTimes = {
    ...(window as unknown as { paceTimes: object }).paceTimes,
    loaded: nav.loadEventStart,
    painted: paint?.startTime,
  };
  return want.every((name) => times[name] !== undefined) ? times : null;
}

/** bench-times.js, each page's first script when Chromium opens it alone: marks, then reports once all is in. */
const TIMES_SCRIPT = `${MARK_TIMES}
addEventListener('load', () => {
  const want = (new URLSearchParams(location.search).get('bench') || '').split(',').filter(Boolean);
  const channel = new BroadcastChannel('pace-bench');
  const report = () => {
    const times = (${timesOnceIn.toString()})(want);
    if (times) channel.postMessage({ path: location.pathname.slice(1), times });
    else setTimeout(report, 5);
  };
  report();
});`;

/** bench-runner.js: opens each page in a tab, `runs` + 1 rounds (the first is not counted), and posts what they report. */
const runnerScript = (pages: BenchPage[], runs: number, reportTo: string) => `(async () => {
  const post = (body) => fetch(${JSON.stringify(reportTo)}, { method: 'POST', body: JSON.stringify(body) });
  try {
    const channel = new BroadcastChannel('pace-bench');
    const reports = [];
    for (let round = 0; round <= ${runs}; round++) {
      for (const page of ${JSON.stringify(pages.map((p) => ({ path: p.path, want: p.want })))}) {
        const reported = new Promise((done, fail) => {
          channel.onmessage = (e) => done(e.data);
          setTimeout(() => fail(new Error(page.path + ' reported no times within 30 s')), 30000);
        });
        const tab = await chrome.tabs.create({ url: page.path + '?bench=' + page.want.join(',') });
        const report = await reported;
        // The first round also wakes the worker and opens the database for the first time.
        if (round > 0) reports.push(report);
        await chrome.tabs.remove(tab.id);
      }
    }
    await post({ reports });
  } catch (e) {
    await post({ error: String(e) });
  }
})();`;

function withTimesScript(html: string): string {
  if (!/<head>/i.test(html)) throw new Error('A bench page needs a <head> for its times script.');
  return html.replace(/<head>/i, '<head><script src="/bench-times.js"></script>');
}

/**
 * Opens each page `runs` times, alternating, in Chromium started alone on a copy of the build at
 * `build`; the times of each page by path. The bench-times script is each page's first and is
 * fetched before the page goes on, so the figures are a little slower than the page alone.
 */
export async function timesOpenedByChromiumAlone(
  build: string,
  pages: BenchPage[],
  runs: number,
): Promise<Map<string, PageTimes[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'pace-bench-alone-'));
  const profile = mkdtempSync(join(tmpdir(), 'pace-bench-profile-'));
  cpSync(build, dir, { recursive: true });
  writeFileSync(join(dir, 'bench-times.js'), TIMES_SCRIPT);
  for (const page of pages)
    writeFileSync(join(dir, page.path), withTimesScript(page.html ?? readFileSync(join(dir, page.path), 'utf8')));
  const worker = readFileSync(join(dir, 'background.js'), 'utf8');
  writeFileSync(
    join(dir, 'background.js'),
    `${worker}\n;chrome.runtime.onInstalled.addListener(() => chrome.tabs.create({ url: 'bench-runner.html' }));\n`,
  );
  writeFileSync(
    join(dir, 'bench-runner.html'),
    '<!doctype html><meta charset="utf-8"><title>bench</title><script src="/bench-runner.js"></script>',
  );

  let received: (body: string) => void = () => {};
  const body = new Promise<string>((done) => (received = done));
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.end('ok');
      received(text);
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  writeFileSync(join(dir, 'bench-runner.js'), runnerScript(pages, runs, `http://127.0.0.1:${port}/`));

  const chromium = spawn(CHROMIUM, [...chromiumArgs(dir), `--user-data-dir=${profile}`], { stdio: 'ignore' });
  const exited = new Promise<void>((done) => chromium.once('exit', () => done()));
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>(
      (_, fail) =>
        (timer = setTimeout(() => fail(new Error('Chromium alone reported nothing within 5 minutes')), 300_000)),
    );
    const result = JSON.parse(
      await Promise.race([body, timeout, exited.then(() => Promise.reject(new Error('Chromium exited')))]),
    ) as {
      reports?: { path: string; times: PageTimes }[];
      error?: string;
    };
    if (!result.reports) throw new Error(`The bench runner page failed: ${result.error}`);
    const byPath = new Map<string, PageTimes[]>(pages.map((p) => [p.path, []]));
    for (const { path, times } of result.reports) byPath.get(path)!.push(times);
    return byPath;
  } finally {
    clearTimeout(timer);
    server.close();
    chromium.kill();
    await exited;
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  }
}
