/**
 * The spend budget in real Chromium, against the local Claude server with known usage figures: with
 * a budget of one cent, messages go until the next one's worst case no longer fits; that one is
 * refused with the budget, what is left and the reset, and never sent. The popup shows the dollars
 * left, and the server received exactly the requests the ledger holds.
 */
import { describe, expect, it } from 'vitest';
import type { ClaudeServer } from '../../support/claude-server';
import { formatUsd } from '../../../lib/usage/summary';
import { estimateCost } from '../../../lib/usage/prices';
import { NO_BUDGET } from '../../../lib/limits/budget';
import { leastNextUsd } from '../../../lib/limits/budget-reached';
import type { ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';
import { useConnectedChromium } from '../support/use-connected-chromium';

let server: ClaudeServer;
let browser: ChromiumWithExtension;

useConnectedChromium((s, b) => {
  [server, browser] = [s, b];
});

/** 400 characters: the server reports 100 output tokens for it. */
const ANSWER = 'A budget in dollars holds when each request reserves its worst case. '.repeat(6).slice(0, 400);
const BUDGET = 0.01;

/** What the answers the server gave cost, from the usage it reported, at the extension's list prices. */
function spentOnServer(): number {
  return server
    .messageRequests()
    .filter((r) => r.status === 200)
    .reduce((sum, r) => {
      const u = r.usage!;
      const usage = {
        inputTokens: u.input_tokens,
        outputTokens: Math.ceil(ANSWER.length / 4),
        cacheReadTokens: u.cache_read_input_tokens,
        cacheCreationTokens: u.cache_creation_input_tokens,
      };
      return sum + estimateCost((r.body as { model: string }).model, usage)!;
    }, 0);
}

describe('spend budget in real Chromium', () => {
  it('sends until the budget, refuses the next with the figures, and shows the dollars left', async () => {
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1400 }));
    // A short answer length keeps each worst case small: 200 tokens at most.
    await options.page.locator('#max-tokens').fill('200');
    expect(await (await options.saveSettings()).textContent()).toMatch(/^Saved\./);
    await options.page.locator('#budget-monthly').fill('abc');
    await options.page.getByRole('button', { name: 'Save budget' }).click();
    expect(await options.page.getByTestId('budget-message').textContent()).toBe(
      'Nothing was saved: The monthly budget must be an amount in US dollars, such as 20 or 7.50 (got "abc").',
    );
    await options.page.locator('#budget-monthly').fill(String(BUDGET));
    await options.page.getByRole('button', { name: 'Save budget' }).click();
    await options.page.getByTestId('budget-message').filter({ hasText: 'Saved: the budget applies at once' }).waitFor();
    await options.page.close();

    server.setDefault({ kind: 'text', text: ANSWER, chunkSize: 200, delayMs: 1 });
    const popup = new Popup(await browser.open('popup.html'));
    expect(await popup.page.getByTestId('quota-budget-month').textContent()).toBe('$0.01 of $0.01 left this month');
    const ended = popup.page.locator(
      '[data-testid=assistant-message][data-status=done], [data-testid=assistant-message][data-status=error]',
    );
    let sent = 0;
    for (let i = 1; i <= 12; i++) {
      await popup.send(`Question ${i}`);
      await expect.poll(() => ended.count()).toBe(i);
      if ((await popup.lastAnswer().getAttribute('data-status')) === 'error') break;
      sent = i;
      // What is left follows each answer's real cost; too little for the next answer of 200 tokens is the budget reached.
      const model = (server.messageRequests().at(-1)!.body as { model: string }).model;
      const reached =
        BUDGET - spentOnServer() < leastNextUsd({ ...NO_BUDGET, monthlyUsd: BUDGET }, { model, maxTokens: 200 })!;
      await expect
        .poll(() => popup.page.getByTestId('quota-budget-month').textContent())
        .toBe(
          reached
            ? `Budget reached this month: ${formatUsd(spentOnServer())} of $0.01 spent`
            : `${formatUsd(BUDGET - spentOnServer())} of $0.01 left this month`,
        );
    }
    expect(sent).toBeGreaterThan(1);
    expect(sent).toBeLessThan(12);
    const spent = spentOnServer();
    expect(spent).toBeLessThanOrEqual(BUDGET);
    expect(await popup.lastAnswer().getByTestId('answer-error').textContent()).toMatch(
      new RegExp(
        `^Not sent: this request could cost up to \\$0\\.\\d+; \\${formatUsd(BUDGET - spent)} of your \\$0\\.01 monthly budget is left; it resets \\d+ \\w{3}, 00:00 UTC\\.$`,
      ),
    );
    // Its worst case does not fit in what is left.
    const worst = Number(
      /could cost up to \$([\d.]+)/.exec((await popup.lastAnswer().getByTestId('answer-error').textContent())!)![1],
    );
    expect(worst).toBeGreaterThan(BUDGET - spent - 0.0001);

    // The refused one never reached the server; the ledger holds exactly what did.
    expect(server.messageRequests()).toHaveLength(sent);
    const usage = await browser.open('usage.html', { width: 1100, height: 1400 });
    await usage.locator('#root[data-ready=true]').waitFor();
    expect(await usage.getByTestId('usage-month').locator('.usage-big').textContent()).toMatch(
      new RegExp(`^${sent} of 5,000 requests`),
    );
    expect(await usage.getByTestId('usage-budget').locator('.usage-big').textContent()).toBe(
      `${formatUsd(spent)} of $0.01`,
    );
    expect(await usage.getByTestId('usage-budget-projection').textContent()).toMatch(/^(At this pace|You have spent)/);
    await usage.close();
    await popup.page.close();
  });
});
