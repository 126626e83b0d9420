/**
 * The built extension in real Chromium: the worker's cold start and the popup's open-to-usable, each
 * beside a baseline from the same run, and the size of what each loads. Reads the Chrome build in
 * `$PACE_OUT_DIR/chrome-mv3` (default `.output`): run `npx wxt build` first.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BrowserContext } from 'playwright-core';
import { launchChromiumWithExtension } from '../tests/e2e/support/chromium';

const BUILD = resolve(`${process.env.PACE_OUT_DIR ?? '.output'}/chrome-mv3`);
const RUNS = 15;
const WORKER_KB = 250;
const POPUP_GZIP_KB = 150;
const POPUP_MS = 100;

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** A blank page added to a copy of the build: it wakes the worker and is the popup's baseline. */
const BLANK_PAGE = '<!doctype html><meta charset="utf-8"><title>blank</title><body></body>';
/** The whole of the empty worker: it says when its script ran, as Pace's says when its queue ran. */
const EMPTY_WORKER = `chrome.runtime.onConnect.addListener((port) => port.disconnect());
globalThis.paceQueueRunningAt = performance.timeOrigin + performance.now();`;

function copyOfBuild(emptyWorker: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'pace-bench-ext-'));
  cpSync(BUILD, dir, { recursive: true });
  writeFileSync(join(dir, 'blank.html'), BLANK_PAGE);
  if (emptyWorker) writeFileSync(join(dir, 'background.js'), EMPTY_WORKER);
  return dir;
}

/**
 * The popup's scripts: its entry and every chunk popup.html preloads, not those loaded later; the
 * entry and preloads may be named on the early script (data-main, data-preload), which starts them
 * once the message box has focus, and that script counts too.
 */
