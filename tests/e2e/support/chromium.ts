/** Launches the system Chromium with the built MV3 extension loaded, as TESTING.md describes. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page, type Worker } from 'playwright-core';

export const CHROMIUM = process.env.PACE_CHROMIUM ?? '/usr/bin/chromium';

export interface ChromiumWithExtension {
  context: BrowserContext;
  extensionId: string;
  worker(): Promise<Worker>;
  open(path: string, size?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /**
   * A profile directory to use and keep (a relaunch with the same one is the browser restarting:
   * storage.local stays, storage.session is gone). By default a fresh one, deleted on close.
   */
  profileDir?: string;
}

/** Chromium's flags for a headless run with the extension at `ext` (an absolute path) loaded. */
export function chromiumArgs(ext: string): string[] {
  return [
    '--headless=new',
    `--disable-extensions-except=${ext}`,
    `--load-extension=${ext}`,
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
}

export async function launchChromiumWithExtension(
  extPath = `${process.env.PACE_OUT_DIR ?? '.output'}/chrome-mv3`,
  { profileDir }: LaunchOptions = {},
): Promise<ChromiumWithExtension> {
  const ext = resolve(extPath);
  if (!existsSync(join(ext, 'manifest.json')))
    throw new Error(`No built extension at ${ext}: run \`npm run build\` first.`);
  const profile = profileDir ?? mkdtempSync(join(tmpdir(), 'pace-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: chromiumArgs(ext),
  });
  const worker = async () => context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  const extensionId = new URL((await worker()).url()).host;
  return {
    context,
    extensionId,
    worker,
    async open(path, size = { width: 400, height: 600 }) {
      const page = await context.newPage();
      await page.setViewportSize(size);
      const url = `chrome-extension://${extensionId}/${path}`;
      await page.goto(url).catch(async (err: unknown) => {
        // On a fresh profile the extension opens its options page on install, and Chromium may send
        // a tab already loading options.html there again: the page still ends up where it was sent.
        if (!(err instanceof Error) || !err.message.includes('interrupted by another navigation')) throw err;
        await page.waitForURL(url);
      });
      return page;
    },
    async close() {
      await context.close();
      if (!profileDir) rmSync(profile, { recursive: true, force: true });
    },
  };
}
