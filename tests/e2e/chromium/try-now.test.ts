import { describe, expect, it } from 'vitest';
import { type ClaudeServer } from '../../support/claude-server';
import type { ChromiumWithExtension } from '../support/chromium';
import { useConnectedChromium } from '../support/use-connected-chromium';
import { Popup } from '../support/pages';

let server: ClaudeServer;
let browser: ChromiumWithExtension;
let popup: Popup;

useConnectedChromium(async (s, b) => {
  [server, browser] = [s, b];
  popup = new Popup(await browser.open('popup.html'));
});

/** The text of the last user turn in a recorded request. */
const lastQuestion = (body: unknown) => {
  const content = (body as { messages: { content: string | { text: string }[] }[] }).messages.at(-1)!.content;
  return typeof content === 'string' ? content : content.map((b) => b.text).join('');
};

/** The local server stands where a gateway would: its waits are named by its host, not as Anthropic's. */
const host = () => new URL(server.url).host;

describe('a long server pause, in real Chromium', () => {
  it('a 429 asking for 28 days pauses the queue for an hour at most; with two messages waiting, Try now sends one, and the other once its answer is in', async () => {
    server.script({ kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: 28 * 24 * 60 * 60 });
    await popup.send('Still there?');
    // Capped: Anthropic's limits refill within a minute, so Pace believes an hour at most.
    const status = popup.page.getByTestId('job-status');
    await status.filter({ hasText: `${host()} asked us to wait 1 h.` }).waitFor({ timeout: 15_000 });
    expect(await status.textContent()).toMatch(/Trying again in (59 min|1 h)/);
    const pause = popup.page.getByTestId('quota-pause');
    await pause.filter({ hasText: `${host()} asked us to wait: sending resumes in` }).waitFor();
    expect(server.messageRequests().map((r) => r.status)).toEqual([429]);

    // A second message, in another conversation so that only the pause holds it back.
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('And you?');
    await popup.page.getByTestId('quota-waiting').filter({ hasText: '2 waiting to be sent' }).waitFor();

    // The probe's answer is slow: anything let through with it would reach the server meanwhile.
    server.script({ kind: 'text', text: 'Yes, Anthropic takes requests again.', chunkSize: 2, delayMs: 100 });
    const answeredOnArrival: (number | undefined)[][] = [];
    server.setDefault(() => {
      answeredOnArrival.push(server.messageRequests().map((r) => r.status));
      return { kind: 'text', text: 'Here too.' };
    });

    await pause.getByRole('button', { name: 'Try now' }).click();
    await pause
      .getByTestId('quota-probe')
      .filter({ hasText: `One message goes now, to ask ${host()} again; the rest wait for its answer.` })
      .waitFor();
    const done = await popup.answerWith('done', 30_000);
    expect(await done.textContent()).toContain('Here too.');
    await pause.waitFor({ state: 'detached' });

    // One request went (the older message); the other arrived only once that answer had ended, with a 200.
    const requests = server.messageRequests();
    expect(requests.map((r) => r.status)).toEqual([429, 200, 200]);
    expect(requests.map((r) => lastQuestion(r.body))).toEqual(['Still there?', 'Still there?', 'And you?']);
    expect(answeredOnArrival).toEqual([[429, 200, undefined]]);
    // All three requests were counted by Pace's own limiter.
    await expect.poll(async () => (await popup.quota().textContent()) ?? '').toContain('4,997/5,000 this month');
  });
});
