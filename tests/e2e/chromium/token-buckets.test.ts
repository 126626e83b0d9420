/**
 * Anthropic's token buckets in real Chromium (issue 21): a local server enforces an input-token or
 * an output-token bucket and says so in its `anthropic-ratelimit-*-tokens-*` headers; messages are
 * sent as fast as the popup allows. Once Pace has seen those headers it must wait for the bucket
 * rather than collect a 429, and after any 429 it must not send again before the retry-after has
 * passed. Every message is answered exactly once.
 *
 * One browser for the file; each scenario has a server of its own, which the options page points
 * Pace at. Pace keeps the last headers it read, so a scenario starts with the previous server's
 * figures until its own first answer replaces them; the order below keeps that cost small. The
 * scenarios after issue 21's own refill their buckets in 20-30 s rather than a minute, so the file
 * stays near three minutes.
 *
 * Set PACE_E2E_TIMELINE=1 to print each scenario's server timeline when it passes too.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer, type RecordedRequest } from '../../support/claude-server';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';

let browser: ChromiumWithExtension;
let server: ClaudeServer | undefined;

beforeAll(async () => {
  browser = await launchChromiumWithExtension();
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
  await options.saveKey(TEST_KEY);
  // Pace's own request limits stay out of the way: only the server's buckets are measured here.
  expect(await (await options.setLimits(1_000, 1_000_000)).textContent()).toMatch(/^Saved/);
  await options.page.close();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});
// A scenario that failed may leave messages waiting: they must not reach the next one's server.
afterEach(async () => {
  const popup = new Popup(await browser.open('popup.html'));
  await popup.quota().waitFor();
  const clear = popup.page.getByRole('button', { name: 'Clear queue' });
  if (await clear.isVisible()) await clear.click();
  await popup.page.getByTestId('quota-waiting').waitFor({ state: 'detached' });
  await popup.page.close();
});

/** A fresh server for the scenario, and Pace pointed at it (with this maximum answer length). */
async function useServer(opts: Parameters<typeof startClaudeServer>[0], maxTokens = 4096): Promise<ClaudeServer> {
  await server?.close();
  server = await startClaudeServer(opts);
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
  await options.page.locator('[data-testid=key-status]:not(:empty)').waitFor();
  await options.setBaseURL(server.url);
  await options.page.locator('#max-tokens').fill(String(maxTokens));
  expect(await (await options.saveSettings()).textContent()).toMatch(/^Saved\./);
  await options.page.close();
  return server;
}

const lastUserText = (r: RecordedRequest): string => {
  const content =
    (r.body as { messages: { role: string; content: string | { text: string }[] }[] }).messages
      .filter((m) => m.role === 'user')
      .at(-1)?.content ?? '';
  return typeof content === 'string' ? content : content.map((b) => b.text).join('\n');
};
const numberOf = (r: RecordedRequest): string => /^Message (\d+):/.exec(lastUserText(r))?.[1] ?? '?';

/** What reached the server, one line a request: arrival and answer offsets, status, message number, retry-after. */
function timeline(s: ClaudeServer): string {
  const requests = s.requests.filter((r) => r.method === 'POST');
  const start = requests[0]?.at ?? 0;
  return requests
    .map((r) => {
      if (r.path !== '/v1/messages') return `  +${r.at - start} ms: ${r.path} -> ${r.status ?? 'pending'}`;
      const answered = r.answeredAt === undefined ? '' : `, answered +${r.answeredAt - start} ms`;
      const retry = r.retryAfter === undefined ? '' : `, retry-after ${r.retryAfter} s`;
      const turns = (r.body as { messages: unknown[] }).messages.length;
      const input = Math.ceil(JSON.stringify((r.body as { messages: unknown[] }).messages).length / 4);
      return `  +${r.at - start} ms: message ${numberOf(r)} (${turns} turns, ~${input} tokens) -> ${r.status ?? 'pending'}${retry}${answered}`;
    })
    .join('\n');
}

