import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer, type RecordedRequest } from '../../support/claude-server';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';

let server: ClaudeServer;
let browser: ChromiumWithExtension;

beforeAll(async () => {
  server = await startClaudeServer();
  browser = await launchChromiumWithExtension();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const lastUserText = (r: RecordedRequest) => {
  const messages = (r.body as { messages: { role: string; content: string }[] }).messages;
  return messages.at(-1)!.content;
};

/** The most requests the server saw inside any 60 seconds. */
function worstMinute(requests: RecordedRequest[]): number {
  const times = requests.map((r) => r.at);
  return Math.max(0, ...times.map((t) => times.filter((u) => u > t - 60_000 && u <= t).length));
}

async function stopServiceWorker(popup: Popup) {
  const cdp = await browser.context.newCDPSession(popup.page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
}

describe('the throttle in real Chromium: 3 requests a minute', () => {
  it('queues 7 messages, sends at most 3 in any 60 s, survives a stopped worker, and counts exactly', async () => {
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
    await options.connect(TEST_KEY, server.url);
    const saved = await options.setLimits(3, 100);
    expect(await saved.textContent()).toContain('Saved');
    await options.page.close();

    // Answers 1-3 are short; answer 4 is long, so the worker can be stopped in the middle of it.
    server.script(
      { kind: 'text', text: 'Answer one.' },
      { kind: 'text', text: 'Answer two.' },
      { kind: 'text', text: 'Answer three.' },
      { kind: 'text', text: 'word '.repeat(300), chunkSize: 5, delayMs: 30 },
    );
    const popup = new Popup(await browser.open('popup.html'));
    for (let i = 1; i <= 7; i++) await popup.send(`Message ${i}`);
    await expect.poll(() => popup.questions().count()).toBe(7);

    // Three go at once, the fourth waits for the minute, with its place and a countdown.
    await expect.poll(() => server.messageRequests().length, { timeout: 10_000 }).toBe(3);
    const status = popup.page.getByTestId('job-status').first();
    await expect
      .poll(async () => (await status.textContent()) ?? '', { timeout: 10_000 })
      .toMatch(/^Queued - 1st, about \d+ s$/);
    const first = Number(/about (\d+) s/.exec((await status.textContent())!)![1]);
    expect(first).toBeGreaterThan(40);
    expect(await popup.page.getByTestId('job-status').nth(1).textContent()).toMatch(/^Queued - 2nd, about \d+ s$/);
    await expect.poll(async () => (await popup.badge()).text, { timeout: 5_000 }).toMatch(/^\d+s$/);
    const badge = await popup.badge();
    expect(badge.title).toContain('97 of 100 requests left this month');
    expect(badge.title).toContain('4 waiting to be sent');
    expect(await popup.quota().textContent()).toContain('0/3 this minute');
    expect(await popup.quota().textContent()).toContain('97/100 this month');
    // The countdown counts down.
    await popup.page.waitForTimeout(2100);
    const later = Number(/about (\d+) s/.exec((await status.textContent())!)![1]);
    expect(later).toBeLessThan(first);

    // Stop the worker while jobs wait: nothing is lost, nothing is sent early or twice.
    await stopServiceWorker(popup);
    await popup.page.waitForTimeout(3000);
    expect(server.messageRequests()).toHaveLength(3);
    await expect.poll(async () => (await popup.badge()).text, { timeout: 5_000 }).toMatch(/^\d+s$/);
    expect(await popup.page.getByTestId('job-status').count()).toBe(4);

    // The fourth goes when the minute frees; stop the worker in the middle of its answer.
    await expect.poll(() => server.messageRequests().length, { timeout: 70_000 }).toBe(4);
    await expect
      .poll(async () => (await popup.answers().nth(3).textContent()) ?? '', { timeout: 10_000 })
      .toContain('word word word');
    await stopServiceWorker(popup);

    // Everything is answered in the end; the cut-off answer was sent once more and says so.
    await expect
      .poll(() => popup.page.locator('[data-testid=assistant-message][data-status=done]').count(), {
        timeout: 150_000,
        interval: 1000,
      })
      .toBe(7);
    const requests = server.messageRequests();
    expect(requests).toHaveLength(8);
    expect(worstMinute(requests)).toBeLessThanOrEqual(3);
    const sentTexts = requests.map(lastUserText);
    for (let i = 1; i <= 7; i++) expect(sentTexts.filter((t) => t === `Message ${i}`)).toHaveLength(i === 4 ? 2 : 1);
    await popup.answers().nth(3).getByText('resumed after an interruption').waitFor();
    // The local count equals what the server received.
    await expect.poll(async () => (await popup.quota().textContent()) ?? '').toContain('92/100 this month');
    await expect.poll(async () => (await popup.badge()).text).toBe('92');
    await popup.page.close();
  }, 300_000);
});
