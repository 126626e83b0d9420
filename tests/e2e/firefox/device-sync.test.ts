/// <reference types="node" />
/**
 * One month on every device in Firefox (MV2 build, issue 25): another device's entry for this
 * month, written into `storage.sync` from Pace's background page as Firefox Sync would deliver it,
 * is added to this device's month in the popup's all-devices line.
 */
import { describe, expect, it } from 'vitest';
import { TEST_KEY } from '../../support/claude-server';
import { estimateCost } from '../../../lib/usage/prices';
import { formatUsd } from '../../../lib/usage/summary';
import { readFirefoxSync, writeFirefoxSync } from '../support/browser-sync';
import {
  sendFromPopup,
  setUpKeyAndBaseURL,
  typeInto,
  useFirefox,
  waitForAnswer,
  waitForText,
  withConsoleOnFailure,
} from '../support/firefox-pages';
import { monthKeys } from '../../../lib/limits/month-window';

/** Another device of the same user, as its Pace wrote its month to storage.sync (lib/sync/device-entry.ts's entry, version 1). */
const OTHER_DEVICE = {
  id: '7d0c2a9e-4b1f-4e2a-9d7c-31f0e5b6a802',
  name: 'Desktop - Chrome',
  requests: 1_241,
  usd: 12.5,
};

/** The other device's item for the month `now` falls in, under both month modes' keys (UTC and local). */
function otherDeviceItems(now: number): Record<string, unknown> {
  const month = { requests: OTHER_DEVICE.requests, usd: OTHER_DEVICE.usd, inputTokens: 620_000, outputTokens: 124_000 };
  return {
    [`pace.device.${OTHER_DEVICE.id}`]: {
      v: 1,
      name: OTHER_DEVICE.name,
      updatedAt: now,
      months: Object.fromEntries(monthKeys(now).map((key) => [key, month])),
    },
  };
}

const ANSWER = 'Firefox adds what the desktop reported to what it sent itself. '.repeat(7).slice(0, 400);

describe('Firefox MV2: the month on all devices', () => {
  const ctx = useFirefox('firefox-mv2');

  it("adds a delivered device's month to this device's in the popup", async () => {
    await withConsoleOnFailure(ctx.ff, async () => {
      const options = await ctx.ff!.openExtensionPage('options.html');
      await typeInto(options, '#max-tokens', '200');
      await setUpKeyAndBaseURL(options, ctx.server);

      ctx.server.setDefault({ kind: 'text', text: ANSWER, chunkSize: 200, delayMs: 1 });
      const popup = await ctx.ff!.openExtensionPage('popup.html');
      await sendFromPopup(popup, 'What does the other browser know');
      await waitForAnswer(popup, ANSWER.slice(0, 30));
      const [sent] = ctx.server.messageRequests();
      const u = sent!.usage!;
      const own = estimateCost((sent!.body as { model: string }).model, {
        inputTokens: u.input_tokens,
        outputTokens: Math.ceil(ANSWER.length / 4),
        cacheReadTokens: u.cache_read_input_tokens,
        cacheCreationTokens: u.cache_creation_input_tokens,
      })!;

      await writeFirefoxSync(options, otherDeviceItems(Date.now()));
      const line = await waitForText(
        popup,
        '[data-testid=all-devices]',
        `This month on all your devices: ${(OTHER_DEVICE.requests + 1).toLocaleString('en-US')} requests`,
        20_000,
      );
      expect(line).toContain(
        `This month on all your devices: ${(OTHER_DEVICE.requests + 1).toLocaleString('en-US')} requests, ${formatUsd(OTHER_DEVICE.usd + own)} (this device 1, ${formatUsd(own)})`,
      );
      // This device wrote its own entry beside the delivered one, and neither holds the key or the message.
      await expect
        .poll(async () => Object.keys(await readFirefoxSync(options)).filter((k) => k.startsWith('pace.device.')), {
          timeout: 15_000,
          interval: 200,
        })
        .toHaveLength(2);
      const sync = JSON.stringify(await readFirefoxSync(options));
      expect(sync).not.toContain(TEST_KEY);
      expect(sync).not.toContain('What does the other browser know');
    });
  });
});
