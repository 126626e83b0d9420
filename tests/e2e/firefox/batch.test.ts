/// <reference types="node" />
/**
 * "Later, half price" in real Firefox (MV2, the default Firefox build): one batch round trip from
 * the popup, against a local server that answers no CORS preflight, the extension holding a host
 * permission for it. The question goes in one create (no /v1/messages), the background polls it,
 * and its answer lands in place marked "batch - half price".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, type ClaudeServer } from '../../support/claude-server';
import { buildDir, withLoopbackGranted } from '../support/batch-probe';
import { launchFirefoxWithExtension, type FirefoxWithExtension } from '../support/firefox';
import {
  sendFromPopup,
  setUpKeyAndBaseURL,
  typeInto,
  waitForAnswer,
  waitForText,
  withConsoleOnFailure,
} from '../support/firefox-pages';

let server: ClaudeServer;
let ff: FirefoxWithExtension | undefined;
let granted: Awaited<ReturnType<typeof withLoopbackGranted>>;

beforeAll(async () => {
  server = await startClaudeServer({ noPreflight: true, batches: { inProgressPolls: 1 } });
  granted = await withLoopbackGranted(buildDir('firefox-mv2'));
  ff = await launchFirefoxWithExtension(granted.path);
}, 60_000);
afterAll(async () => {
  await ff?.close();
  await granted?.remove();
  await server?.close();
});

describe('Firefox MV2: later, half price', () => {
  it('a question sent later goes as a Message Batch and its answer lands in place', async () => {
    await withConsoleOnFailure(ff, async () => {
      const options = await ff!.openExtensionPage('options.html');
      await setUpKeyAndBaseURL(options, server);
      // Seconds, not minutes: the test waits for conditions, and these bound how long.
      await typeInto(options, '#batch-gather', '1');
      await typeInto(options, '#batch-first-poll', '1');
      await typeInto(options, '#batch-max-poll', '1');
      await (await options.waitForSelector('section[aria-labelledby=batch-heading] button.primary'))!.click();
      await waitForText(options, '[data-testid=batch-prefs-message]', 'Saved.');

      const popup = await ff!.openExtensionPage('popup.html');
      await (await popup.waitForSelector('[data-testid=send-later]'))!.click();
      await sendFromPopup(popup, 'Whenever you can, Firefox');
      await waitForText(popup, '[data-testid=job-status]', 'Batched - answer usually within an hour');
      const answer = await waitForAnswer(popup, 'You said: "Whenever you can, Firefox"', 30_000);
      expect(answer).toContain('batch - half price');

      const creates = server.requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages/batches');
      expect(creates).toHaveLength(1);
      expect((creates[0]!.body as { requests: unknown[] }).requests).toHaveLength(1);
      expect(server.messageRequests()).toEqual([]);
      expect(server.requests.filter((r) => r.method === 'OPTIONS')).toEqual([]);
    });
  }, 90_000);
});
