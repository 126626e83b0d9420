/// <reference types="node" />
import { describe, expect, it } from 'vitest';
import { TEST_KEY } from '../../support/claude-server';
import {
  clickButton,
  sendFromPopup,
  setUpKeyAndBaseURL,
  textOf,
  typeInto,
  useFirefox,
  waitForAnswer,
  waitForText,
  withConsoleOnFailure,
} from '../support/firefox-pages';

describe('Firefox MV2: set up a key and chat', () => {
  const ctx = useFirefox('firefox-mv2');

  it('saves the key and base URL, tests the key, and streams an answer in the popup', async () => {
    await withConsoleOnFailure(ctx.ff, async () => {
      const options = await ctx.ff!.openExtensionPage('options.html');
      await setUpKeyAndBaseURL(options, ctx.server);

      await clickButton(options, 'Test key');
      const result = await waitForText(options, '[data-testid=key-test-result]', 'The key works');
      expect(result).toContain('Claude Opus 4.7');
      expect(result).toContain('Claude Haiku 4.5');

      const popup = await ctx.ff!.openExtensionPage('popup.html');
      await sendFromPopup(popup, 'Hello from Firefox');
      // waitForAnswer fails the test unless a finished answer holds this text.
      await waitForAnswer(popup, 'You said: "Hello from Firefox"');
      expect(await popup.$$eval('[data-testid=user-message]', (els) => els.map((el) => el.textContent))).toEqual([
        'Hello from Firefox',
      ]);

      const sent = ctx.server.messageRequests();
      expect(sent).toHaveLength(1);
      const [request] = sent;
      expect(request!.headers['authorization']).toBe(`Bearer ${TEST_KEY}`);
      expect(request!.headers['anthropic-dangerous-direct-browser-access']).toBe('true');
      expect((request!.body as { messages: unknown }).messages).toEqual([
        { role: 'user', content: 'Hello from Firefox' },
      ]);
    });
  });
});

describe('Firefox MV3: set up a key and chat', () => {
  const ctx = useFirefox('firefox-mv3');

  it('streams an answer in the popup', async () => {
    await withConsoleOnFailure(ctx.ff, async () => {
      const options = await ctx.ff!.openExtensionPage('options.html');
      await setUpKeyAndBaseURL(options, ctx.server);

      const popup = await ctx.ff!.openExtensionPage('popup.html');
      await sendFromPopup(popup, 'Hello from Firefox MV3');
      // waitForAnswer fails the test unless a finished answer holds this text.
      await waitForAnswer(popup, 'You said: "Hello from Firefox MV3"');
      const sent = ctx.server.messageRequests();
      expect(sent).toHaveLength(1);
      expect(sent[0]!.body).toMatchObject({
        stream: true,
        messages: [{ role: 'user', content: 'Hello from Firefox MV3' }],
      });
    });
  });

  it('answers the same question again from the cache, and the usage page shows what was sent', async () => {
    await withConsoleOnFailure(ctx.ff, async () => {
      const popup = await ctx.ff!.openExtensionPage('popup.html');
      await clickButton(popup, 'New chat');
      await sendFromPopup(popup, 'Hello from Firefox MV3');
      await popup.waitForSelector('[data-testid=from-cache]');
      expect(await textOf(popup, '[data-testid=from-cache]')).toBe('from cache - free');
      expect(ctx.server.messageRequests()).toHaveLength(1);
      expect(await waitForText(popup, '[data-testid=quota]', '4,999/5,000 this month')).toMatch(
        /4,999\/5,000 this month · resets 1 \w{3}, 00:00 UTC/,
      );

      const usage = await ctx.ff!.openExtensionPage('usage.html');
      await usage.waitForSelector('#root[data-ready=true]');
      expect(await textOf(usage, '[data-testid=usage-month] .usage-big')).toMatch(/^1 of 5,000 requests/);
      expect(await textOf(usage, '[data-testid=usage-cache] .usage-big')).toBe('1');
    });
  });
});

describe('Firefox MV2: the limits hold', () => {
  const ctx = useFirefox('firefox-mv2');

  it('at 2 requests a minute, the third message waits its turn with a countdown, then goes', async () => {
    await withConsoleOnFailure(ctx.ff, async () => {
      const options = await ctx.ff!.openExtensionPage('options.html');
      await setUpKeyAndBaseURL(options, ctx.server);
      const custom = await options.waitForSelector('input[name=plan][value=custom]');
      await custom!.click();
      await typeInto(options, '#per-minute', '2');
      await typeInto(options, '#per-month', '50');
      await clickButton(options, 'Save limits');
      await waitForText(options, '[data-testid=limits-message]', 'Saved');

      const popup = await ctx.ff!.openExtensionPage('popup.html');
      for (let i = 1; i <= 3; i++) {
        await sendFromPopup(popup, `Limit ${i}`);
        await popup.waitForFunction(
          (n: number) => document.querySelectorAll('[data-testid=user-message]').length === n,
          { polling: 100 },
          i,
        );
      }
      await waitForAnswer(popup, 'You said: "Limit 2"');
      expect(await waitForText(popup, '[data-testid=job-status]', 'Queued - 1st, about')).toMatch(
        /^Queued - 1st, about (1 min|\d+ s)/,
      );
      expect(await textOf(popup, '[data-testid=quota]')).toContain('0/2 this minute');
      expect(ctx.server.messageRequests()).toHaveLength(2);

      await waitForAnswer(popup, 'You said: "Limit 3"', 80_000);
      const times = ctx.server.messageRequests().map((r) => r.at);
      expect(times).toHaveLength(3);
      expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(60_000);
      expect(await waitForText(popup, '[data-testid=quota]', '47/50 this month')).toMatch(
        /47\/50 this month · resets 1 \w{3}, 00:00 UTC/,
      );
    });
    // The third message waits a minute by design; Firefox's start and typing took 64-130 s more on CI, once over 150.
  }, 240_000);
});
