/**
 * Anthropic's prompt cache in real Chromium: a conversation about a long pasted text (about
 * 20,000 tokens) with five follow-ups, once with the cache on (the default) and once with it off.
 * The local Claude server models the cache; the usage page's input cost for the cached
 * conversation must be at least 60% below the uncached one, while the popup's and the badge's
 * request counts move the same in both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';

let server: ClaudeServer;
let browser: ChromiumWithExtension;

const DOCUMENT = Array.from(
  { length: 1160 },
  (_, i) => `Section ${i}: the report on rate limits says buckets refill steadily.`,
).join('\n');
/** About 20,000 tokens (the local server counts four characters a token). */
const DOCUMENT_TOKENS = Math.ceil(DOCUMENT.length / 4);
const FOLLOW_UPS = [
  'What is the main point?',
  'Which section is the longest?',
  'Summarise section 3.',
  'Any numbers in it?',
  'Thanks, one last thing: the title?',
];

beforeAll(async () => {
  server = await startClaudeServer();
  browser = await launchChromiumWithExtension();
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
  expect(await (await options.connect(TEST_KEY, server.url)).textContent()).toMatch(/^Saved\./);
  // Twelve requests in a few seconds: a per-minute limit that does not hold them back.
  expect(await (await options.setLimits(100, 5000)).textContent()).toMatch(/^Saved/);
  await options.page.close();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Sends the document and the five follow-ups in a new chat; returns the requests it made and the popup's figures after. */
async function conversation(label: string) {
  const popup = new Popup(await browser.open('popup.html'));
  await popup.page.getByRole('button', { name: 'New chat' }).click();
  const before = server.messageRequests().length;
  for (const [i, text] of [`${label}\n${DOCUMENT}`, ...FOLLOW_UPS].entries()) {
    await popup.send(text);
    await expect
      .poll(() => popup.page.locator('[data-testid=assistant-message][data-status=done]').count(), { timeout: 20_000 })
      .toBe(i + 1);
  }
  const requests = server.messageRequests().slice(before);
  const quota = await popup.page.getByTestId('quota-month').textContent();
  const badge = (await popup.badge()).text;
  return { popup, requests, quota, badge };
}

const usd = (text: string | null) => Number(/\$([\d,.]+)/.exec(text ?? '')?.[1]?.replace(/,/g, '') ?? NaN);

describe("Anthropic's prompt cache in real Chromium", () => {
  it('reads a long conversation from the cache from the second turn on, at well under half the input cost, the counts unchanged', async () => {
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
    await expect
      .poll(() => options.page.getByTestId('prompt-cache-mode').textContent())
      .toMatch(/^Prompt cache: automatic \(5 minutes\)/);

    const cached = await conversation('Run A: the report');
    expect(cached.requests).toHaveLength(6);
    expect(cached.requests.every((r) => (r.body as { cache_control?: unknown }).cache_control !== undefined)).toBe(
      true,
    );
    const reads = cached.requests.map((r) => r.usage?.cache_read_input_tokens ?? 0);
    expect(DOCUMENT_TOKENS).toBeGreaterThan(19_500);
    expect(cached.requests[0]!.usage?.cache_creation_input_tokens).toBeGreaterThanOrEqual(DOCUMENT_TOKENS);
    expect(reads[0]).toBe(0);
    for (const read of reads.slice(1)) expect(read).toBeGreaterThanOrEqual(DOCUMENT_TOKENS);
    // The answer to a follow-up says where its prefix came from.
    const details = cached.popup.lastAnswer().getByTestId('attempts');
    await details.locator('summary').click();
    expect(await details.textContent()).toMatch(/answered \(200\), prefix from Anthropic's cache \([\d,]+ tokens\)/);
    await cached.popup.page.close();

    await options.page.locator('#prompt-cache').selectOption('off');
    expect(await (await options.saveSettings()).textContent()).toMatch(/^Saved\./);
    expect(await options.page.getByTestId('prompt-cache-mode').textContent()).toMatch(/^Prompt cache: off/);
    await options.page.close();

    const plain = await conversation('Run B: the report');
    expect(plain.requests).toHaveLength(6);
    expect(JSON.stringify(plain.requests.map((r) => r.body))).not.toContain('cache_control');
    expect(
      plain.requests.map((r) => (r.usage?.cache_read_input_tokens ?? 0) + (r.usage?.cache_creation_input_tokens ?? 0)),
    ).toEqual([0, 0, 0, 0, 0, 0]);

    // The same six requests counted either way, in the popup and on the badge.
    expect(cached.quota).toMatch(/^4,994\/5,000/);
    expect(plain.quota).toMatch(/^4,988\/5,000/);
    expect([cached.badge, plain.badge]).toEqual(['4994', '4988']);
    await plain.popup.page.close();

    const usage = await browser.open('usage.html', { width: 1100, height: 1400 });
    await usage.locator('#root[data-ready=true]').waitFor();
    const inputCost = async (title: string) =>
      usd(await usage.getByTestId('usage-top').locator('tr', { hasText: title }).locator('td').nth(1).textContent());
    const withCache = await inputCost('Run A: the report');
    const without = await inputCost('Run B: the report');
    expect(without).toBeGreaterThan(0);
    expect(withCache).toBeLessThanOrEqual(without * 0.4);
    const saved = await usage.getByTestId('prompt-cache-saved').textContent();
    expect(saved).toMatch(/^Saved by Anthropic's prompt cache: \$[\d.]+ this month\.$/);
    expect(usd(saved)).toBeGreaterThan(0);
    await usage.close();
  });
});
