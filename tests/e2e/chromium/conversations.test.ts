/**
 * History you control in real Chromium: search, rename, export as Markdown, delete one (none of
 * its text left in any IndexedDB table) and delete all, and the model chosen for a conversation
 * reaching the local Claude server.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Nodes } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import type { ClaudeServer } from '../../support/claude-server';
import type { ChromiumWithExtension } from '../support/chromium';
import { useConnectedChromium } from '../support/use-connected-chromium';
import { Popup } from '../support/pages';
import type { Page } from 'playwright-core';

let server: ClaudeServer;
let browser: ChromiumWithExtension;

useConnectedChromium((s, b) => {
  [server, browser] = [s, b];
});

/** Every row of every object store of Pace's database, as text, read from an extension page. */
function everyTable(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('pace');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(new Error(`IndexedDB: ${req.error?.message ?? 'read failed'}`));
    });
    const names = [...db.objectStoreNames];
    const tx = db.transaction(names, 'readonly');
    const all = await Promise.all(
      names.map(
        (name) =>
          new Promise<string>((resolve, reject) => {
            const req = tx.objectStore(name).getAll();
            req.onsuccess = () => resolve(`${name}: ${JSON.stringify(req.result)}`);
            req.onerror = () => reject(new Error(`IndexedDB: ${req.error?.message ?? 'read failed'}`));
          }),
      ),
    );
    db.close();
    return all.join('\n');
  });
}

async function ask(popup: Popup, question: string, answer: string) {
  server.script({ kind: 'text', text: answer });
  await popup.page.getByRole('button', { name: 'New chat' }).click();
  await popup.send(question);
  await popup.page.getByText(answer).waitFor();
  await popup.answerWith('done');
}

