/// <reference types="node" />
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { launchFirefoxWithExtension, type FirefoxWithExtension } from '../support/firefox';

// Firefox with the built extension, talking to the local Claude server only. The builds are made
// beforehand (`npm run build:firefox`, `npm run build:firefox-mv3`); this file builds nothing.

const root = fileURLToPath(new URL('../../..', import.meta.url));

function buildPath(dir: 'firefox-mv2' | 'firefox-mv3'): string {
  const path = resolve(root, process.env.PACE_OUT_DIR ?? '.output', dir);
  if (!existsSync(resolve(path, 'manifest.json'))) {
    const script = dir === 'firefox-mv2' ? 'npm run build:firefox' : 'npm run build:firefox-mv3';
    throw new Error(`The Firefox ${dir} build is missing (${path}). Run \`${script}\` first.`);
  }
  return path;
}

// In headless Firefox the tab's document is hidden and requestAnimationFrame runs rarely or not at
// all, so nothing here may wait on it: puppeteer's locators and `visible` waits do (they time out),
// and waitForFunction polls on a timer instead of its default 'raf'. Elements are driven through
// handles, with real key events that React sees.
async function clickButton(page: Page, text: string): Promise<void> {
  const button = await page.waitForSelector(`xpath///button[normalize-space()=${JSON.stringify(text)}]`);
  await button!.click();
}

async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  const field = await page.waitForSelector(selector);
  await field!.evaluate((el) => {
    (el as HTMLInputElement | HTMLTextAreaElement).focus();
    (el as HTMLInputElement | HTMLTextAreaElement).select();
  });
  await field!.type(text);
  expect(await field!.evaluate((el) => (el as HTMLInputElement | HTMLTextAreaElement).value)).toBe(text);
}

async function textOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => el.textContent ?? '');
}

async function waitForText(page: Page, selector: string, expected: string, timeout = 15_000): Promise<string> {
  try {
    await page.waitForFunction(
      (sel: string, want: string) => (document.querySelector(sel)?.textContent ?? '').includes(want),
      { timeout, polling: 100 },
      selector,
      expected,
    );
  } catch (e) {
    const seen = await textOf(page, selector).catch(() => '(no such element)');
    throw new Error(`${selector} never contained ${JSON.stringify(expected)}; it reads ${JSON.stringify(seen)}`, { cause: e });
  }
  return textOf(page, selector);
}

async function setUpKeyAndBaseURL(page: Page, server: ClaudeServer): Promise<void> {
  await typeInto(page, 'input[aria-label="API key"]', TEST_KEY);
  await clickButton(page, 'Save key');
  expect(await waitForText(page, '[data-testid=key-status]', 'is saved')).toContain('A key ending in …-key is saved on this device.');

  await page.$eval('details', (d) => {
    d.open = true;
  });
  await typeInto(page, '#base-url', server.url);
  await clickButton(page, 'Save settings');
  // With a key saved, a new gateway origin is saved only once the user confirms it may receive the key.
  expect(await waitForText(page, '[data-testid=settings-confirm-origin]', `Send your API key to ${server.url}?`)).toContain('Only do this for a gateway you trust.');
  await clickButton(page, `Send my key to ${server.url}`);
  // A permission prompt for the server's origin may follow; the settings are saved regardless.
  expect(await waitForText(page, '[data-testid=settings-message]', 'Saved.')).toMatch(/^Saved\./);
}

/** the text of the first assistant message that is done and contains `expected` */
async function waitForAnswer(page: Page, expected: string, timeout = 20_000): Promise<string> {
  const handle = await page.waitForFunction(
    (want: string) =>
      [...document.querySelectorAll('[data-testid=assistant-message][data-status=done]')]
        .map((el) => el.textContent ?? '')
        .find((t) => t.includes(want)),
    { timeout, polling: 100 },
    expected,
  );
  return (await handle.jsonValue()) as string;
}

async function sendFromPopup(page: Page, text: string): Promise<void> {
  await typeInto(page, 'textarea[aria-label="Message"]', text);
  await page.keyboard.press('Enter');
}

/** on failure, what the browser's console said, to tell an extension bug from a test bug */
async function withConsoleOnFailure<T>(ff: FirefoxWithExtension | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const logs = ff ? await ff.logs().catch(() => []) : [];
    const relevant = logs.filter((l) => !l.url?.startsWith('resource://') && !l.url?.startsWith('chrome://'));
    if (relevant.length > 0) {
      console.error(
        'Firefox console:\n' + relevant.map((l) => `  [${l.source} ${l.level}] ${l.text}${l.url ? ` (${l.url})` : ''}`).join('\n'),
      );
    }
    throw e;
  }
}

/** One local Claude server and one Firefox with the given build, for the enclosing describe. */
function useFirefox(dir: 'firefox-mv2' | 'firefox-mv3'): { server: ClaudeServer; ff?: FirefoxWithExtension } {
  const ctx = {} as { server: ClaudeServer; ff?: FirefoxWithExtension };
  beforeAll(async () => {
    const ext = buildPath(dir);
    ctx.server = await startClaudeServer();
    ctx.ff = await launchFirefoxWithExtension(ext);
  });
  afterAll(async () => {
    await ctx.ff?.close();
    await ctx.server?.close();
  });
  return ctx;
}

