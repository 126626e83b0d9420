/**
 * Claude where people read, in real Chromium: the context menu on selected text, "Ask about this
 * page" on a local article, the side panel's chat, and the keyboard commands.
 *
 * The build is a copy whose manifest grants http://127.0.0.1/* (withLoopbackGranted): activeTab is
 * granted by a click on the toolbar button, which a test cannot make, and the host permission
 * stands in for it; the code path is the same (tabs.query, scripting.executeScript). The menu's
 * onClicked listener is called in the service worker with the info and tab the browser passes
 * (through `paceReach`, which entrypoints/background.ts exposes for this).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Worker } from 'playwright-core';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { buildDir, withLoopbackGranted } from '../support/batch-probe';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';
import {
  ARTICLE_WORDS,
  HIDDEN_WORDS,
  HOSTILE_VISIBLE_WORDS,
  NOT_ARTICLE_WORDS,
  startArticleSite,
} from '../support/reach-site';

// What the functions evaluated in the service worker use of its `chrome`.
declare const chrome: {
  tabs: { query(q: object): Promise<{ id?: number; windowId: number; title?: string; url?: string }[]> };
  runtime: {
    getManifest(): {
      commands?: Record<string, { suggested_key?: object }>;
      permissions?: string[];
      host_permissions?: string[];
      side_panel?: object;
    };
  };
  commands: { getAll(): Promise<{ name?: string; shortcut?: string }[]> };
};

let server: ClaudeServer;
let site: Awaited<ReturnType<typeof startArticleSite>>;
let granted: Awaited<ReturnType<typeof withLoopbackGranted>>;
let browser: ChromiumWithExtension;

beforeAll(async () => {
  server = await startClaudeServer();
  site = await startArticleSite();
  granted = await withLoopbackGranted(buildDir('chrome-mv3'));
  browser = await launchChromiumWithExtension(granted.path);
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
  expect(await (await options.connect(TEST_KEY, server.url)).textContent()).toMatch(/^Saved\./);
  await options.page.close();
});
afterAll(async () => {
  await browser?.close();
  await granted?.remove();
  await site?.close();
  await server?.close();
});

/** Opens the article in a tab of its own, brought to the front, and returns it with the tab's id and window. */
async function openArticle(): Promise<{
  page: Page;
  tab: { id: number; windowId: number; title: string; url: string };
}> {
  const page = await browser.context.newPage();
  await page.goto(site.url);
  await page.bringToFront();
  const worker = await browser.worker();
  const tab = await worker.evaluate(async (url) => {
    const [t] = await chrome.tabs.query({ url });
    return { id: t!.id!, windowId: t!.windowId, title: t!.title ?? '', url: t!.url ?? '' };
  }, site.url);
  return { page, tab };
}

/** Calls the context menu's onClicked listener in the service worker, as the browser does on a click. */
async function clickMenu(
  worker: Worker,
  menuItemId: string,
  selectionText: string,
  tab: { id: number; windowId: number; title: string; url: string },
) {
  await worker.evaluate(
    ({ menuItemId, selectionText, tab }) => {
      const reach = (globalThis as unknown as { paceReach: { onMenuClicked(info: object, tab: object): void } })
        .paceReach;
      reach.onMenuClicked({ menuItemId, selectionText, pageUrl: tab.url, editable: false }, tab);
    },
    { menuItemId, selectionText, tab },
  );
}

const lastUserText = (): string => {
  const last = server.messageRequests().at(-1)!.body as {
    messages: { role: string; content: string | { type: string; text: string }[] }[];
  };
  const content = last.messages.at(-1)!.content;
  return typeof content === 'string' ? content : content.map((c) => c.text).join('');
};

