/**
 * Look and access in real Chromium: dark mode from the system (emulated prefers-color-scheme) and
 * from the options' manual switch; axe-core finds no serious or critical violation on the popup
 * (chat and history), the options and the usage page in both themes; the keyboard alone opens and
 * closes the history with a visible focus; the answer's state is announced politely, never its text.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ClaudeServer } from '../../support/claude-server';
import { seriousViolations } from '../support/axe';
import type { ChromiumWithExtension } from '../support/chromium';
import { useConnectedChromium } from '../support/use-connected-chromium';
import { Popup } from '../support/pages';

let server: ClaudeServer;
let browser: ChromiumWithExtension;

useConnectedChromium((s, b) => {
  [server, browser] = [s, b];
});

const LIGHT_BG = 'rgb(251, 250, 247)';
const DARK_BG = 'rgb(29, 28, 26)';
const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);

type Scheme = 'light' | 'dark';

/** Opens each page under the emulated system scheme, waits for its content, and returns axe's serious and critical findings. */
async function auditAll(scheme: Scheme): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  const popup = new Popup(await browser.open('popup.html'));
  await popup.page.emulateMedia({ colorScheme: scheme });
  await popup.answers().first().waitFor();
  await popup.answerWith('done');
  found.popup = await seriousViolations(popup.page);
  await popup.page.getByRole('button', { name: 'History' }).click();
  await popup.page.getByTestId('history-item').first().waitFor();
  await popup.page
    .getByRole('button', { name: /^Delete / })
    .first()
    .click();
  found.history = await seriousViolations(popup.page);
  await popup.page.close();

  const options = await browser.open('options.html', { width: 900, height: 1200 });
  await options.emulateMedia({ colorScheme: scheme });
  await options.getByRole('heading', { name: 'Look and chats' }).waitFor();
  await options.locator('[data-testid=key-status]:not(:empty)').waitFor();
  found.options = await seriousViolations(options);
  await options.close();

  const usage = await browser.open('usage.html', { width: 1100, height: 1400 });
  await usage.emulateMedia({ colorScheme: scheme });
  await usage.locator('#root[data-ready=true]').waitFor();
  found.usage = await seriousViolations(usage);
  await usage.close();
  return found;
}

async function pickTheme(label: 'System' | 'Light' | 'Dark') {
  const options = await browser.open('options.html', { width: 900, height: 1200 });
  await options.getByRole('radio', { name: label }).check();
  await expect.poll(() => options.getByRole('radio', { name: label }).isChecked()).toBe(true);
  await options.close();
}

describe('look and access in real Chromium', () => {
  it('announces the answer state politely, without the streamed text, and the message list is no live region', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    const announcer = popup.page.getByTestId('announcer');
    await announcer.waitFor({ state: 'attached' });
    // Every text the live region takes, as a screen reader would hear it.
    await popup.page.evaluate(() => {
      const region = document.querySelector('[data-testid=announcer]')!;
      const said: string[] = [];
      (globalThis as unknown as { said: string[] }).said = said;
      new MutationObserver(() => said.push(region.textContent ?? '')).observe(region, {
        childList: true,
        subtree: true,
        characterData: true,
      });
    });
    server.script({
      kind: 'text',
      text: 'Otters hold hands while they sleep so they do not drift apart.',
      chunkSize: 8,
      delayMs: 30,
    });
    await popup.send('Tell me one fact about otters');
    await popup.answerWith('done');
    await expect.poll(() => announcer.textContent()).toBe('Claude answered.');
    const said = await popup.page.evaluate(() => (globalThis as unknown as { said: string[] }).said);
    expect(said.at(-1)).toBe('Claude answered.');
    for (const text of said)
      expect([
        'Sending your message.',
        'Your message is queued.',
        'Claude is answering.',
        'Claude answered.',
      ]).toContain(text);
    expect(await announcer.getAttribute('aria-live')).toBe('polite');
    // The stream itself is not read out: no live region holds the messages.
    expect(
      await popup.page.locator('.messages[aria-live], .messages [aria-live], .messages [role=status]').count(),
    ).toBe(0);
    // Reopening shows the conversation and announces nothing.
    await popup.page.reload();
    await popup.answerWith('done');
    expect(await announcer.textContent()).toBe('');
    await popup.page.close();
  });

  it('follows the system scheme, and the manual switch overrides it both ways', async () => {
    const popup = await browser.open('popup.html');
    await popup.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => background(popup)).toBe(LIGHT_BG);
    await popup.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(() => background(popup)).toBe(DARK_BG);

    await pickTheme('Light');
    // The open popup follows the choice at once, against the system's dark.
    await expect.poll(() => background(popup)).toBe(LIGHT_BG);
    await pickTheme('Dark');
    await popup.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => background(popup)).toBe(DARK_BG);
    const usage = await browser.open('usage.html');
    await usage.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => background(usage)).toBe(DARK_BG);
    await usage.close();

    await pickTheme('System');
    await expect.poll(() => background(popup)).toBe(LIGHT_BG);
    await popup.close();
  });

  it('axe-core finds no serious or critical violation on the popup, history, options and usage pages, in both themes', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      expect(await auditAll(scheme), scheme).toEqual({ popup: [], history: [], options: [], usage: [] });
    }
    // The manual switch against the system's scheme too.
    await pickTheme('Dark');
    expect(await auditAll('light'), 'dark chosen, system light').toEqual({
      popup: [],
      history: [],
      options: [],
      usage: [],
    });
    await pickTheme('System');
  });

  it('works with the keyboard alone: History by Tab and Enter, a visible focus, Escape backs out', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.composer().waitFor();
    // The top bar in order: New chat, then History.
    await popup.page.getByRole('button', { name: 'New chat' }).focus();
    await popup.page.keyboard.press('Tab');
    const focused = () =>
      popup.page.evaluate(() => ({
        text: document.activeElement?.textContent ?? '',
        label: document.activeElement?.getAttribute('aria-label') ?? '',
      }));
    expect((await focused()).text).toBe('History');
    const outline = await popup.page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await popup.page.keyboard.press('Enter');
    // The search box takes the focus; Tab reaches the first chat.
    await expect.poll(async () => (await focused()).label).toBe('Search chats');
    // The list is read from the database after the search box shows: Tab once the chats are there.
    await popup.page.getByTestId('history-item').first().waitFor();
    await popup.page.keyboard.press('Tab');
    expect(await popup.page.evaluate(() => document.activeElement?.classList.contains('history-open'))).toBe(true);
    // Delete asks; Escape says no and keeps the chat; Escape again goes back to the chat.
    const items = await popup.page.getByTestId('history-item').count();
    await popup.page.keyboard.press('Tab');
    await popup.page.keyboard.press('Tab');
    await popup.page.keyboard.press('Tab');
    expect((await focused()).text).toBe('Delete');
    await popup.page.keyboard.press('Enter');
    expect((await focused()).text).toBe('Delete chat');
    await popup.page.keyboard.press('Escape');
    await popup.page.getByTestId('confirm').waitFor({ state: 'detached' });
    expect(await popup.page.getByTestId('history-item').count()).toBe(items);
    await popup.page.getByLabel('Search chats').focus();
    await popup.page.keyboard.press('Escape');
    await popup.composer().waitFor();
    expect(await popup.page.getByTestId('history-item').count()).toBe(0);
    // The focus goes back to the History button that opened it.
    expect((await focused()).text).toBe('History');
    await popup.page.close();
  });
});
