/**
 * The popup's message box before React (components/chat/early-composer.ts), in real Chromium: what a
 * person types before the app's script has run is kept, caret and all, when React takes the box
 * over; an Enter pressed then sends the text once, when React is up; the saved draft is there before
 * React. The app's start is held back by a gate module put in a copy of the build (popup.html names
 * its module on the early script's data-main), so "before React" is a state the test controls.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';

const BUILD = resolve(`${process.env.PACE_OUT_DIR ?? '.output'}/chrome-mv3`);
const START_EVENT = 'pace-test-start-app';

let server: ClaudeServer;
let browser: ChromiumWithExtension;
let dir: string;

/** A copy of the build whose popup starts React only when the page receives START_EVENT (it sets `paceGateWaiting` once it listens). */
function gatedBuild(): string {
  const copy = mkdtempSync(join(tmpdir(), 'pace-gated-'));
  cpSync(BUILD, copy, { recursive: true });
  const html = readFileSync(join(copy, 'popup.html'), 'utf8');
  const main = /data-main="\/chunks\/([^"]+)"/.exec(html)?.[1];
  if (!main || !readdirSync(join(copy, 'chunks')).includes(main))
    throw new Error('popup.html names no module on data-main: is the build current?');
  writeFileSync(
    join(copy, 'chunks', 'gate.js'),
    `const started = new Promise((go) => addEventListener(${JSON.stringify(START_EVENT)}, go, { once: true }));\nglobalThis.paceGateWaiting = true;\nawait started;\nawait import('./${main}');\n`,
  );
  writeFileSync(join(copy, 'popup.html'), html.replace(`data-main="/chunks/${main}"`, 'data-main="/chunks/gate.js"'));
  return copy;
}

/** Opens the popup and returns once its early box has focus (React not started). */
async function openBeforeReact(): Promise<Popup> {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 400, height: 600 });
  await page.goto(`chrome-extension://${browser.extensionId}/popup.html`, { waitUntil: 'commit' });
  await page.locator('#early-composer textarea:focus').waitFor();
  return new Popup(page);
}

async function startReact(page: Page): Promise<void> {
  expect(await page.locator('header.topbar').count()).toBe(0);
  // The early script loads the gate a frame after the box has focus: an event sent before it listens would be lost.
  await page.waitForFunction(() => (globalThis as { paceGateWaiting?: boolean }).paceGateWaiting === true);
  await page.evaluate((name) => dispatchEvent(new Event(name)), START_EVENT);
  await page.locator('header.topbar').waitFor();
}

const focusedBox = (page: Page) =>
  page.evaluate(() => {
    const box = document.activeElement;
    if (!(box instanceof HTMLTextAreaElement)) return null;
    return {
      label: box.getAttribute('aria-label'),
      early: box.closest('#early-composer') !== null,
      value: box.value,
      caret: [box.selectionStart, box.selectionEnd],
    };
  });

beforeAll(async () => {
  server = await startClaudeServer();
  dir = gatedBuild();
  browser = await launchChromiumWithExtension(dir);
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
  expect(await (await options.connect(TEST_KEY, server.url)).textContent()).toMatch(/^Saved\./);
  await options.page.close();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the message box before React', () => {
  it('keeps what was typed and the caret when React takes the box over, and typing goes on there', async () => {
    const popup = await openBeforeReact();
    await popup.page.keyboard.type('Hello world');
    for (let i = 0; i < 'world'.length; i++) await popup.page.keyboard.press('ArrowLeft');
    expect(await focusedBox(popup.page)).toEqual({
      label: 'Message',
      early: true,
      value: 'Hello world',
      caret: [6, 6],
    });

    await startReact(popup.page);
    expect(await focusedBox(popup.page)).toEqual({
      label: 'Message',
      early: false,
      value: 'Hello world',
      caret: [6, 6],
    });
    await popup.page.keyboard.type('big ');
    expect(await popup.composer().inputValue()).toBe('Hello big world');
    // The Composer saves it as the draft: emptied, so the next test starts with none.
    await popup.composer().fill('');
    expect(server.messageRequests()).toHaveLength(0);
    await popup.page.close();
  });

  it('sends, once and when React is up, a message whose Enter was pressed before', async () => {
    const popup = await openBeforeReact();
    await popup.page.keyboard.type('Sent before React');
    await popup.page.keyboard.press('Enter');
    // Enter adds no line and sends nothing yet: the text waits in the box.
    expect(await focusedBox(popup.page)).toMatchObject({ early: true, value: 'Sent before React' });
    expect(server.messageRequests()).toHaveLength(0);

    await startReact(popup.page);
    await popup.questions().filter({ hasText: 'Sent before React' }).waitFor();
    await popup.answerWith('done');
    await expect.poll(() => popup.composer().inputValue()).toBe('');
    expect(server.messageRequests()).toHaveLength(1);
    expect(await popup.questions().count()).toBe(1);
    await popup.page.close();
  });

  it("refuses an empty box whose Enter was pressed before React, as React's box would", async () => {
    const sent = server.messageRequests().length;
    const popup = await openBeforeReact();
    await popup.page.keyboard.press('Enter');
    await startReact(popup.page);
    await popup.notice().filter({ hasText: 'Type a message first.' }).waitFor();
    expect(server.messageRequests()).toHaveLength(sent);
    await popup.page.close();
  });

  it('shows the saved draft before React, and keeps text typed after an early Enter unsent', async () => {
    const first = await openBeforeReact();
    await startReact(first.page);
    await first.type('A draft from before');
    type Storage = { storage: { local: { get(key: string): Promise<Record<string, unknown>> } } };
    const saved = () =>
      first.page.evaluate(
        async () => (await (globalThis as unknown as { chrome: Storage }).chrome.storage.local.get('draft')).draft,
      );
    await expect.poll(saved).toBe('A draft from before');
    await first.page.close();

    const popup = await openBeforeReact();
    await expect.poll(() => popup.composer().inputValue()).toBe('A draft from before');
    await popup.page.keyboard.press('End');
    await popup.page.keyboard.press('Enter');
    await popup.page.keyboard.type(', and more');
    await startReact(popup.page);
    // The Enter was for other text than the box now holds: nothing is sent, nothing is lost.
    expect(await focusedBox(popup.page)).toMatchObject({ early: false, value: 'A draft from before, and more' });
    await popup.composer().press('Enter');
    await popup.questions().filter({ hasText: 'A draft from before, and more' }).waitFor();
    await popup.answerWith('done');
    expect(server.messageRequests()).toHaveLength(2);
    await popup.page.close();
  });
});