/** The figures a run comes to, for the report on failure (and the log with PACE_E2E_TIMELINE=1). */
function measured(s: ClaudeServer): string {
  const requests = s.messageRequests();
  const refused = requests.filter((r) => r.status === 429);
  // The server records requests in arrival order.
  const gaps = refused.flatMap((r) => {
    const next = requests[requests.indexOf(r) + 1];
    return next ? [`${next.at - r.at} ms after a 429 asking ${r.retryAfter ?? 0} s`] : [];
  });
  const took = requests.length ? Math.max(...requests.map((r) => r.answeredAt ?? r.at)) - requests[0]!.at : 0;
  return `${requests.length} requests, ${refused.length} answered 429, ${took} ms from the first arrival to the last answer; next request after each 429: ${gaps.join('; ') || 'none'}`;
}

/**
 * Everything the scenario promises, as a list of what went wrong (empty when all held):
 * - at most one 429 in all, and only for a request that arrived before the server had sent any
 *   answer carrying rate-limit headers (before then Pace cannot know the bucket);
 * - no request arrives before an earlier 429's retry-after has passed;
 * - every message answered 200 exactly once, and no other status.
 */
function broken(s: ClaudeServer, numbers: string[]): string[] {
  const requests = s.messageRequests();
  const start = requests[0]?.at ?? 0;
  const wrong: string[] = [];
  const firstHeaders = Math.min(...requests.map((r) => r.answeredAt ?? Infinity));
  const refused = requests.filter((r) => r.status === 429);
  if (refused.length > 1) wrong.push(`${refused.length} requests were answered 429; at most one may be`);
  for (const r of refused) {
    if (r.at > firstHeaders)
      wrong.push(
        `message ${numberOf(r)} arrived at +${r.at - start} ms, after rate-limit headers had been sent (+${firstHeaders - start} ms), and was answered 429`,
      );
    const until = r.at + (r.retryAfter ?? 0) * 1000;
    for (const later of requests.slice(requests.indexOf(r) + 1)) {
      if (later.at < until)
        wrong.push(
          `message ${numberOf(later)} arrived ${later.at - r.at} ms after the 429 of message ${numberOf(r)}, which asked for ${r.retryAfter ?? 0} s`,
        );
    }
  }
  const others = requests.filter((r) => r.status !== 200 && r.status !== 429);
  if (others.length)
    wrong.push(
      `answered neither 200 nor 429: ${others.map((r) => `message ${numberOf(r)} (${r.status ?? 'pending'})`).join(', ')}`,
    );
  const answered = requests
    .filter((r) => r.status === 200)
    .map(numberOf)
    .sort();
  if (JSON.stringify(answered) !== JSON.stringify([...numbers].sort()))
    wrong.push(`answered 200: messages [${answered.join(', ')}], expected each of [${numbers.join(', ')}] once`);
  return wrong;
}

/** Waits until as many requests as messages were answered 200 and none is still open, then checks the promises above. */
async function expectKept(s: ClaudeServer, numbers: string[], timeout: number): Promise<void> {
  const report = (why: string) => `${why}\n${measured(s)}\nserver timeline:\n${timeline(s)}`;
  await expect
    .poll(
      () =>
        s.messageRequests().filter((r) => r.status === 200).length >= numbers.length &&
        s.messageRequests().every((r) => r.status !== undefined),
      { timeout, interval: 500 },
    )
    .toBe(true)
    .catch((err: unknown) => {
      throw new Error(
        report(`not every message was answered in ${timeout} ms: ${err instanceof Error ? err.message : String(err)}`),
      );
    });
  if (process.env.PACE_E2E_TIMELINE) console.log(report(expect.getState().currentTestName ?? ''));
  expect(broken(s, numbers), report('the rate-limit promises')).toEqual([]);
}

/**
 * New chat, then the message, as a user does; done once the box is empty (the background has taken
 * it). Until then the popup may still move to the chat this message started: it reads its chat when
 * the send's turn comes (components/chat/chat-store.ts), so a New chat pressed sooner could be
 * undone and the next message join this one's chat.
 */
async function sendInOwnChat(p: Popup, text: string): Promise<void> {
  await p.page.getByRole('button', { name: 'New chat' }).click();
  await p.send(text);
  await expect.poll(() => p.composer().inputValue(), { timeout: 30_000 }).toBe('');
}

