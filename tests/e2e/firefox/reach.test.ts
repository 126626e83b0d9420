/// <reference types="node" />
/**
 * Claude where people read, in real Firefox (MV2 build): the context menu's handler, "Ask about
 * this page" on a local article, and the sidebar's chat.
 *
 * As in Chromium, a copy of the build grants http://127.0.0.1/* in its manifest in place of the
 * activeTab grant a toolbar click would give (a test cannot click the toolbar). The background
 * page cannot be evaluated in over WebDriver BiDi, so an extension tab reaches it through
 * `runtime.getBackgroundPage()` and calls the menu's onClicked listener there (`paceReach`), with
 * the info and the tab the browser would pass.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, type ClaudeServer } from '../../support/claude-server';
import { withLoopbackGranted } from '../support/batch-probe';
import { launchFirefoxWithExtension, type FirefoxWithExtension } from '../support/firefox';
import {
  buildPath,
  clickButton,
  sendFromPopup,
  setUpKeyAndBaseURL,
  waitForAnswer,
  waitForText,
  withConsoleOnFailure,
} from '../support/firefox-pages';
import { ARTICLE_WORDS, NOT_ARTICLE_WORDS, startArticleSite } from '../support/reach-site';

interface Tab {
  id?: number;
  windowId?: number;
  title?: string;
  url?: string;
  status?: string;
}
interface Extension {
  browser: {
    tabs: {
      create(p: object): Promise<Tab>;
      query(q: object): Promise<Tab[]>;
      update(id: number, p: object): Promise<Tab>;
    };
    runtime: {
      getManifest(): {
        commands?: Record<string, unknown>;
        sidebar_action?: { default_panel?: string };
        permissions?: string[];
      };
      getBackgroundPage(): Promise<{ paceReach: { onMenuClicked(info: object, tab: Tab): void } }>;
    };
  };
}

let server: ClaudeServer;
let site: Awaited<ReturnType<typeof startArticleSite>>;
let granted: Awaited<ReturnType<typeof withLoopbackGranted>>;
let ff: FirefoxWithExtension | undefined;

beforeAll(async () => {
  server = await startClaudeServer();
  site = await startArticleSite();
  granted = await withLoopbackGranted(buildPath('firefox-mv2'));
  ff = await launchFirefoxWithExtension(granted.path);
  const options = await ff.openExtensionPage('options.html');
  await setUpKeyAndBaseURL(options, server);
});
afterAll(async () => {
  await ff?.close();
  await granted?.remove();
  await site?.close();
  await server?.close();
});

/** Opens the article in a new tab, made the active one, and waits until it has loaded; returns that tab. */
function openArticle(page: Page): Promise<Tab> {
  return page.evaluate(async (url: string) => {
    const { browser } = globalThis as unknown as Extension;
    const created = await browser.tabs.create({ url, active: true });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const tab = await (browser.tabs as unknown as { get(id: number): Promise<Tab> }).get(created.id!);
      if (tab.status === 'complete' && tab.title) return tab;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the article tab did not finish loading: ${JSON.stringify(created)}`);
  }, site.url);
}

/** Makes the extension page's own tab the active one again, so it can be typed into. */
async function bringBack(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const { browser } = globalThis as unknown as Extension;
    const own = await (browser.tabs as unknown as { getCurrent(): Promise<Tab> }).getCurrent();
    await browser.tabs.update(own.id!, { active: true });
  });
}

const userTexts = (): string[] =>
  server.messageRequests().map((r) => {
    const content = (r.body as { messages: { content: string | { text: string }[] }[] }).messages.at(-1)!.content;
    return typeof content === 'string' ? content : content.map((c) => c.text).join('');
  });

describe('Claude where people read, in real Firefox (MV2)', () => {
  it('declares the sidebar, the commands and the permissions', async () => {
    const page = await ff!.openExtensionPage('popup.html');
    const manifest = await page.evaluate(() => (globalThis as unknown as Extension).browser.runtime.getManifest());
    expect(manifest.sidebar_action?.default_panel).toMatch(/\/sidepanel\.html$/);
    expect(Object.keys(manifest.commands ?? {}).sort()).toEqual([
      '_execute_browser_action',
      '_execute_sidebar_action',
      'ask-selection',
    ]);
    expect(manifest.permissions).toEqual(expect.arrayContaining(['activeTab', 'scripting', 'contextMenus']));
    expect(manifest.permissions).not.toContain('tabs');
    expect(manifest.permissions).not.toContain('<all_urls>');
    await page.close();
  });

  it('the context menu handler sends the quoted selection with the template, and the popup shows it', async () => {
    await withConsoleOnFailure(ff, async () => {
      const popup = await ff!.openExtensionPage('popup.html');
      const tab = await openArticle(popup);
      const before = server.messageRequests().length;
      await popup.evaluate(async (tab: Tab) => {
        const background = await (globalThis as unknown as Extension).browser.runtime.getBackgroundPage();
        background.paceReach.onMenuClicked(
          {
            menuItemId: 'pace-template:explain',
            selectionText: 'feed the starter with equal weights',
            pageUrl: tab.url,
          },
          tab,
        );
      }, tab);
      await waitForText(popup, '[data-testid=user-message]', 'Explain this text simply');
      await waitForAnswer(popup, 'You said:');
      expect(server.messageRequests()).toHaveLength(before + 1);
      expect(userTexts().at(-1)).toBe(
        `Explain this text simply, as to someone new to the subject.\n\nFrom "Bread that keeps" (${site.url}):\n\n> feed the starter with equal weights`,
      );
      await popup.close();
    });
  });

  it('"Ask about this page" sends the article, not its navigation or scripts; the sidebar shows the same chat and chats', async () => {
    await withConsoleOnFailure(ff, async () => {
      const sidebar = await ff!.openExtensionPage('sidepanel.html');
      await clickButton(sidebar, 'New chat');
      await sidebar.$eval('[data-testid=ask-page]', (el) => (el as HTMLButtonElement).click());
      // The sidebar's own tab is the active one here: not a page Pace may read, and it says so.
      await waitForText(
        sidebar,
        '[data-testid=notice]',
        'The browser does not let extensions read its own pages (moz-extension:)',
      );

      await openArticle(sidebar);
      const before = server.messageRequests().length;
      await sidebar.$eval('[data-testid=ask-page]', (el) => (el as HTMLButtonElement).click());
      const preview = await waitForText(sidebar, '[data-testid=page-preview]', 'tokens');
      expect(preview).toMatch(/^About [\d,]+ tokens\./);
      expect(preview).toContain('Counts as 1 request');
      expect(server.messageRequests()).toHaveLength(before);

      await bringBack(sidebar);
      await sendFromPopup(sidebar, 'What keeps the bread?');
      await waitForAnswer(sidebar, 'You said: "What keeps the bread?');
      expect(server.messageRequests()).toHaveLength(before + 1);
      const sent = userTexts().at(-1)!;
      expect(sent.startsWith(`What keeps the bread?\n\n<page title="Bread that keeps" url="${site.url}">`)).toBe(true);
      for (const words of ARTICLE_WORDS) expect(sent).toContain(words);
      for (const words of NOT_ARTICLE_WORDS) expect(sent).not.toContain(words);

      // The popup opens on the sidebar's conversation.
      const popup = await ff!.openExtensionPage('popup.html');
      await waitForText(popup, '[data-testid=user-message]', 'What keeps the bread?');
      await popup.close();
      await sidebar.close();
    });
  });
});
