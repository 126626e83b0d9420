/**
 * Races and restarts against the request count, in real Chromium: a double-clicked Retry sends one
 * request, and a worker stopped in the middle of an answer leaves the popup's month count, the
 * badge and the usage page agreeing with the number of requests the local server received; and a
 * connection dropped mid-answer is still recognised from what Chromium's fetch throws.
 */
import { describe, expect, it } from 'vitest';
import { type ClaudeServer } from '../../support/claude-server';
import type { ChromiumWithExtension } from '../support/chromium';
import { useConnectedChromium } from '../support/use-connected-chromium';
import { Popup } from '../support/pages';

let server: ClaudeServer;
let browser: ChromiumWithExtension;

useConnectedChromium((s, b) => {
  [server, browser] = [s, b];
});

const PER_MONTH = 5000;

describe('one click, one request; one request, one count', () => {
  it('a double-clicked Retry sends one request, and the second click is refused as busy', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.send('Answer me twice?');
    await popup.answerWith('done');
    expect(server.messageRequests()).toHaveLength(1);

    // Slow enough that the second click always lands while the first retry is still on its way.
    server.script({ kind: 'text', text: 'The one and only retry.', chunkSize: 4, delayMs: 100 });
    await popup.lastAnswer().getByRole('button', { name: 'Retry' }).dblclick();
    await popup.page.getByText('The one and only retry.').waitFor();
    await popup.answerWith('done');
    // Both clicks reached the background: the second was refused, not queued again.
    await popup
      .notice()
      .filter({ hasText: 'This answer is still queued or being written.' })
      .waitFor({ timeout: 5_000 });
    expect(server.messageRequests()).toHaveLength(2);
    await popup.page.close();
  });

  it('a worker stopped mid-answer: the popup, the badge and the usage page count what the server received', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    server.script({ kind: 'text', text: 'word '.repeat(300), chunkSize: 5, delayMs: 30 });
    const before = server.messageRequests().length;
    await popup.send('A long answer, please');
    await expect
      .poll(async () => (await popup.lastAnswer().textContent()) ?? '', { timeout: 10_000 })
      .toContain('word word word');

    const cdp = await browser.context.newCDPSession(popup.page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await cdp.detach();

    // The worker starts again, sends the cut-off answer once more, and it completes.
    const done = await popup.answerWith('done', 60_000);
    await done.getByText('resumed after an interruption').waitFor();
    const received = server.messageRequests().length;
    expect(received).toBe(before + 2);

    const left = (PER_MONTH - received).toLocaleString('en-US');
    await expect
      .poll(async () => (await popup.page.getByTestId('quota-month').textContent()) ?? '')
      .toMatch(new RegExp(`^${left}/5,000`));
    await expect.poll(async () => (await popup.badge()).text).toBe(String(PER_MONTH - received));
    await popup.page.close();

    const usage = await browser.open('usage.html', { width: 1100, height: 1400 });
    await usage.locator('#root[data-ready=true]').waitFor();
    expect(await usage.getByTestId('usage-month').locator('.usage-big').textContent()).toMatch(
      new RegExp(`^${received} of 5,000 requests`),
    );
    const requestsTable = await usage
      .getByTestId('chart-requests')
      .locator('tbody tr')
      .last()
      .locator('td')
      .allTextContents();
    expect(requestsTable[0]).toBe(String(received));
    // The cut-off send is in the ledger as interrupted, counted among the failed requests.
    const errorsTable = await usage
      .getByTestId('chart-errors')
      .locator('tbody tr')
      .last()
      .locator('td')
      .allTextContents();
    expect(errorsTable[0]).toBe('1');
    await usage.close();
  }, 120_000);

  it("a connection dropped mid-answer is taken for what Chromium's fetch says it is, and retried by itself", async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    server.script({ kind: 'drop', textBefore: 'Half an ' }, { kind: 'text', text: 'The whole answer.' });
    const before = server.messageRequests().length;
    await popup.send('Drop me once');
    await popup.page.getByText('The whole answer.').waitFor({ timeout: 20_000 });
    const done = await popup.answerWith('done');
    expect(await done.getByTestId('attempts').textContent()).toContain('2 attempts');
    expect(server.messageRequests().length).toBe(before + 2);
    await popup.page.close();
  });
});
