/**
 * The background as entrypoints/background.ts wires it (createBackgroundApp), for tests: WXT's
 * fakeBrowser, the test's database, the local Claude server's key and URL, a wake timer the test
 * fires (or real ones: `realWakeTimers`), and a page connected to it through a fake port (the fake
 * browser has none). Any edge can be replaced through `overrides`; `app.pump()` runs the queue.
 */
import { vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { createBackgroundApp, type BackgroundBrowser, type BackgroundDeps } from '@/lib/background/app';
import { createClaudeClient } from '@/lib/claude/client';
import { createBackgroundClient, type BackgroundClient } from '@/lib/messaging/page-client';
import { PORT_NAME } from '@/lib/protocol';
import type { PaceDB } from '@/lib/storage/db';
import { portPair } from '../../../support/fake-port';
import { handlerDeps } from './handler-deps';

export interface WakeTimer {
  run: () => void;
  ms: number;
  cleared: boolean;
}

export interface TestBackground {
  app: ReturnType<typeof createBackgroundApp>;
  /** Fires the 'online' event the entrypoint listens to on the worker's global scope. */
  page: EventTarget;
  /** The popup's client, connected to the app through a fake port from the extension's own page. */
  client: BackgroundClient;
  /** The wake timers the app asked for, in order: a test runs one as if its delay had passed. */
  timers: WakeTimer[];
}

/** Stubs what the fake browser lacks and the background calls: the badge's title, the keep-alive ping, ports. */
function stubFakeBrowserGaps(): void {
  for (const action of [fakeBrowser.action, fakeBrowser.browserAction])
    vi.spyOn(action, 'setTitle').mockResolvedValue(undefined);
  vi.spyOn(fakeBrowser.browserAction, 'setBadgeText').mockResolvedValue(undefined);
  vi.spyOn(fakeBrowser.browserAction, 'setBadgeBackgroundColor').mockResolvedValue(undefined);
  vi.spyOn(fakeBrowser.runtime, 'getPlatformInfo').mockResolvedValue({ os: 'linux', arch: 'x86-64' } as never);
  // Pages connect through fake ports handed to app.onConnect (see `client`).
  vi.spyOn(fakeBrowser.runtime.onConnect, 'addListener').mockImplementation(() => undefined);
}

/** Wake timers that run once their delay has passed, for a test whose queue must wake on its own (backoff, pauses); `clear` ends those pending. */
export function realWakeTimers(): Required<Pick<BackgroundDeps, 'setTimer' | 'clearTimer'>> & { clear: () => void } {
  const pending = new Set<ReturnType<typeof setTimeout>>();
  return {
    setTimer: (run, ms) => {
      const timer = setTimeout(() => {
        pending.delete(timer);
        run();
      }, ms);
      pending.add(timer);
      return timer;
    },
    clearTimer: (timer) => {
      clearTimeout(timer as ReturnType<typeof setTimeout>);
      pending.delete(timer as ReturnType<typeof setTimeout>);
    },
    clear: () => {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
    },
  };
}

/** Builds the app with the key for `baseURL` already saved and confirmed, and registers its listeners. */
export function testBackground(db: PaceDB, baseURL: string, overrides: Partial<BackgroundDeps> = {}): TestBackground {
  stubFakeBrowserGaps();
  const { keys, credentials } = handlerDeps(db, baseURL);
  const timers: WakeTimer[] = [];
  const app = createBackgroundApp({
    // The fake is typed after the promise-only polyfill, WXT's browser after chrome's callbacks too: same object at run time.
    browser: fakeBrowser as unknown as BackgroundBrowser,
    db,
    now: () => Date.now(),
    online: () => true,
    keys: { ...keys, credentials },
    createClient: createClaudeClient,
    setTimer: (run, ms) => {
      const timer = { run, ms, cleared: false };
      timers.push(timer);
      return timer;
    },
    clearTimer: (timer) => {
      if (timer) (timer as WakeTimer).cleared = true;
    },
    // Browser sync only where a test gives it (tests/support/fake-sync.ts): the fake browser's storage.sync is shared by all.
    sync: null,
    ...overrides,
  });
  const page = new EventTarget();
  app.listen(page);
  const sender = { id: fakeBrowser.runtime.id, url: fakeBrowser.runtime.getURL('/popup.html') };
  const client = createBackgroundClient(() => {
    const pair = portPair(PORT_NAME, sender);
    app.onConnect(pair.background.port);
    return pair.page.port;
  }, 5);
  return { app, page, client, timers };
}