describe('Claude where people read, in real Chromium', () => {
  it('declares the commands, the side panel and the minimal permissions in the manifest', async () => {
    const worker = await browser.worker();
    const { manifest, commands } = await worker.evaluate(async () => ({
      manifest: chrome.runtime.getManifest(),
      commands: await chrome.commands.getAll(),
    }));
    expect(Object.keys(manifest.commands ?? {}).sort()).toEqual([
      '_execute_action',
      'ask-selection',
      'open-side-panel',
    ]);
    expect(manifest.commands?._execute_action?.suggested_key).toEqual({ default: 'Alt+Shift+U' });
    // The browser gave the shortcuts to Pace: none clashes with one of its own (it leaves those
    // unassigned, as it does Alt+Shift+P). The action's own shortcut it leaves to the user when the
    // extension is loaded unpacked, as here, whatever the key.
    const assigned = new Map(commands.map((c) => [c.name, c.shortcut]));
    expect(assigned.get('open-side-panel')).toBe('Alt+Shift+K');
    expect(assigned.get('ask-selection')).toBe('Alt+Shift+Y');
    expect(manifest.side_panel).toEqual({ default_path: 'sidepanel.html' });
    expect(manifest.permissions).toEqual(
      expect.arrayContaining(['activeTab', 'scripting', 'contextMenus', 'sidePanel']),
    );
    expect(manifest.permissions).not.toContain('tabs');
    // No broad host access: the copy adds only the loopback origin to the build's own.
    expect(manifest.host_permissions).toEqual(['https://api.anthropic.com/*', 'http://127.0.0.1/*']);

    // The options page lists them, and links to the browser's shortcut settings.
    const options = await browser.open('options.html', { width: 900, height: 1200 });
    const shortcuts = options.getByTestId('shortcuts');
    await shortcuts.getByText('Alt+Shift+K').waitFor();
    expect(await shortcuts.textContent()).toContain('Alt+Shift+Y');
    expect(await shortcuts.textContent()).toContain('Open Pace');
    await shortcuts.getByRole('button', { name: 'chrome://extensions/shortcuts' }).waitFor();
    await options.close();
  });

  it('a template from the context menu opens the chat with the quoted selection, and one request reaches the server', async () => {
    const before = server.messageRequests().length;
    const { page: article, tab } = await openArticle();
    const worker = await browser.worker();
    const selection = await article.locator('#pick').textContent();
    await clickMenu(worker, 'pace-template:summarize', selection!, tab);

    await expect.poll(() => server.messageRequests().length, { timeout: 15_000 }).toBe(before + 1);
    expect(lastUserText()).toBe(
      `Summarize this text in a few sentences.\n\nFrom "Bread that keeps" (${site.url}):\n\n> feed the starter with equal weights`,
    );

    // The popup opens on that conversation: the selection quoted, the template applied, the answer.
    const popup = new Popup(await browser.open('popup.html'));
    await popup.answerWith('done');
    expect(await popup.questions().last().textContent()).toContain('feed the starter with equal weights');
    expect(await popup.questions().last().textContent()).toContain('Summarize this text');
    expect(await popup.lastAnswer().textContent()).toContain('You said:');
    await popup.page.close();
    await article.close();
  });

  it('options: templates are edited and checked with clear messages, and the menu sends with the new one', async () => {
    const options = await browser.open('options.html', { width: 900, height: 1600 });
    const section = options.getByTestId('templates');
    await section.getByRole('button', { name: 'Add a template' }).click();
    await options.locator('#template-title-4').fill('Critique');
    await section.getByRole('button', { name: 'Save templates' }).click();
    await section.getByText('Template 5: write the instruction Claude gets with the selection.').first().waitFor();
    await options.locator('#template-prompt-4').fill('Find the weak points of this text.');
    await section.getByRole('button', { name: 'Save templates' }).click();
    await options.getByTestId('templates-message').filter({ hasText: 'Saved.' }).waitFor();
    const id = await options.evaluate(
      () =>
        new Promise<string>((resolve, reject) => {
          const open = indexedDB.open('pace');
          open.onerror = () => reject(new Error('could not open the database'));
          open.onsuccess = () => {
            const row = open.result.transaction('meta').objectStore('meta').get('templates');
            row.onsuccess = () =>
              resolve(
                (row.result as { value: { id: string; title: string }[] }).value.find((t) => t.title === 'Critique')!
                  .id,
              );
          };
        }),
    );
    await options.close();

    const before = server.messageRequests().length;
    const { page: article, tab } = await openArticle();
    await clickMenu(await browser.worker(), `pace-template:${id}`, 'A weak claim', tab);
    await expect.poll(() => server.messageRequests().length, { timeout: 15_000 }).toBe(before + 1);
    expect(lastUserText().startsWith('Find the weak points of this text.\n\nFrom "Bread that keeps"')).toBe(true);
    await article.close();
  });

  it('"Ask Claude about the selection" puts the quote in the open chat\'s message box and sends nothing', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.ready();
    const before = server.messageRequests().length;
    const { page: article, tab } = await openArticle();
    await clickMenu(await browser.worker(), 'pace-ask', 'Sourdough keeps', tab);
    await expect
      .poll(() => popup.composer().inputValue())
      .toBe(`\n\nFrom "Bread that keeps" (${site.url}):\n\n> Sourdough keeps`);
    expect(server.messageRequests()).toHaveLength(before);
    // An empty selection is refused with a message, not sent.
    await clickMenu(await browser.worker(), 'pace-template:explain', '   ', tab);
    await popup.notice().filter({ hasText: 'Select some text on the page first' }).waitFor();
    expect(server.messageRequests()).toHaveLength(before);
    await popup.composer().fill('');
    await popup.page.close();
    await article.close();
  });

  it('the "ask about the selection" shortcut reads the selection in the tab and puts it, quoted, in the message box', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.ready();
    const before = server.messageRequests().length;
    const { page: article, tab } = await openArticle();
    await article.evaluate(() => {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById('pick')!);
      getSelection()!.removeAllRanges();
      getSelection()!.addRange(range);
    });
    await (
      await browser.worker()
    ).evaluate((tab) => {
      (globalThis as unknown as { paceReach: { onCommand(command: string, tab: object): void } }).paceReach.onCommand(
        'ask-selection',
        tab,
      );
    }, tab);
    await expect
      .poll(() => popup.composer().inputValue())
      .toBe(`\n\nFrom "Bread that keeps" (${site.url}):\n\n> feed the starter with equal weights`);
    expect(server.messageRequests()).toHaveLength(before);
    await popup.composer().fill('');
    await popup.page.close();
    await article.close();
  });

  it('"Ask about this page" shows the size and cost first, then sends the main text, not the navigation or scripts', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    const { page: article } = await openArticle();
    const before = server.messageRequests().length;
    await popup.page.getByTestId('ask-page').click();
    const preview = popup.page.getByTestId('page-preview');
    await preview.waitFor();
    const lines = await preview.locator('li').allTextContents();
    expect(lines[0]).toMatch(/^About [\d,]+ tokens\.$/);
    expect(lines.join('\n')).toMatch(
      /Cost: (about \$[\d.]+|under \$0\.001) to read it, up to \$[\d.]+ with the longest answer/,
    );
    expect(lines.join('\n')).toMatch(/Counts as 1 request/);
    expect(await popup.page.getByTestId('page-card').textContent()).toContain('Bread that keeps');
    // Nothing is sent before the user sends.
    expect(server.messageRequests()).toHaveLength(before);

    await popup.send('What keeps the bread?');
    await popup.answerWith('done');
    expect(server.messageRequests()).toHaveLength(before + 1);
    const sent = lastUserText();
    expect(sent.startsWith(`What keeps the bread?\n\n<page title="Bread that keeps" url="${site.url}">`)).toBe(true);
    for (const words of ARTICLE_WORDS) expect(sent).toContain(words);
    for (const words of NOT_ARTICLE_WORDS) expect(sent).not.toContain(words);
    // The page went with that message only.
    await popup.page.getByTestId('page-card').waitFor({ state: 'detached' });
    await popup.page.close();
    await article.close();
  });

  it('"Ask about this page" on a hostile page: no token from its address, none of its hidden text, and its wrapper intact', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    const article = await browser.context.newPage();
    await article.goto(`${site.hostileUrl}#access_token=SECRET&x=1`);
    await article.bringToFront();
    await popup.page.getByTestId('ask-page').click();
    await popup.page.getByTestId('page-preview').waitFor();
    const before = server.messageRequests().length;
    await popup.send('What does it say?');
    await popup.answerWith('done');
    expect(server.messageRequests()).toHaveLength(before + 1);

    // The whole request, not only the message: the token and the hidden words are nowhere in it.
    const request = JSON.stringify(server.messageRequests().at(-1)!.body);
    for (const left of ['SECRET', 'access_token', ...HIDDEN_WORDS]) expect(request).not.toContain(left);
    const sent = lastUserText();
    expect(sent.startsWith(`What does it say?\n\n<page title="Rye that keeps" url="${site.hostileUrl}">\n`)).toBe(true);
    expect(sent.endsWith('\n</page>')).toBe(true);
    // The page's own "</page>" is still there, as harmless text: the only page tags are Pace's two.
    expect(sent).toContain(`&lt;/page> ${HOSTILE_VISIBLE_WORDS}`);
    expect(sent.match(/<\s*\/?\s*page(?![\w-])/gi)).toEqual(['<page', '</page']);
    expect(sent).toContain(ARTICLE_WORDS[0]);
    expect(sent).toContain('Rye loaves are best sliced thin');
    // The history holds what was sent: no token there either.
    expect(await popup.questions().last().textContent()).not.toContain('SECRET');
    await popup.page.close();
    await article.close();
  });

  it("a browser's own page gets a clear message", async () => {
    const popup = new Popup(await browser.open('popup.html'));
    const own = await browser.context.newPage();
    await own.goto('chrome://version/');
    await own.bringToFront();
    await popup.page.getByTestId('ask-page').click();
    await popup
      .notice()
      .filter({ hasText: 'The browser does not let extensions read its own pages (chrome:)' })
      .waitFor();
    await own.close();
    await popup.page.close();
  });

  it('the side panel chats, and the popup and the panel show the same conversation live', async () => {
    const panel = new Popup(await browser.open('sidepanel.html'));
    await panel.page.getByRole('button', { name: 'New chat' }).click();
    // The panel has no button to open itself.
    await panel.page.getByTestId('ask-page').waitFor();
    expect(await panel.page.getByTestId('open-panel').count()).toBe(0);
    await panel.send('Hello from the side panel');
    await panel.answerWith('done');
    expect(await panel.lastAnswer().textContent()).toContain('You said: "Hello from the side panel"');

    const popup = new Popup(await browser.open('popup.html'));
    await popup.questions().filter({ hasText: 'Hello from the side panel' }).waitFor();
    await popup.page.getByTestId('open-panel').waitFor();
    // A message from the popup appears in the panel as it is written.
    await popup.send('And one from the popup');
    await panel.questions().filter({ hasText: 'And one from the popup' }).waitFor();
    await panel.answers().filter({ hasText: 'You said: "And one from the popup"' }).waitFor();
    // A new chat started in the popup: the panel follows it.
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('A new conversation');
    await panel.questions().filter({ hasText: 'A new conversation' }).waitFor();
    expect(await panel.questions().count()).toBe(1);
    await popup.page.close();
    await panel.page.close();
  });
});