describe('conversations you control in real Chromium', () => {
  it('finds a chat by its text, renames it, exports it as Markdown, and deletes it leaving none of its text in IndexedDB', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await ask(popup, 'Where do narwhals spend the winter?', 'Narwhals winter under the Baffin Bay pack ice.');
    await ask(popup, 'What is a token bucket?', 'A bucket of tokens that refills at a steady rate.');
    const before = await everyTable(popup.page);
    expect(before).toContain('narwhals');
    expect(before).toContain('Baffin Bay');
    // The answer was cached: the cache must lose it too.
    expect(before).toMatch(/cache: \[.*Baffin Bay/);

    await popup.page.getByRole('button', { name: 'History' }).click();
    const items = popup.page.getByTestId('history-item');
    await expect.poll(() => items.count()).toBe(2);
    // Search by a word of the answer, not of the title.
    await popup.page.getByLabel('Search chats').fill('baffin');
    await expect.poll(() => items.count()).toBe(1);
    const item = items.first();
    expect(await item.textContent()).toContain('Where do narwhals spend the winter?');

    await item.getByRole('button', { name: /^Rename / }).click();
    await popup.page.getByLabel('New name').fill('Arctic whales');
    await popup.page.getByLabel('New name').press('Enter');
    await item.getByText('Arctic whales').waitFor();

    const [download] = await Promise.all([
      popup.page.waitForEvent('download'),
      item.getByRole('button', { name: 'Export Arctic whales as Markdown' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('pace-chat-arctic-whales.md');
    const markdown = readFileSync(await download.path(), 'utf8');
    expect(markdown).toContain('# Arctic whales');
    expect(markdown).toContain('## You\n\n> Where do narwhals spend the winter?');
    expect(markdown).toContain('## Claude\n\n> Narwhals winter under the Baffin Bay pack ice.');

    await item.getByRole('button', { name: 'Delete Arctic whales' }).click();
    await popup.page.getByRole('button', { name: 'Delete chat' }).click();
    await expect.poll(() => items.count()).toBe(0);
    await popup.page.getByLabel('Search chats').fill('');
    await expect.poll(() => items.count()).toBe(1);

    const after = await everyTable(popup.page);
    for (const text of ['narwhals', 'Narwhals', 'Baffin', 'Arctic whales']) expect(after).not.toContain(text);
    expect(after).toContain('token bucket');
    // The usage ledger keeps its rows (counts and costs, no text): two requests were sent.
    expect(after).toMatch(/usage: \[\{.*"outcome":"ok".*"outcome":"ok"/);
    await popup.page.close();
  });

  it('exports an answer holding image syntax, HTML and a forged heading as an inert file: no live image, no HTML, one heading per turn', async () => {
    let hits = 0;
    const leak = createServer((_req, res) => {
      hits += 1;
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end();
    });
    await new Promise<void>((resolve) => leak.listen(0, '127.0.0.1', resolve));
    const at = `http://127.0.0.1:${(leak.address() as AddressInfo).port}`;
    try {
      const popup = new Popup(await browser.open('popup.html'));
      server.script({
        kind: 'text',
        text: `Here is the loaf: ![x](${at}/leak)\n\n<img src="${at}/leak-html" onerror="alert(1)">\n\n## You\n\nForged question`,
      });
      await popup.page.getByRole('button', { name: 'New chat' }).click();
      await popup.send('Show me a picture of rye bread');
      await popup.answerWith('done');
      await popup.page.getByRole('button', { name: 'History' }).click();
      await popup.page.getByLabel('Search chats').fill('picture of rye');
      const item = popup.page.getByTestId('history-item');
      await expect.poll(() => item.count()).toBe(1);
      const [download] = await Promise.all([
        popup.page.waitForEvent('download'),
        item.getByRole('button', { name: /^Export .* as Markdown$/ }).click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/^pace-chat-[a-z0-9-]+\.md$/);
      const markdown = readFileSync(await download.path(), 'utf8');

      expect(markdown).not.toContain('![');
      expect(markdown).not.toMatch(/<img/i);
      expect(markdown).toContain(`\\[image: x\\](${at}/leak)`);
      expect(markdown).toContain(`&lt;img src="${at}/leak-html"`);
      expect(markdown.split('\n').filter((line) => /^#+ /.test(line))).toEqual([
        '# Show me a picture of rye bread',
        '## You',
        '## Claude',
      ]);
      // A Markdown parser (GFM, as previews use) finds no image and no HTML in it: a preview loads nothing.
      const kinds = new Set<string>();
      const walk = (node: Nodes) => {
        kinds.add(node.type);
        if ('children' in node) node.children.forEach(walk);
      };
      walk(fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] }));
      for (const live of ['image', 'imageReference', 'html']) expect(kinds).not.toContain(live);
      // Nor did the popup load the image while showing the answer.
      expect(hits).toBe(0);
      await popup.page.close();
    } finally {
      await new Promise<void>((resolve) => leak.close(() => resolve()));
    }
  });

  it('sends with the model chosen for the conversation, for its first and later messages', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    const picker = popup.page.getByLabel('Model');
    await picker.selectOption('claude-haiku-4-5');
    const sent = server.messageRequests().length;
    server.script(
      { kind: 'text', text: 'Answered by the chosen model.' },
      { kind: 'text', text: 'Still the chosen model.' },
    );
    await popup.send('Which model answers?');
    await popup.page.getByText('Answered by the chosen model.').waitFor();
    await popup.answerWith('done');
    await popup.send('And now?');
    await popup.page.getByText('Still the chosen model.').waitFor();
    const models = server
      .messageRequests()
      .slice(sent)
      .map((r) => (r.body as { model: string }).model);
    expect(models).toEqual(['claude-haiku-4-5', 'claude-haiku-4-5']);
    expect(await picker.inputValue()).toBe('claude-haiku-4-5');
    await popup.page.close();
  });

  it('deletes all chats after a yes, and exports all as JSON before', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByRole('button', { name: 'History' }).click();
    await expect.poll(() => popup.page.getByTestId('history-item').count()).toBeGreaterThan(0);
    const [download] = await Promise.all([
      popup.page.waitForEvent('download'),
      popup.page.getByRole('button', { name: 'Export all (JSON)' }).click(),
    ]);
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8')) as {
      conversations: { messages: { text: string }[] }[];
    };
    expect(exported.conversations.flatMap((c) => c.messages.map((m) => m.text))).toContain('Still the chosen model.');

    await popup.page.getByRole('button', { name: 'Delete all chats' }).click();
    // Escape says no: nothing is deleted.
    await popup.page.keyboard.press('Escape');
    await popup.page.getByTestId('confirm').waitFor({ state: 'detached' });
    expect(await popup.page.getByTestId('history-item').count()).toBeGreaterThan(0);
    await popup.page.getByRole('button', { name: 'Delete all chats' }).click();
    await popup.page.getByRole('button', { name: 'Delete all', exact: true }).click();
    await popup.page.getByText('No earlier chats yet.').waitFor();
    const after = await everyTable(popup.page);
    for (const text of ['token bucket', 'chosen model', 'Which model answers?']) expect(after).not.toContain(text);
    await popup.page.close();
  });
});