describe('Firefox MV2: set up a key and chat', () => {
  const ctx = useFirefox('firefox-mv2');

  it('saves the key and base URL, tests the key, and streams an answer in the popup', async () => {
    await withConsoleOnFailure(ctx.ff, async () => {
      const options = await ctx.ff!.openExtensionPage('options.html');
      await setUpKeyAndBaseURL(options, ctx.server);

      await clickButton(options, 'Test key');
      const result = await waitForText(options, '[data-testid=key-test-result]', 'The key works');
      expect(result).toContain('Claude Opus 4.7');
      expect(result).toContain('Claude Haiku 4.5');

      const popup = await ctx.ff!.openExtensionPage('popup.html');
      await sendFromPopup(popup, 'Hello from Firefox');
      // waitForAnswer fails the test unless a finished answer holds this text.
      await waitForAnswer(popup, 'You said: "Hello from Firefox"');
      expect(await popup.$$eval('[data-testid=user-message]', (els) => els.map((el) => el.textContent))).toEqual([
        'Hello from Firefox',
      ]);

      const sent = ctx.server.messageRequests();
      expect(sent).toHaveLength(1);
      const [request] = sent;
      expect(request!.headers['authorization']).toBe(`Bearer ${TEST_KEY}`);
      expect(request!.headers['anthropic-dangerous-direct-browser-access']).toBe('true');
      expect((request!.body as { messages: unknown }).messages).toEqual([{ role: 'user', content: 'Hello from Firefox' }]);
    });
  });
});

describe('Firefox MV3: set up a key and chat', () => {
  const ctx = useFirefox('firefox-mv3');

  it('streams an answer in the popup', async () => {
    await withConsoleOnFailure(ctx.ff, async () => {
      const options = await ctx.ff!.openExtensionPage('options.html');
      await setUpKeyAndBaseURL(options, ctx.server);

      const popup = await ctx.ff!.openExtensionPage('popup.html');
      await sendFromPopup(popup, 'Hello from Firefox MV3');
      // waitForAnswer fails the test unless a finished answer holds this text.
      await waitForAnswer(popup, 'You said: "Hello from Firefox MV3"');
      const sent = ctx.server.messageRequests();
      expect(sent).toHaveLength(1);
      expect(sent[0]!.body).toMatchObject({ stream: true, messages: [{ role: 'user', content: 'Hello from Firefox MV3' }] });
    });
  });

  it('answers the same question again from the cache, and the usage page shows what was sent', async () => {
    await withConsoleOnFailure(ctx.ff, async () => {
      const popup = await ctx.ff!.openExtensionPage('popup.html');
      await clickButton(popup, 'New chat');
      await sendFromPopup(popup, 'Hello from Firefox MV3');
      await popup.waitForSelector('[data-testid=from-cache]');
      expect(await textOf(popup, '[data-testid=from-cache]')).toBe('from cache - free');
      expect(ctx.server.messageRequests()).toHaveLength(1);
      expect(await waitForText(popup, '[data-testid=quota]', '4,999/5,000 this month')).toMatch(/4,999\/5,000 this month · resets 1 \w{3}, 00:00 UTC/);

      const usage = await ctx.ff!.openExtensionPage('usage.html');
      await usage.waitForSelector('#root[data-ready=true]');
      expect(await textOf(usage, '[data-testid=usage-month] .usage-big')).toMatch(/^1 of 5,000 requests/);
      expect(await textOf(usage, '[data-testid=usage-cache] .usage-big')).toBe('1');
    });
  });
});

describe('Firefox MV2: the limits hold', () => {
  const ctx = useFirefox('firefox-mv2');

  it('at 2 requests a minute, the third message waits its turn with a countdown, then goes', async () => {
    await withConsoleOnFailure(ctx.ff, async () => {
      const options = await ctx.ff!.openExtensionPage('options.html');
      await setUpKeyAndBaseURL(options, ctx.server);
      const custom = await options.waitForSelector('input[name=plan][value=custom]');
      await custom!.click();
      await typeInto(options, '#per-minute', '2');
      await typeInto(options, '#per-month', '50');
      await clickButton(options, 'Save limits');
      await waitForText(options, '[data-testid=limits-message]', 'Saved');

      const popup = await ctx.ff!.openExtensionPage('popup.html');
      for (let i = 1; i <= 3; i++) {
        await sendFromPopup(popup, `Limit ${i}`);
        await popup.waitForFunction((n: number) => document.querySelectorAll('[data-testid=user-message]').length === n, { polling: 100 }, i);
      }
      await waitForAnswer(popup, 'You said: "Limit 2"');
      expect(await waitForText(popup, '[data-testid=job-status]', 'Queued - 1st, about')).toMatch(/^Queued - 1st, about (1 min|\d+ s)/);
      expect(await textOf(popup, '[data-testid=quota]')).toContain('0/2 this minute');
      expect(ctx.server.messageRequests()).toHaveLength(2);

      await waitForAnswer(popup, 'You said: "Limit 3"', 80_000);
      const times = ctx.server.messageRequests().map((r) => r.at);
      expect(times).toHaveLength(3);
      expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(60_000);
      expect(await waitForText(popup, '[data-testid=quota]', '47/50 this month')).toMatch(/47\/50 this month · resets 1 \w{3}, 00:00 UTC/);
    });
  }, 150_000);
});
