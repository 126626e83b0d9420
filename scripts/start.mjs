// `npm start`: starts the local demo backend, builds Pace with the demo wired in, and opens it in
// Chromium with the extension loaded. With your own key set in the options, Pace talks to the real
// API instead; the demo backend only answers while no key is saved.
//   npm start                 Chromium (the system one, or PACE_CHROMIUM)
//   npm start -- --no-browser build and serve only, then load .output/demo/... by hand
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const port = Number(process.env.PACE_DEMO_PORT ?? 8787);
const demoUrl = `http://127.0.0.1:${port}`;
const chromiumPath = process.env.PACE_CHROMIUM ?? '/usr/bin/chromium';
const noBrowser = process.argv.includes('--no-browser');

console.log('Building Pace (Chrome MV3 and Firefox MV2) with the demo backend…');
for (const args of [['build'], ['build', '-b', 'firefox']]) {
  const r = spawnSync('npx', ['wxt', ...args], { stdio: 'inherit', env: { ...process.env, PACE_DEMO_URL: demoUrl } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const chromeExt = resolve('.output/demo/chrome-mv3');
const firefoxExt = resolve('.output/demo/firefox-mv2');

const server = spawn('npx', ['tsx', 'tests/support/demo-server.ts', '--port', String(port)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise((ready, fail) => {
  server.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (String(chunk).includes('demo backend on')) ready();
  });
  server.on('exit', (code) =>
    fail(new Error(`The demo backend exited (${code}); is port ${port} in use? Set PACE_DEMO_PORT.`)),
  );
});
// Once it is up, a backend that stops says so (a rejection above is no longer heard).
server.on('exit', (code) => {
  console.error(`\nThe demo backend stopped (exit code ${code}). Run npm start again.`);
  process.exit(1);
});

const stop = () => {
  server.kill('SIGTERM');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const howTo = `
Load Pace in your own browser:
  Chrome:  chrome://extensions -> Developer mode -> Load unpacked -> ${chromeExt}
  Firefox: about:debugging#/runtime/this-firefox -> Load Temporary Add-on -> ${firefoxExt}/manifest.json
Without a key it answers from the demo backend (labelled "Demo mode"); add your API key in the options to use Claude.
Press Ctrl+C to stop the demo backend.`;

if (noBrowser || !existsSync(chromiumPath) || (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)) {
  if (!noBrowser) console.log(`\nNo display or no Chromium at ${chromiumPath}: not opening a browser.`);
  console.log(howTo);
} else {
  await openChromium().catch((err) => {
    // The backend keeps running: the build can still be loaded by hand.
    console.error(`\nCould not open Chromium: ${err instanceof Error ? err.message : String(err)}`);
    console.log(howTo);
  });
}

async function openChromium() {
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'pace-demo-')), {
    executablePath: chromiumPath,
    headless: false,
    viewport: null,
    args: [
      `--disable-extensions-except=${chromeExt}`,
      `--load-extension=${chromeExt}`,
      '--no-first-run',
      '--disable-background-networking',
      '--disable-sync',
    ],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  const id = new URL(worker.url()).host;
  const page = await context.newPage();
  await page.goto(`chrome-extension://${id}/popup.html`);
  console.log(
    `\nPace is open in Chromium (popup: chrome-extension://${id}/popup.html; pin it from the puzzle icon).${howTo}`,
  );
  context.on('close', stop);
}
