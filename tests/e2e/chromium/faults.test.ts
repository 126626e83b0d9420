import { describe, expect, it } from 'vitest';
import { type ClaudeServer, type RecordedRequest } from '../../support/claude-server';
import type { ChromiumWithExtension } from '../support/chromium';
import { useConnectedChromium } from '../support/use-connected-chromium';
import { Popup } from '../support/pages';

let server: ClaudeServer;
let browser: ChromiumWithExtension;
let popup: Popup;
/** Every request the server received in this file: each test starts from an empty record. */
const earlier: RecordedRequest[] = [];
const reset = () => {
  earlier.push(...server.messageRequests());
  server.reset();
};

useConnectedChromium(async (s, b) => {
  [server, browser] = [s, b];
  popup = new Popup(await browser.open('popup.html'));
});

const done = () => popup.page.locator('[data-testid=assistant-message][data-status=done]');

/** Asks in a new chat, so the screen shows only this exchange. */
async function ask(text: string) {
  await popup.page.getByRole('button', { name: 'New chat' }).click();
  await popup.send(text);
  await popup.questions().filter({ hasText: text }).waitFor();
}

/** The local server stands where a gateway would: its waits are named by its host, not as Anthropic's. */
const host = () => new URL(server.url).host;

describe('a good API citizen, in real Chromium', () => {
  it('a 429 with retry-after: the popup says who asked to wait (the gateway, by its host), counts down, then the answer comes', async () => {
    server.script({ kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: 4 });
    await ask('Rate limited?');
    const status = popup.page.getByTestId('job-status');
    await expect
      .poll(async () => (await status.textContent()) ?? '', { timeout: 10_000 })
      .toContain(`${host()} asked us to wait 4 s.`);
    await popup.page
      .getByTestId('quota-pause')
      .filter({ hasText: `${host()} asked us to wait: sending resumes in` })
      .waitFor();
    await expect.poll(() => done().count(), { timeout: 15_000 }).toBe(1);
    expect(await done().last().textContent()).toContain('You said: "Rate limited?"');
    const [refused, retried] = server.messageRequests();
    expect(retried!.at - refused!.at).toBeGreaterThanOrEqual(4000);
  });

  it('a 529, then success: retried by itself', async () => {
    reset();
    server.script({ kind: 'error', status: 529, type: 'overloaded_error' });
    await ask('Busy?');
    await expect.poll(() => done().count(), { timeout: 15_000 }).toBe(1);
    expect(await done().last().textContent()).toContain('You said: "Busy?"');
    expect(server.messageRequests().map((r) => r.status)).toEqual([529, 200]);
    // Anthropic's own figures, from the last response's headers, sit beside Pace's.
    await popup.page
      .getByTestId('quota-server')
      .filter({ hasText: /Anthropic: \d+ of 50 left this minute/ })
      .waitFor();
    // Why it took long is one click away.
    const log = done().last().getByTestId('attempts');
    await log.getByText('2 attempts').click();
    expect(await log.textContent()).toMatch(/overloaded \(529\), then waited \d+ s.*answered \(200\)/s);
  });

  it('an error in the middle of the stream keeps the text on screen until the retry replaces it', async () => {
    reset();
    server.script({ kind: 'midStreamError', textBefore: 'The first half of an answer' });
    await ask('Half?');
    await expect
      .poll(async () => (await popup.lastAnswer().textContent()) ?? '', { timeout: 10_000 })
      .toContain('The first half of an answer');
    await expect.poll(() => done().count(), { timeout: 15_000 }).toBe(1);
    expect(await done().last().textContent()).toContain('You said: "Half?"');
    expect(await done().last().textContent()).not.toContain('The first half');
    expect(server.messageRequests()).toHaveLength(2);
  });

  it('offline: nothing is sent or spent; it waits for the network and goes when it is back', async () => {
    reset();
    await browser.context.setOffline(true);
    await ask('Offline?');
    await popup.page
      .getByTestId('job-status')
      .filter({ hasText: 'waiting for the network' })
      .waitFor({ timeout: 10_000 });
    await popup.page.waitForTimeout(1500);
    expect(server.messageRequests()).toHaveLength(0);
    await browser.context.setOffline(false);
    await expect.poll(() => done().count(), { timeout: 20_000 }).toBe(1);
    expect(server.messageRequests()).toHaveLength(1);
  });

  it('a spend-cap 429 pauses sending until the 1st, 00:00 UTC, and says exactly that', async () => {
    reset();
    server.script({ kind: 'error', status: 429, type: 'rate_limit_error', errorCode: 'enforced_spend_limit_reached' });
    await ask('Spent?');
    const pause = popup.page.getByTestId('quota-pause');
    await pause.filter({ hasText: "Your organization's spend limit is reached" }).waitFor({ timeout: 10_000 });
    expect(await pause.textContent()).toMatch(
      /refuses requests until 1 \w{3}, 00:00 UTC\. Pace has paused sending until then\./,
    );
    await popup.page.waitForTimeout(2000);
    expect(server.messageRequests()).toHaveLength(1);
  });

  it('after all the faults, the local count equals what the server received', async () => {
    // 2 (429) + 2 (529) + 2 (mid-stream) + 1 (offline) + 1 (spend cap) = 8 requests in all.
    const all = [...earlier, ...server.messageRequests()];
    expect(all).toHaveLength(8);
    await expect
      .poll(async () => (await popup.quota().textContent()) ?? '')
      .toContain(`${(5000 - all.length).toLocaleString('en-US')}/5,000 this month`);
    // All eight within the last minute, too (the whole file runs in well under a minute).
    expect(all.every((r) => r.at > Date.now() - 60_000)).toBe(true);
    expect(await popup.quota().textContent()).toContain(`${10 - all.length}/10 this minute`);
  });
});
