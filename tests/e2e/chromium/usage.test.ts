/**
 * The response cache and the usage ledger in real Chromium: the same question twice reaches the
 * local Claude server once, the second answer says it came from the cache and the quota does not
 * move; the usage page's figures equal what the server received, and the export holds every row.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import type { ChromiumWithExtension } from '../support/chromium';
import { useConnectedChromium } from '../support/use-connected-chromium';
import { Popup } from '../support/pages';

let server: ClaudeServer;
let browser: ChromiumWithExtension;

useConnectedChromium((s, b) => {
  [server, browser] = [s, b];
});

describe('response cache and usage in real Chromium', () => {
  it('asks the same question twice: one request, the second answer from the cache, the quota unchanged', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    server.script({ kind: 'text', text: 'A token bucket refills at a steady rate.' });
    await popup.send('What is a token bucket?');
    await popup.answerWith('done');
    await expect.poll(() => popup.page.getByTestId('quota-month').textContent()).toMatch(/^4,999\/5,000/);
    const quotaAfterFirst = await popup.page.getByTestId('quota-month').textContent();

    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('What is a token bucket?');
    const second = await popup.answerWith('done');
    await second.getByTestId('from-cache').waitFor();
    expect(await second.textContent()).toContain('A token bucket refills at a steady rate.');
    expect(await second.getByTestId('from-cache').textContent()).toBe('from cache - free');
    expect(server.messageRequests()).toHaveLength(1);
    expect(await popup.page.getByTestId('quota-month').textContent()).toBe(quotaAfterFirst);

    // "Ask again" goes to Claude: a second request, and the answer no longer says "from cache".
    server.script({ kind: 'text', text: 'Tokens drip into a bucket; each request takes one.' });
    await second.getByRole('button', { name: 'Ask again' }).click();
    await popup.page.getByText('Tokens drip into a bucket').waitFor();
    expect(await popup.lastAnswer().getByTestId('from-cache').count()).toBe(0);
    expect(server.messageRequests()).toHaveLength(2);
    await popup.page.close();
  });

  it('the usage page shows what the server received, and exports every ledger row without the key', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    // One transient failure, retried by itself: two requests for one answer.
    server.script(
      { kind: 'error', status: 529, type: 'overloaded_error' },
      { kind: 'text', text: 'Fine, after a retry.' },
    );
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('Something new');
    await popup.page.getByText('Fine, after a retry.').waitFor({ timeout: 30_000 });
    await popup.answerWith('done');
    await popup.page.close();

    const received = server.messageRequests();
    const ok = received.filter((r) => r.status === 200).length;
    const failed = received.filter((r) => r.status !== 200).length;
    expect([received.length, ok, failed]).toEqual([4, 3, 1]);

    const usage = await browser.open('usage.html', { width: 1100, height: 1400 });
    await usage.locator('#root[data-ready=true]').waitFor();
    expect(await usage.getByTestId('usage-month').locator('.usage-big').textContent()).toMatch(
      new RegExp(`^${received.length} of 5,000 requests`),
    );
    expect(await usage.getByTestId('usage-cache').locator('.usage-big').textContent()).toBe('1');
    expect(await usage.getByTestId('usage-spend').textContent()).toMatch(/Estimated spend: \$\d+\.\d+/);
    // The per-day table (for screen readers) holds today's figures: requests, then errors.
    const requestsTable = await usage
      .getByTestId('chart-requests')
      .locator('tbody tr')
      .last()
      .locator('td')
      .allTextContents();
    expect(requestsTable[0]).toBe(String(received.length));
    const errorsTable = await usage
      .getByTestId('chart-errors')
      .locator('tbody tr')
      .last()
      .locator('td')
      .allTextContents();
    expect(errorsTable[0]).toBe(String(failed));

    const [download] = await Promise.all([
      usage.waitForEvent('download'),
      usage.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csv = readFileSync(await download.path(), 'utf8');
    const lines = csv.trim().split(/\r?\n/);
    // A header, one row per request the server received, and one for the answer served from the cache.
    expect(lines).toHaveLength(1 + received.length + 1);
    expect(csv).toContain('overloaded');
    expect(csv).not.toContain(TEST_KEY);
    await usage.close();
  });
});