function popupScripts(): string[] {
  const html = readFileSync(join(BUILD, 'popup.html'), 'utf8');
  const named = [...html.matchAll(/(?:src|href|data-main|data-preload)="([^"]+)"/g)].flatMap((m) => m[1]!.split(' '));
  return named.filter((f) => f.endsWith('.js')).map((f) => f.replace(/^\//, ''));
}

export function printSizes(): void {
  console.log('\n## What the worker and the popup load\n');
  const worker = statSync(join(BUILD, 'background.js')).size;
  const scripts = popupScripts();
  const gz = scripts.reduce((sum, f) => sum + gzipSync(readFileSync(join(BUILD, f))).length, 0);
  const later = readdirSync(join(BUILD, 'chunks')).filter((f) => f.endsWith('.js') && !scripts.includes(`chunks/${f}`));
  console.log(`background.js: ${kb(worker)} (target under ${WORKER_KB} KB: ${verdict(worker < WORKER_KB * 1000)})`);
  console.log(`popup at open: ${scripts.length} scripts, ${kb(gz)} gzip (target under ${POPUP_GZIP_KB} KB: ${verdict(gz < POPUP_GZIP_KB * 1000)})`);
  console.log(`chunks not loaded at open: ${later.join(', ')}`);
}

/** From a stopped worker to its queue running, woken by a page connecting; ms, one per run. */
async function coldStarts(emptyWorker: boolean): Promise<number[]> {
  const dir = copyOfBuild(emptyWorker);
  const browser = await launchChromiumWithExtension(dir);
  try {
    const page = await browser.open('blank.html');
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    const times: number[] = [];
    // The first start, just after install, also creates the database: not a cold start.
    let last = await pollRunning(browser.context, undefined);
    while (times.length < RUNS) {
      const stopped = new Promise<void>((done) => {
        const seen = ({ versions }: { versions: { runningStatus: string }[] }) => {
          if (versions.some((v) => v.runningStatus !== 'stopped')) return;
          cdp.off('ServiceWorker.workerVersionUpdated', seen);
          done();
        };
        cdp.on('ServiceWorker.workerVersionUpdated', seen);
      });
      await cdp.send('ServiceWorker.stopAllWorkers');
      await stopped;
      const wokenAt = await page.evaluate(() => {
        const at = performance.timeOrigin + performance.now();
        (globalThis as unknown as { chrome: { runtime: { connect(info: { name: string }): unknown } } }).chrome.runtime.connect({ name: 'bench-wake' });
        return at;
      });
      const ranAt = await pollRunning(browser.context, last);
      last = ranAt;
      // A worker that started again by itself before the page connected is not counted.
      if (ranAt > wokenAt) times.push(ranAt - wokenAt);
    }
    return times;
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Asks the worker (whichever is running now) when its queue ran, until a start other than `previous` says so. */
async function pollRunning(context: BrowserContext, previous: number | undefined): Promise<number> {
  for (;;) {
    const worker = context.serviceWorkers().at(-1);
    // The worker listed may be the stopped one, which may never answer: ask again.
    const at = await Promise.race([
      worker?.evaluate(() => (globalThis as { paceQueueRunningAt?: number }).paceQueueRunningAt).catch(() => undefined),
      new Promise<undefined>((r) => setTimeout(r, 200)),
    ]);
    if (at !== undefined && at !== previous) return at;
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function benchWorkerColdStart(): Promise<void> {
  console.log(`\n## Worker cold start: from a stopped worker, woken by a page connecting, to its queue running; median of ${RUNS}\n`);
  if (!existsSync(join(BUILD, 'manifest.json'))) return console.log(`No build at ${BUILD}: run \`npx wxt build\` first.`);
  const pace = median(await coldStarts(false));
  const empty = median(await coldStarts(true));
  console.log('| worker | cold start median |');
  console.log('|---|---|');
  console.log(`| Pace (recover cut-off jobs and batches, run the queue) | ${pace.toFixed(1)} ms |`);
  console.log(`| baseline: an empty worker | ${empty.toFixed(1)} ms |`);
  console.log(`\nPace's worker starts ${(pace - empty).toFixed(1)} ms after an empty one.`);
}

/**
 * Marks when the composer takes typing (the box has focus), in the page's own clock; and, so that
 * the figure is read with what surrounds it, when React has drawn the chat (its top bar is there).
 */
const MARK_USABLE = () => {
  new MutationObserver((_, observer) => {
    if (!document.querySelector('header.topbar')) return;
    (window as { paceDrawnAt?: number }).paceDrawnAt = performance.now();
    observer.disconnect();
  }).observe(document, { childList: true, subtree: true });
  document.addEventListener(
    'focusin',
    (e) => {
      const w = window as { paceUsableAt?: number };
      if (w.paceUsableAt === undefined && (e.target as Element).matches('textarea[aria-label="Message"]')) w.paceUsableAt = performance.now();
    },
    true,
  );
};

export async function benchPopupOpen(): Promise<void> {
  console.log(`\n## Popup open to usable (the message box has focus), median of ${RUNS}\n`);
  if (!existsSync(join(BUILD, 'manifest.json'))) return console.log(`No build at ${BUILD}: run \`npx wxt build\` first.`);
  const dir = copyOfBuild(false);
  const browser = await launchChromiumWithExtension(dir);
  try {
    await browser.context.addInitScript(MARK_USABLE);
    const popup: number[] = [];
    const painted: number[] = [];
    const drawn: number[] = [];
    const blank: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const page = await browser.open('popup.html');
      const usable = (await page.waitForFunction(() => (window as { paceUsableAt?: number }).paceUsableAt)).jsonValue() as Promise<number>;
      const later = page
        .waitForFunction(() => {
          const w = window as { paceDrawnAt?: number };
          const paint = performance.getEntriesByName('first-contentful-paint')[0];
          return w.paceDrawnAt !== undefined && paint && { drawn: w.paceDrawnAt, paint: paint.startTime };
        })
        .then((handle) => handle.jsonValue() as Promise<{ drawn: number; paint: number }>);
      const { paint, drawn: at } = await later;
      const empty = await browser.open('blank.html');
      const loaded = await empty.evaluate(async () => {
        if (document.readyState !== 'complete') await new Promise((r) => addEventListener('load', r, { once: true }));
        return (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventStart;
      });
      // The first popup also opens the database for the first time.
      if (i > 0) {
        popup.push(await usable);
        painted.push(paint);
        drawn.push(at);
        blank.push(loaded);
      }
      await page.close();
      await empty.close();
    }
    const p = median(popup);
    console.log('| page | open to usable median |');
    console.log('|---|---|');
    console.log(`| popup.html | ${p.toFixed(1)} ms |`);
    console.log(`| popup.html, its first contentful paint | ${median(painted).toFixed(1)} ms |`);
    console.log(`| popup.html, the chat drawn by React (top bar, history, sends) | ${median(drawn).toFixed(1)} ms |`);
    console.log(`| baseline: an empty extension page, to its load event | ${median(blank).toFixed(1)} ms |`);
    console.log(`\nPopup target (median under ${POPUP_MS} ms): ${verdict(p < POPUP_MS)}`);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
