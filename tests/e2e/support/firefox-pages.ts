/// <reference types="node" />
/**
 * Driving the built extension in Firefox (puppeteer-core over WebDriver BiDi), for the files in
 * tests/e2e/firefox/: the build's path, page helpers that work in a hidden headless tab, the
 * options page set-up, and one server and one Firefox per describe.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { launchFirefoxWithExtension, type FirefoxWithExtension } from './firefox';

// Firefox with the built extension, talking to the local Claude server only. The builds are made
// beforehand (`npm run build:firefox`, `npm run build:firefox-mv3`); this file builds nothing.

const root = fileURLToPath(new URL('../../..', import.meta.url));

export function buildPath(dir: 'firefox-mv2' | 'firefox-mv3'): string {
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
export async function clickButton(page: Page, text: string): Promise<void> {
  const button = await page.waitForSelector(`xpath///button[normalize-space()=${JSON.stringify(text)}]`);
  await button!.click();
}

export async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  const field = await page.waitForSelector(selector);
  await field!.evaluate((el) => {
    (el as HTMLInputElement | HTMLTextAreaElement).focus();
    (el as HTMLInputElement | HTMLTextAreaElement).select();
  });
  await field!.type(text);
  // Found again: the popup's early message box may have been taken over by React's while typing.
  expect(await page.$eval(selector, (el) => (el as HTMLInputElement | HTMLTextAreaElement).value)).toBe(text);
}

export async function textOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => el.textContent ?? '');
}

export async function waitForText(page: Page, selector: string, expected: string, timeout = 15_000): Promise<string> {
  try {
    await page.waitForFunction(
      (sel: string, want: string) => (document.querySelector(sel)?.textContent ?? '').includes(want),
      { timeout, polling: 100 },
      selector,
      expected,
    );
  } catch (e) {
    const seen = await textOf(page, selector).catch(() => '(no such element)');
    throw new Error(`${selector} never contained ${JSON.stringify(expected)}; it reads ${JSON.stringify(seen)}`, {
      cause: e,
    });
  }
  return textOf(page, selector);
}

export async function setUpKeyAndBaseURL(page: Page, server: ClaudeServer): Promise<void> {
  await typeInto(page, 'input[aria-label="API key"]', TEST_KEY);
  await clickButton(page, 'Save key');
  expect(await waitForText(page, '[data-testid=key-status]', 'is saved')).toContain(
    'A key ending in …-key is saved on this device.',
  );

  await page.$eval('details', (d) => {
    d.open = true;
  });
  await typeInto(page, '#base-url', server.url);
  await clickButton(page, 'Save settings');
  // With a key saved, a new gateway origin is saved only once the user confirms it may receive the key.
  expect(
    await waitForText(page, '[data-testid=settings-confirm-origin]', `Send your API key to ${server.url}?`),
  ).toContain('Only do this for a gateway you trust.');
  await clickButton(page, `Send my key to ${server.url}`);
  // A permission prompt for the server's origin may follow; the settings are saved regardless.
  expect(await waitForText(page, '[data-testid=settings-message]', 'Saved.')).toMatch(/^Saved\./);
}

/** the text of the first assistant message that is done and contains `expected` */
export async function waitForAnswer(page: Page, expected: string, timeout = 20_000): Promise<string> {
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

export async function sendFromPopup(page: Page, text: string): Promise<void> {
  await typeInto(page, 'textarea[aria-label="Message"]', text);
  await page.keyboard.press('Enter');
}

/** on failure, what the browser's console said, to tell an extension bug from a test bug */
export async function withConsoleOnFailure<T>(ff: FirefoxWithExtension | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const logs = ff ? await ff.logs().catch(() => []) : [];
    const relevant = logs.filter((l) => !l.url?.startsWith('resource://') && !l.url?.startsWith('chrome://'));
    if (relevant.length > 0) {
      console.error(
        'Firefox console:\n' +
          relevant.map((l) => `  [${l.source} ${l.level}] ${l.text}${l.url ? ` (${l.url})` : ''}`).join('\n'),
      );
    }
    throw e;
  }
}

/** One local Claude server and one Firefox with the given build, for the enclosing describe. */
export function useFirefox(dir: 'firefox-mv2' | 'firefox-mv3'): { server: ClaudeServer; ff?: FirefoxWithExtension } {
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
