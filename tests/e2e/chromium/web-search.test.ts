/**
 * "Search the web" in real Chromium, against the local Claude server (which runs the searches the
 * message's `[searches:N]` marker asks for, up to the tool's max_uses, each returning three
 * example.com pages): the request offers the web_search tool with the options' "Web searches per
 * message"; the answer lists its sources as links and its citations; the ledger and the usage page
 * count the searches and their dollars; and a budget too small for max_uses searches refuses the
 * message naming what the searches could cost, while the same message without search goes.
 */
import { describe, expect, it } from 'vitest';
import type { ClaudeServer } from '../../support/claude-server';
import { estimateCost } from '../../../lib/usage/prices';
import { formatUsd } from '../../../lib/usage/summary';
import type { ChromiumWithExtension } from '../support/chromium';
import { ledgerRows, OptionsPage, Popup } from '../support/pages';
import { useConnectedChromium } from '../support/use-connected-chromium';

let server: ClaudeServer;
let browser: ChromiumWithExtension;

useConnectedChromium((s, b) => {
  [server, browser] = [s, b];
});

const searchBox = (popup: Popup) => popup.page.locator('input[type=checkbox][aria-label="Search the web"]');

interface SentTool {
  type: string;
  name: string;
  max_uses?: number;
}

const lastBody = () =>
  server.messageRequests().at(-1)!.body as { model: string; max_tokens: number; tools?: SentTool[] };

