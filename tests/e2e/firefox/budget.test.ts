/// <reference types="node" />
/**
 * The spend budget in Firefox (MV2 build), one run to the refusal: with a one-cent budget, messages
 * go until the next one's worst case no longer fits; that one is refused with the figures and never
 * reaches the local server.
 */
import { describe, expect, it } from 'vitest';
import {
  clickButton,
  sendFromPopup,
  setUpKeyAndBaseURL,
  textOf,
  typeInto,
  useFirefox,
  waitForText,
  withConsoleOnFailure,
} from '../support/firefox-pages';

const ANSWER = 'A budget in dollars holds when each request reserves its worst case. '.repeat(6).slice(0, 400);

describe('Firefox MV2: the spend budget holds', () => {
  const ctx = useFirefox('firefox-mv2');

  it('sends until a one-cent budget, then refuses the next message with the figures', async () => {
    await withConsoleOnFailure(ctx.ff, async () => {
      const options = await ctx.ff!.openExtensionPage('options.html');
      // A short answer length keeps each worst case small; it is saved with the base URL.
      await typeInto(options, '#max-tokens', '200');
      await setUpKeyAndBaseURL(options, ctx.server);
      await typeInto(options, '#budget-monthly', '0.01');
      await clickButton(options, 'Save budget');
      await waitForText(options, '[data-testid=budget-message]', 'Saved: the budget applies at once');

      ctx.server.setDefault({ kind: 'text', text: ANSWER, chunkSize: 200, delayMs: 1 });
      const popup = await ctx.ff!.openExtensionPage('popup.html');
      expect(await waitForText(popup, '[data-testid=quota-budget-month]', 'left this month')).toBe(
        '$0.01 of $0.01 left this month',
      );
      let sent = 0;
      let refusal = '';
      for (let i = 1; i <= 12 && !refusal; i++) {
        await sendFromPopup(popup, `Question ${i}`);
        await popup.waitForFunction(
          (n: number) =>
            document.querySelectorAll(
              '[data-testid=assistant-message][data-status=done], [data-testid=assistant-message][data-status=error]',
            ).length === n,
          { timeout: 20_000, polling: 100 },
          i,
        );
        const status = await popup.$$eval('[data-testid=assistant-message]', (els) =>
          els.at(-1)?.getAttribute('data-status'),
        );
        if (status === 'error') refusal = await textOf(popup, '[data-testid=answer-error]');
        else sent = i;
      }
      expect(sent).toBeGreaterThan(1);
      expect(refusal).toMatch(
        /^Not sent: this request could cost up to \$0\.\d+; \$0\.\d+ of your \$0\.01 monthly budget is left; it resets \d+ \w{3}, 00:00 UTC\.$/,
      );
      expect(ctx.server.messageRequests()).toHaveLength(sent);
    });
  });
});
