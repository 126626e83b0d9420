import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';

let server: ClaudeServer;
let browser: ChromiumWithExtension;

beforeAll(async () => {
  mkdirSync('docs', { recursive: true });
  server = await startClaudeServer();
  browser = await launchChromiumWithExtension();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('Pace in real Chromium (MV3)', () => {
  it('opens the options page on install', async () => {
    await expect
      .poll(() => browser.context.pages().some((p) => p.url().endsWith('/options.html')), { timeout: 10_000 })
      .toBe(true);
  });

  it('without a key, the popup says so and keeps the draft', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByTestId('no-key-banner').waitFor();
    await popup.send('My first question');
    await popup.notice().filter({ hasText: 'No API key is set' }).waitFor();
    expect(await popup.composer().inputValue()).toBe('My first question');
    // Closing and reopening the popup still shows the draft.
    await popup.page.reload();
    await expect.poll(() => popup.composer().inputValue()).toBe('My first question');
    await popup.composer().fill('');
    await popup.page.waitForTimeout(300);
    await popup.page.close();
    expect(server.messageRequests()).toHaveLength(0);
  });

  it('options: refuses bad values with specific messages and saves nothing', async () => {
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 900 }));
    await options.keyField().fill('sk-ant with spaces');
    await options.page.getByRole('button', { name: 'Save key' }).click();
    await options.page.getByTestId('key-error').filter({ hasText: 'spaces or line breaks' }).waitFor();
    await options.setBaseURL('javascript:alert(1)');
    await options.page.locator('#max-tokens').fill('-3');
    const message = await options.saveSettings();
    expect(await message.textContent()).toContain('Nothing was saved');
    await options.page.getByText('Only http and https base URLs are allowed, not javascript:').waitFor();
    await options.page.getByText('must be at least 1 token (got -3)').waitFor();
    await options.page.close();
  });

  it('options: a wrong key is reported as wrong by Test key', async () => {
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 900 }));
    await options.setBaseURL(server.url);
    const result = await options.testKey('sk-ant-not-the-right-one');
    await result.locator('[data-code=wrong_key]').waitFor();
    expect(await result.textContent()).toContain('The API key was refused');
    await options.page.close();
  });

  it('options: the user sets the key and base URL, and Test key lists the models', async () => {
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 900 }));
    await options.saveKey(TEST_KEY);
    await options.setBaseURL(server.url);
    await options.page.locator('#max-tokens').fill('1024');
    const saved = await options.saveSettings();
    expect(await saved.textContent()).toMatch(/^Saved\./);
    const result = await options.testKey();
    await result.getByText('The key works').waitFor();
    expect(await result.textContent()).toContain('Claude Sonnet 4.6');
    // The model list now comes from the key's own list.
    expect(await options.page.locator('#model option').allTextContents()).toEqual([
      'Claude Opus 4.7',
      'Claude Sonnet 4.6',
      'Claude Haiku 4.5',
      'Claude Sonnet 5.5',
      'Claude Opus 5.5',
      'Claude Haiku 5.5',
    ]);
    // The page never holds the key: only its last four characters.
    expect(await options.page.content()).not.toContain(TEST_KEY);
    await options.page.close();
  });

  it('refuses an empty message without sending anything', async () => {
    server.reset();
    const popup = new Popup(await browser.open('popup.html'));
    await popup.composer().waitFor();
    await popup.composer().press('Enter');
    await popup.notice().filter({ hasText: 'Type a message first.' }).waitFor();
    expect(server.messageRequests()).toHaveLength(0);
    await popup.page.close();
  });

  it('streams an answer into the popup, rendered as Markdown', async () => {
    server.reset();
    const answer =
      'Pace queues your requests so you stay **inside your limits**:\n\n- 10 requests a minute on Free\n- 5,000 a month\n\n```ts\nconst pace = 10;\n```';
    server.script({ kind: 'text', text: answer, chunkSize: 3, delayMs: 25 });
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('Show me some Markdown');
    // The draft is cleared once the background has the message.
    await expect.poll(() => popup.composer().inputValue()).toBe('');
    const streaming = await popup.answerWith('streaming');
    await expect.poll(async () => (await streaming.textContent())?.length ?? 0).toBeGreaterThan(5);
    const done = await popup.answerWith('done');
    expect(await done.locator('strong').textContent()).toBe('inside your limits');
    expect(await done.locator('li').allTextContents()).toEqual(['10 requests a minute on Free', '5,000 a month']);
    expect(await done.locator('pre code').textContent()).toContain('const pace = 10;');

    const requests = server.messageRequests();
    expect(requests).toHaveLength(1);
    const [req] = requests;
    expect(req!.headers).toMatchObject({
      authorization: `Bearer ${TEST_KEY}`,
      'anthropic-version': '2026-10-21',
      'anthropic-dangerous-direct-browser-access': 'true',
      'content-type': 'application/json',
    });
    expect(req!.body).toMatchObject({
      model: 'claude-sonnet-5-5',
      max_tokens: 1024,
      stream: true,
      messages: [{ role: 'user', content: 'Show me some Markdown' }],
    });
    await popup.page.close();
  });

  it('shows raw HTML and unsafe links in an answer as inert text', async () => {
    server.reset();
    server.script({
      kind: 'text',
      text: [
        '<script>window.pwned = 1</script>',
        'An image: <img src=x onerror="window.pwned=2"> and ![tracker](https://example.com/t.png)',
        '[click](javascript:window.pwned=3) or [site](https://example.com)',
      ].join('\n\n'),
    });
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('Be hostile');
    const done = await popup.answerWith('done');
    expect(await done.locator('script, img').count()).toBe(0);
    expect(await done.textContent()).toContain('<script>window.pwned = 1</script>');
    await done.getByText('click').click();
    expect(await popup.page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    const link = done.getByRole('link', { name: 'site' });
    expect(await link.getAttribute('href')).toBe('https://example.com');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await link.getAttribute('target')).toBe('_blank');
    await popup.page.close();
  });

  it('closing the popup mid-answer loses nothing', async () => {
    server.reset();
    const long = Array.from({ length: 40 }, (_, i) => `Line ${i + 1} of the answer.`).join('\n\n');
    server.script({ kind: 'text', text: long, chunkSize: 6, delayMs: 15 });
    let popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('Tell me a long story');
    await popup.answerWith('streaming');
    await expect.poll(async () => (await popup.lastAnswer().textContent()) ?? '').toContain('Line 2');
    await popup.page.close();
    // The background keeps receiving while no popup is open: the whole answer goes out (the server
    // records the status when its response closes) before the popup opens again.
    await expect.poll(() => server.messageRequests()[0]?.status, { timeout: 15_000 }).toBe(200);
    popup = new Popup(await browser.open('popup.html'));
    const done = await popup.answerWith('done', 20_000);
    const text = (await done.textContent()) ?? '';
    expect(text).toContain('Line 1 of the answer.');
    expect(text).toContain('Line 40 of the answer.');
    expect(await popup.questions().last().textContent()).toBe('Tell me a long story');
    expect(server.messageRequests()).toHaveLength(1);
    await popup.page.close();
  });

  it('reloading the popup mid-answer shows the full answer after', async () => {
    server.reset();
    const long = Array.from({ length: 30 }, (_, i) => `Point ${i + 1}.`).join('\n\n');
    server.script({ kind: 'text', text: long, chunkSize: 4, delayMs: 15 });
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('Count to thirty');
    await expect.poll(async () => (await popup.lastAnswer().textContent()) ?? '').toContain('Point 3.');
    await popup.page.reload();
    const done = await popup.answerWith('done', 20_000);
    expect(await done.textContent()).toContain('Point 30.');
    expect(server.messageRequests()).toHaveLength(1);
    await popup.page.close();
  });

  it('Stop ends an answer and keeps what arrived; Retry asks again', async () => {
    server.reset();
    server.script(
      { kind: 'text', text: 'word '.repeat(400), chunkSize: 5, delayMs: 20 },
      { kind: 'text', text: 'A short answer.' },
    );
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('Go on and on');
    await expect.poll(async () => (await popup.lastAnswer().textContent())?.length ?? 0).toBeGreaterThan(30);
    await popup.lastAnswer().getByRole('button', { name: 'Stop' }).click();
    const stopped = await popup.answerWith('stopped');
    expect(await stopped.textContent()).toContain('word word');
    await stopped.getByRole('button', { name: 'Retry' }).click();
    const done = await popup.answerWith('done');
    expect(await done.textContent()).toContain('A short answer.');
    expect(server.messageRequests()).toHaveLength(2);
    await popup.page.close();
  });

  it('a wrong key shows a clear error, keeps the message, and Retry works once the key is fixed', async () => {
    server.reset();
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 900 }));
    await options.setBaseURL(server.url);
    await options.saveSettings();
    await options.saveKey('sk-ant-revoked-key-0000');
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('Is my key fine?');
    const failed = await popup.answerWith('error');
    expect(await failed.getByTestId('answer-error').textContent()).toContain('The API key was refused');
    await failed.getByRole('button', { name: 'Open options' }).waitFor();
    expect(await popup.questions().last().textContent()).toBe('Is my key fine?');
    expect(await popup.page.content()).not.toContain('sk-ant-revoked-key-0000');

    await options.saveKey(TEST_KEY);
    await failed.getByRole('button', { name: 'Retry' }).click();
    const done = await popup.answerWith('done');
    expect(await done.textContent()).toContain('You said: "Is my key fine?"');
    await options.page.close();
    await popup.page.close();
  });

  it('keeps earlier chats and reopens them from History', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'History' }).click();
    const chats = popup.page.getByRole('list', { name: 'Earlier chats' }).getByRole('button');
    await expect.poll(() => chats.count()).toBeGreaterThanOrEqual(4);
    await chats.filter({ hasText: 'Show me some Markdown' }).click();
    const done = await popup.answerWith('done');
    expect(await done.locator('pre code').textContent()).toContain('const pace = 10;');
    await popup.page.screenshot({ path: 'docs/popup.png' });
    await popup.page.close();
  });
});