describe('web search in real Chromium', () => {
  it('options: "Web searches per message" refuses 11 and saves 2', async () => {
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1400 }));
    await options.page.getByLabel('Web searches per message').waitFor();
    // The default is 3.
    expect(await options.page.locator('#webSearchMaxUses').inputValue()).toBe('3');
    expect(await (await options.setWebSearchMaxUses(11)).textContent()).toContain('Nothing was saved');
    expect(await (await options.setWebSearchMaxUses(2)).textContent()).toMatch(/^Saved\./);
    await options.page.reload();
    await expect.poll(() => options.page.locator('#webSearchMaxUses').inputValue()).toBe('2');
    await options.page.close();
  });

  it('with search on, the request offers the tool with max_uses 2; the sources show as links, the citations under the answer', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await searchBox(popup).check();
    // The preview line says searches may be run, and what they may cost.
    await popup.page.getByTestId('send-preview').waitFor();
    // Three searches asked for, two allowed.
    await popup.send('What is new in sourdough baking? [searches:3]');
    const done = await popup.answerWith('done');
    expect(server.messageRequests()).toHaveLength(1);
    const body = lastBody();
    expect(body.tools).toEqual([{ type: 'web_search_20260209', name: 'web_search', max_uses: 2 }]);
    expect(server.messageRequests()[0]!.answer?.webSearchRequests).toBe(2);

    // Each page the searches found, once, as a link that opens apart from the extension.
    const links = done.getByTestId('sources').locator('a[href]');
    await expect.poll(() => links.count()).toBe(6);
    const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(new Set(hrefs).size).toBe(6);
    for (const href of hrefs) expect(href).toMatch(/^https:\/\/example\.com\/search-[12]\//);
    expect(await links.first().getAttribute('rel')).toContain('noopener');
    // One passage cited from each search, linked to its page.
    const cited = done.getByTestId('citations').locator('li');
    await expect.poll(() => cited.count()).toBe(2);
    for (const href of await done
      .getByTestId('citations')
      .locator('a[href]')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href'))))
      expect(hrefs).toContain(href);

    // The ledger prices the answer with its two searches at $0.01 each.
    const rows = (await ledgerRows(popup.page)).filter((r) => r.outcome === 'ok');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.usage.webSearches).toBe(2);
    expect(rows[0]!.webSearchUsd).toBeCloseTo(0.02, 10);
    expect(rows[0]!.costUsd).toBeCloseTo(estimateCost(body.model, rows[0]!.usage)!, 10);
    expect(rows[0]!.costUsd!).toBeGreaterThan(0.02);

    // The conversation keeps its choice: the next message searches too, once here.
    await popup.send('And rye? [searches:1]');
    await expect.poll(() => popup.page.locator('[data-testid=assistant-message][data-status=done]').count()).toBe(2);
    expect(server.messageRequests()).toHaveLength(2);
    expect(lastBody().tools).toEqual([{ type: 'web_search_20260209', name: 'web_search', max_uses: 2 }]);
    await popup.page.close();
  });

  it('the usage page counts the searches and their dollars', async () => {
    const usage = await browser.open('usage.html', { width: 1100, height: 1400 });
    await usage.locator('#root[data-ready=true]').waitFor();
    const rows = (await ledgerRows(usage)).filter((r) => r.outcome === 'ok');
    const searches = rows.reduce((n, r) => n + (r.usage.webSearches ?? 0), 0);
    expect(searches).toBe(3);
    expect(await usage.getByTestId('web-searches').textContent()).toContain(`3 searches, ${formatUsd(0.03)}`);
    const spent = rows.reduce((sum, r) => sum + r.costUsd!, 0);
    expect(await usage.getByTestId('usage-spend').textContent()).toContain(`Estimated spend: ${formatUsd(spent)}`);
    await usage.close();
  });

  it('a budget too small for max_uses searches refuses the message with the figures; without search it goes', async () => {
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1400 }));
    // A short answer keeps the tokens' part of the worst case well under a cent.
    await options.page.locator('#max-tokens').fill('200');
    expect(await (await options.saveSettings()).textContent()).toMatch(/^Saved\./);
    const spent = (await ledgerRows(options.page)).reduce((sum, r) => sum + (r.costUsd ?? 0), 0);
    // What is left is 1.25 cents: room for a message, not for its two searches ($0.02).
    const budget = Number((spent + 0.0125).toFixed(6));
    await options.setMonthlyBudget(budget);
    await options.page.close();

    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await searchBox(popup).check();
    // The preview says so before anything is sent, in the words the refusal will use (admission's own decision).
    await popup.type('Search this for me [searches:2]');
    const blocker = popup.page.getByTestId('send-blocker');
    await blocker.waitFor();
    expect(await popup.page.getByTestId('send-preview-lines').textContent()).toContain('2 web searches ($0.020)');
    const previewText = (await blocker.textContent()) ?? '';
    const before = server.messageRequests().length;
    await popup.send('Search this for me [searches:2]');
    const refused = await popup.answerWith('error');
    const message = (await refused.getByTestId('answer-error').textContent()) ?? '';
    expect(message).toMatch(
      new RegExp(
        `^Not sent: this request could cost up to \\$0\\.0\\d+, including up to 2 web searches \\(\\$0\\.02\\) at \\$10 per 1,000; \\${formatUsd(budget - spent)} of your \\${formatUsd(budget)} monthly budget is left; it resets \\d+ \\w{3}, 00:00 UTC\\.$`,
      ),
    );
    const worst = Number(/could cost up to \$([\d.]+)/.exec(message)![1]);
    // Shown in cents: the searches' $0.02 and a fraction of a cent of tokens.
    expect(worst).toBeGreaterThanOrEqual(0.02);
    expect(worst).toBeLessThan(0.025);
    expect(previewText).toBe(message);
    expect(server.messageRequests()).toHaveLength(before);

    // Search off for this conversation: the same question fits the budget and goes, without the tool.
    // The box follows the conversation's stored choice, once the background has saved it.
    await searchBox(popup).click();
    await expect.poll(() => searchBox(popup).isChecked()).toBe(false);
    await popup.send('Answer this without searching');
    await popup.page.locator('[data-testid=assistant-message][data-status=done]').last().waitFor();
    expect(await popup.lastAnswer().textContent()).toContain('You said: "Answer this without searching"');
    expect(server.messageRequests()).toHaveLength(before + 1);
    expect(lastBody().tools).toBeUndefined();
    await popup.page.close();
  });
});
