/**
 * For a real-Chromium test file: a local Claude server and Chromium with the built extension, its
 * key saved and pointed at that server through the options page (as a user would), before the
 * file's tests; both closed after them.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { launchChromiumWithExtension, type ChromiumWithExtension } from './chromium';
import { OptionsPage } from './pages';

export function useConnectedChromium(
  ready: (server: ClaudeServer, browser: ChromiumWithExtension) => void | Promise<void>,
): void {
  let server: ClaudeServer | undefined;
  let browser: ChromiumWithExtension | undefined;
  beforeAll(async () => {
    server = await startClaudeServer();
    browser = await launchChromiumWithExtension();
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
    expect(await (await options.connect(TEST_KEY, server.url)).textContent()).toMatch(/^Saved\./);
    await options.page.close();
    await ready(server, browser);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
}
