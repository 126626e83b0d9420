import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';

let server: ClaudeServer;
let browser: ChromiumWithExtension;
let popup: Popup;

beforeAll(async () => {
  server = await startClaudeServer();
  browser = await launchChromiumWithExtension();
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
  await options.connect(TEST_KEY, server.url);
  await options.page.close();
  popup = new Popup(await browser.open('popup.html'));
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('a long server pause, in real Chromium', () => {
  it('a 429 asking for 28 days pauses the queue for an hour at most; Try now sends exactly one request, and the answer arrives', async () => {
    server.script({ kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: 28 * 24 * 60 * 60 });
    await popup.send('Still there?');
    // Capped: Anthropic's limits refill within a minute, so Pace believes an hour at most.
    const status = popup.page.getByTestId('job-status');
    await status.filter({ hasText: 'Anthropic asked us to wait 1 h.' }).waitFor({ timeout: 15_000 });
    expect(await status.textContent()).toMatch(/Trying again in (59 min|1 h)/);
    const pause = popup.page.getByTestId('quota-pause');
    await pause.filter({ hasText: 'Anthropic asked us to wait: sending resumes in' }).waitFor();
    expect(server.messageRequests().map((r) => r.status)).toEqual([429]);

    await pause.getByRole('button', { name: 'Try now' }).click();
    const done = await popup.answerWith('done');
    expect(await done.textContent()).toContain('You said: "Still there?"');
    expect(server.messageRequests().map((r) => r.status)).toEqual([429, 200]);
    await pause.waitFor({ state: 'detached' });
    // Both requests were counted by Pace's own limiter.
    await expect.poll(async () => (await popup.quota().textContent()) ?? '').toContain('4,998/5,000 this month');
    expect(server.messageRequests()).toHaveLength(2);
  });
});
