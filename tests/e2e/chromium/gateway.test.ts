/**
 * A team gateway in real Chromium: Pace pointed at the LiteLLM stand-in (tests/support), with the
 * team's virtual key. The popup shows the team budget from the gateway's /key/info, the answer's
 * cost in the ledger is the gateway's own figure, the gateway's rate-limit figures are shown under
 * its name, and after the answer the budget line follows the new spend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageRow } from '@/lib/storage/db';
import { startLiteLLMStandIn, VIRTUAL_KEY, type LiteLLMStandIn } from '../../support/litellm-standin';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';

let gateway: LiteLLMStandIn;
let browser: ChromiumWithExtension;

beforeAll(async () => {
  // The team's own prices (a markup over list prices), so the gateway's figure cannot pass for Pace's estimate.
  gateway = await startLiteLLMStandIn({
    rpmLimit: 100,
    tpmLimit: 50_000,
    maxBudget: 50,
    spend: 37.6,
    price: { input: 30_000, output: 150_000 },
  });
  browser = await launchChromiumWithExtension();
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
  expect(await (await options.connect(VIRTUAL_KEY, gateway.url)).textContent()).toMatch(/^Saved\./);
  await options.page.close();
});
afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

/** Every row of the usage ledger, read from the extension's IndexedDB in one of its pages. */
function ledger(popup: Popup): Promise<UsageRow[]> {
  return popup.page.evaluate(
    () =>
      new Promise<UsageRow[]>((resolve, reject) => {
        const open = indexedDB.open('pace');
        open.onerror = () => reject(new Error('could not open the database'));
        open.onsuccess = () => {
          const rows = open.result.transaction('usage').objectStore('usage').getAll();
          rows.onsuccess = () => resolve(rows.result as UsageRow[]);
          rows.onerror = () => reject(new Error('could not read the ledger'));
        };
      }),
  );
}

describe('a team gateway (LiteLLM stand-in) in real Chromium', () => {
  it("shows the team budget, records the gateway's cost and follows the spend after an answer", async () => {
    const popup = new Popup(await browser.open('popup.html'));
    const line = popup.page.getByTestId('gateway-budget');
    await expect.poll(() => line.textContent()).toBe('Team gateway: $12.40 of $50 left, resets 1 Dec');

    await popup.send('Hello through the gateway');
    await popup.answerWith('done');
    const messages = gateway.requests.filter((r) => r.path === '/v1/messages' && r.method === 'POST');
    expect(messages).toHaveLength(1);
    expect(messages[0]!.headers.authorization).toBe(`Bearer ${VIRTUAL_KEY}`);
    const cost = messages[0]!.cost!;
    expect(cost).toBeGreaterThan(0.1);

    await expect
      .poll(async () => (await ledger(popup)).map((r) => [r.outcome, r.costUsd, r.costFrom]))
      .toEqual([['ok', cost, 'gateway']]);
    // The gateway's figures, under its own name: not passed off as Anthropic's.
    await expect
      .poll(() => popup.page.getByTestId('quota-server').textContent())
      .toMatch(new RegExp(`^${new URL(gateway.url).host.replace('.', '\\.')}: \\d+ of 100 left this minute$`));
    // The answer moved the key's spend: the line follows it.
    const left = (50 - gateway.spend()).toFixed(2);
    await expect.poll(() => line.textContent()).toBe(`Team gateway: $${left} of $50 left, resets 1 Dec`);
    expect(gateway.requests.filter((r) => r.path === '/key/info' && r.method === 'GET').length).toBeGreaterThanOrEqual(
      2,
    );
    await popup.page.close();
  });

  it('shows no budget line, and no error, for a gateway without /key/info', async () => {
    gateway.setKeyInfo('absent');
    // The key's budget is asked again once a minute: a fresh key save forgets the one already known.
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
    await options.saveKey(VIRTUAL_KEY);
    await options.page.close();
    const asked = gateway.requests.length;
    const popup = new Popup(await browser.open('popup.html'));
    await popup.quota().waitFor();
    await expect
      .poll(() => gateway.requests.slice(asked).some((r) => r.path === '/key/info' && r.method === 'GET'))
      .toBe(true);
    await popup.page.getByTestId('quota-month').waitFor();
    expect(await popup.page.getByTestId('gateway-budget').count()).toBe(0);
    expect(await popup.notice().count()).toBe(0);
    await popup.page.close();
  });
});
