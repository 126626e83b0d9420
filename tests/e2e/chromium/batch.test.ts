/**
 * "Later, half price" in real Chromium (MV3), against a local server that answers no CORS
 * preflight (the extension holds a host permission for it, as the no-preflight proof requires):
 * three questions sent later in two conversations go as one batch (one create with three requests,
 * no /v1/messages), the service worker is stopped while the batch runs and the alarm brings it
 * back, the answers land in their conversations marked "batch - half price", the ledger has each
 * request's real tokens at half price, the month counts exactly what was batched, and one
 * notification says so. The test shortens the gathering window and the polls in the options.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { buildDir, withLoopbackGranted } from '../support/batch-probe';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';
import { batchCostBreakdown, costBreakdown } from '../../../lib/usage/prices';
import type { UsageRow } from '../../../lib/storage/db';

let server: ClaudeServer;
let browser: ChromiumWithExtension;
let granted: Awaited<ReturnType<typeof withLoopbackGranted>>;

beforeAll(async () => {
  server = await startClaudeServer({ noPreflight: true, batches: { inProgressPolls: 2 } });
  granted = await withLoopbackGranted(buildDir('chrome-mv3'));
  browser = await launchChromiumWithExtension(granted.path);
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1600 }));
  expect(await (await options.connect(TEST_KEY, server.url)).textContent()).toMatch(/^Saved\./);
  // Seconds, not minutes: the test waits for conditions, and these bound how long.
  await options.page.getByLabel('Gather questions for (seconds) before sending them as one batch').fill('2');
  await options.page.getByLabel('First look at a batch after (seconds)').fill('1');
  await options.page.getByLabel('Then look at most every (seconds)').fill('2');
  await options.page.locator('section[aria-labelledby=batch-heading]').getByRole('button', { name: 'Save' }).click();
  await options.page.getByTestId('batch-prefs-message').filter({ hasText: 'Saved.' }).waitFor();
  await options.page.close();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await granted?.remove();
  await server?.close();
});

/** The ledger's rows, read from the extension's IndexedDB by one of its pages. */
function ledger(page: Page): Promise<UsageRow[]> {
  return page.evaluate(
    () =>
      new Promise<UsageRow[]>((resolve, reject) => {
        const open = indexedDB.open('pace');
        open.onerror = () => reject(new Error(String(open.error)));
        open.onsuccess = () => {
          const all = open.result.transaction('usage').objectStore('usage').getAll();
          all.onsuccess = () => {
            resolve(all.result as UsageRow[]);
            open.result.close();
          };
          all.onerror = () => reject(new Error(String(all.error)));
        };
      }),
  );
}

const creates = () => server.requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages/batches');

describe('later, half price', () => {
  it('three questions in two conversations go as one batch, survive a stopped worker, and are answered in place at half price', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByTestId('send-later').check();
    await expect.poll(() => popup.page.getByRole('button', { name: 'Send later' }).isVisible()).toBe(true);
    await popup.send('First question, no hurry');
    await popup.questions().filter({ hasText: 'First question, no hurry' }).waitFor();
    await popup.send('Second question, same chat');
    await popup.questions().filter({ hasText: 'Second question, same chat' }).waitFor();
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('Third question, another chat');
    await popup.lastAnswer().getByText('Batched - answer usually within an hour').waitFor();

    // One create with all three requests, once the (shortened) gathering window has passed.
    await expect.poll(() => creates().length, { timeout: 20_000 }).toBe(1);
    const body = creates()[0]!.body as {
      requests: { custom_id: string; params: { messages: { content: string }[]; stream?: boolean } }[];
    };
    expect(body.requests.map((r) => r.params.messages.at(-1)!.content).sort()).toEqual([
      'First question, no hurry',
      'Second question, same chat',
      'Third question, another chat',
    ]);
    expect(body.requests.every((r) => r.params.stream === undefined)).toBe(true);
    await popup.page.close();

    // The worker is stopped while the batch runs; with no page open, only its alarm can bring it back.
    const blank = await browser.context.newPage();
    const cdp = await browser.context.newCDPSession(blank);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await cdp.detach();
    const resultsRead = () =>
      server.requests.some((r) => r.method === 'GET' && /^\/v1\/messages\/batches\/[^/]+\/results$/.test(r.path));
    expect(resultsRead()).toBe(false);
    await expect.poll(resultsRead, { timeout: 60_000, interval: 250 }).toBe(true);
    await blank.close();

    // No message went as a normal request; the batch calls all carried the key.
    expect(server.messageRequests()).toEqual([]);
    expect(creates()).toHaveLength(1);

    const again = new Popup(await browser.open('popup.html'));
    const third = await again.answerWith('done', 20_000);
    await third.getByText('You said: "Third question, another chat"').waitFor();
    await third.getByTestId('from-batch').filter({ hasText: 'batch - half price' }).waitFor();
    await again.page.getByRole('button', { name: 'History' }).click();
    await again.page
      .getByRole('button', { name: 'First question, no hurry' })
      .and(again.page.locator('.history-open'))
      .click();
    await again.answers().nth(1).getByText('You said: "Second question, same chat"').waitFor();
    expect(await again.answers().allTextContents()).toEqual([
      expect.stringContaining('You said: "First question, no hurry"') as string,
      expect.stringContaining('You said: "Second question, same chat"') as string,
    ]);
    expect(await again.page.getByTestId('from-batch').count()).toBe(2);

    // The month counts what was batched, once each; the ledger has each request at half price.
    await expect
      .poll(async () => (await again.page.getByTestId('quota-month').textContent()) ?? '')
      .toMatch(/^4,997\/5,000/);
    const rows = await ledger(again.page);
    expect(rows.map((r) => [r.outcome, r.batch])).toEqual([
      ['ok', true],
      ['ok', true],
      ['ok', true],
    ]);
    for (const r of rows) {
      expect(r.usage.inputTokens).toBeGreaterThan(0);
      expect(r.costUsd).toBeCloseTo(batchCostBreakdown(r.model, r.usage)!.total, 12);
      expect(r.costUsd).toBeCloseTo(costBreakdown(r.model, r.usage)!.total / 2, 12);
    }

    // One notification for the batch.
    const notes = await again.page.evaluate(async () => {
      const { notifications } = (
        globalThis as unknown as { chrome: { notifications: { getAll(): Promise<Record<string, boolean>> } } }
      ).chrome;
      return Object.keys(await notifications.getAll());
    });
    expect(notes.filter((id) => id.startsWith('pace-batch-'))).toHaveLength(1);
    await again.page.close();
  }, 120_000);
});
