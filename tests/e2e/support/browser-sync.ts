/**
 * Browser sync in real-browser tests (see shared/TESTING.md): `storage.sync` works in a headless
 * profile with no account and stores locally, so a second device is imitated by writing one
 * profile's items into another profile's `storage.sync` from its background, as Chrome Sync or
 * Firefox Sync would deliver them.
 */
import type { Worker } from 'playwright-core';
import type { Page } from 'puppeteer-core';

type SyncArea = {
  get(keys: null): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
};

/** Everything in a Chromium profile's `storage.sync`, read from Pace's service worker. */
export function readChromiumSync(worker: Worker): Promise<Record<string, unknown>> {
  return worker.evaluate(() =>
    (globalThis as unknown as { chrome: { storage: { sync: SyncArea } } }).chrome.storage.sync.get(null),
  );
}

/** Writes `items` into a Chromium profile's `storage.sync` from Pace's service worker. */
async function writeChromiumSync(worker: Worker, items: Record<string, unknown>): Promise<void> {
  await worker.evaluate(
    (it) => (globalThis as unknown as { chrome: { storage: { sync: SyncArea } } }).chrome.storage.sync.set(it),
    items,
  );
}

/**
 * What one profile has in `storage.sync` now, delivered into another's, as the browser's sync
 * would: every item, the receiver's own replaced where the sender has the same key. Returns what
 * was delivered.
 */
export async function deliverChromiumSync(from: Worker, to: Worker): Promise<Record<string, unknown>> {
  const items = await readChromiumSync(from);
  if (Object.keys(items).length > 0) await writeChromiumSync(to, items);
  return items;
}

type BackgroundWindow = { browser: { storage: { sync: SyncArea } } };
type RuntimeWithBackground = { runtime: { getBackgroundPage(): Promise<BackgroundWindow> } };

/**
 * Writes `items` into Firefox's `storage.sync` from Pace's background page (an MV2 build), reached
 * from one of Pace's own pages, as Firefox Sync would deliver another device's items.
 */
export async function writeFirefoxSync(extensionPage: Page, items: Record<string, unknown>): Promise<void> {
  await extensionPage.evaluate(async (it: Record<string, unknown>) => {
    const { runtime } = (globalThis as unknown as { browser: RuntimeWithBackground }).browser;
    const background = await runtime.getBackgroundPage();
    await background.browser.storage.sync.set(it);
  }, items);
}

/** Everything in Firefox's `storage.sync`, read from one of Pace's pages. */
export function readFirefoxSync(extensionPage: Page): Promise<Record<string, unknown>> {
  return extensionPage.evaluate(() =>
    (globalThis as unknown as { browser: { storage: { sync: SyncArea } } }).browser.storage.sync.get(null),
  );
}