/**
 * sendInOwnChat for two surfaces at once: types `text`, then presses New chat and Enter in one go.
 * The popup and the side panel follow the conversation last written anywhere (components/chat/
 * use-follow-latest.ts): with the other surface sending too, a surface could move to that chat
 * between a separate click and keypress.
 */
async function sendInNewChat(p: Popup, text: string): Promise<void> {
  await p.type(text);
  await p.composer().evaluate((box) => {
    const newChatButton = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'New chat');
    if (!newChatButton) throw new Error('no New chat button');
    newChatButton.click();
    box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
  });
  await expect.poll(() => p.composer().inputValue(), { timeout: 30_000 }).toBe('');
}

describe("Anthropic's token buckets, advertised in headers and enforced with 429s", () => {
  // First, while Pace holds no figures: since it reads none from this server's answers today, it
  // would otherwise go on believing the previous server's.
  it('issue 21: seven messages of about 9,750 input tokens, each in its own chat, against 30,000 a minute, from a server that reports only its input-tokens trio: at most one 429, only before the headers were seen, retry-after kept', async () => {
    // As issue 21's server: it enforces the bucket and says so in the input-tokens headers alone.
    // (With Anthropic's requests trio as well, the scenario below covers the input bucket.)
    const s = await useServer({ inputTokenBucket: { limit: 30_000, refillMs: 60_000 }, requestLimitHeaders: false });
    const popup = new Popup(await browser.open('popup.html'));
    // 39,000 characters and a few: about 9,750 tokens as the server counts (four characters a token).
    const numbers = ['1', '2', '3', '4', '5', '6', '7'];
    for (const n of numbers) await sendInOwnChat(popup, `Message ${n}: ${'word '.repeat(7_800)}`);
    // Three fit the bucket; the other four wait about 20 s each for it to refill (500 tokens a second).
    await expectKept(s, numbers, 170_000);
    await popup.page.close();
  }, 200_000);

  it("the popup and the side panel sending side by side, each message in a chat of its own, against 30,000 input tokens refilled in 30 s, with all of Anthropic's headers: the same promises", async () => {
    // Six messages of about 9,750 tokens, three from each surface at once: twice what the bucket holds.
    const s = await useServer({ inputTokenBucket: { limit: 30_000, refillMs: 30_000 } });
    const surfaces: [Popup, string[]][] = [
      [new Popup(await browser.open('popup.html')), ['1', '2', '3']],
      [new Popup(await browser.open('sidepanel.html')), ['4', '5', '6']],
    ];
    await Promise.all(
      surfaces.map(async ([surface, numbers]) => {
        for (const n of numbers) await sendInNewChat(surface, `Message ${n}: ${'word '.repeat(7_800)}`);
      }),
    );
    await expectKept(s, ['1', '2', '3', '4', '5', '6'], 100_000);
    // Each went in a chat of its own, whichever surface sent it.
    const joined = s.messageRequests().filter((r) => (r.body as { messages: unknown[] }).messages.length !== 1);
    expect(joined.map(numberOf), timeline(s)).toEqual([]);
    for (const [surface] of surfaces) await surface.page.close();
  }, 130_000);

  it('six answers of 1,000 output tokens, each in its own chat, against 3,000 output tokens refilled in 20 s: the same promises', async () => {
    // Anthropic counts output tokens as they are produced: an answer's 1,000 leave the bucket while
    // it streams. Pace's maximum answer length is set to the same 1,000, so it can know what each takes.
    const s = await useServer(
      {
        outputTokenBucket: { limit: 3_000, refillMs: 20_000 },
        defaultBehaviour: { kind: 'text', text: 'A thousand tokens. '.padEnd(4_000, 'x'), chunkSize: 500 },
      },
      1_000,
    );
    const popup = new Popup(await browser.open('popup.html'));
    const numbers = ['1', '2', '3', '4', '5', '6'];
    for (const n of numbers) await sendInOwnChat(popup, `Message ${n}: a short question`);
    // Three answers fit the bucket; the other three wait about 6.7 s each (150 tokens a second).
    await expectKept(s, numbers, 90_000);
    await popup.page.close();
  }, 120_000);
});
