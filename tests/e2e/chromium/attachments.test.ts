/**
 * Images and PDFs in real Chromium, against the local Claude server: a PNG from the file picker, a
 * JPEG pasted into the message box, a screenshot of the tab the user reads and a two-page PDF reach
 * the server as image and document blocks with the right media types and bytes; the thumbnails show
 * before sending and the attachments in the conversation after; the ledger's input tokens hold the
 * images' tokens and its cost prices them.
 *
 * The build is a copy whose manifest grants the loopback origin and `<all_urls>`: the activeTab grant
 * that "Screenshot this tab" relies on comes from a click on the toolbar button, which a test cannot
 * make (as in reach.test.ts); `tabs.captureVisibleTab` takes either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { pdfBase64, pngBase64, SAMPLE_JPEG_16 } from '../../support/claude-server-fixtures';
import { estimateCost } from '../../../lib/usage/prices';
import { formatUsd } from '../../../lib/usage/summary';
import { buildDir, withLoopbackGranted } from '../support/batch-probe';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { Attachments, ledgerRows, OptionsPage, Popup, type LedgerRowSeen, type TestFile } from '../support/pages';
import { startArticleSite } from '../support/reach-site';

let server: ClaudeServer;
let site: Awaited<ReturnType<typeof startArticleSite>>;
let granted: Awaited<ReturnType<typeof withLoopbackGranted>>;
let browser: ChromiumWithExtension;

beforeAll(async () => {
  server = await startClaudeServer();
  site = await startArticleSite();
  granted = await withLoopbackGranted(buildDir('chrome-mv3'), ['<all_urls>']);
  browser = await launchChromiumWithExtension(granted.path);
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
  expect(await (await options.connect(TEST_KEY, server.url)).textContent()).toMatch(/^Saved\./);
  await options.page.close();
});
afterAll(async () => {
  await browser?.close();
  await granted?.remove();
  await site?.close();
  await server?.close();
});

const PNG: TestFile = { name: 'chart.png', mimeType: 'image/png', buffer: Buffer.from(pngBase64(60, 45), 'base64') };
const JPEG: TestFile = { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(SAMPLE_JPEG_16, 'base64') };
const PDF_PAGES = ['Invoice 1042 from the bakery, page one.', 'Payment is due in thirty days, page two.'];
const PDF: TestFile = {
  name: 'invoice.pdf',
  mimeType: 'application/pdf',
  buffer: Buffer.from(pdfBase64(PDF_PAGES), 'base64'),
};

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

interface SentBlock {
  type: string;
  text?: string;
  source?: { type: string; media_type: string; data: string };
  title?: string;
}
interface ParsedBlockSeen {
  type: string;
  mediaType?: string;
  width?: number;
  height?: number;
  pages?: number;
  tokens?: number;
}

/** The last user turn of the last Messages request: the blocks as sent, and as the server read them. */
function lastUserTurn(): { blocks: SentBlock[]; parsed: ParsedBlockSeen[]; inputTokens: number; model: string } {
  const request = server.messageRequests().at(-1)!;
  const usage = request.usage;
  const body = request.body as { model: string; messages: { role: string; content: string | SentBlock[] }[] };
  const content = body.messages.at(-1)!.content;
  const parsed = request.parsed as unknown as { messages: { blocks: ParsedBlockSeen[] }[] } | undefined;
  return {
    blocks: typeof content === 'string' ? [{ type: 'text', text: content }] : content,
    parsed: parsed?.messages.at(-1)?.blocks ?? [],
    // The prompt's tokens, whether read fresh, written to the prompt cache or read from it.
    inputTokens: usage ? usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens : NaN,
    model: body.model,
  };
}

const bytesOf = (block: SentBlock): Buffer => Buffer.from(block.source!.data, 'base64');

/** A ledger row's prompt tokens: fresh, written to the prompt cache and read from it. */
const promptTokens = (u: LedgerRowSeen['usage']): number => u.inputTokens + u.cacheCreationTokens + u.cacheReadTokens;

/** The ledger row of the last request Pace sent (not a cache hit), once it is settled. */
async function lastSettledRow(page: Popup['page']) {
  let rows = await ledgerRows(page);
  await expect
    .poll(async () => {
      rows = await ledgerRows(page);
      return rows.filter((r) => r.outcome === 'ok').length;
    })
    .toBe(server.messageRequests().filter((r) => r.status === 200).length);
  return rows
    .filter((r) => r.outcome === 'ok')
    .sort((a, b) => a.at - b.at)
    .at(-1)!;
}

describe('images and PDFs in real Chromium', () => {
  it('a PNG from the file picker and a JPEG pasted into the box go as image blocks with their own bytes, and the ledger prices them', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    const files = new Attachments(popup.page);
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await files.attachButton().waitFor();
    expect(await files.input().getAttribute('accept')).toBe(
      'image/jpeg,image/png,image/gif,image/webp,application/pdf',
    );
    await files.pick([PNG]);
    await expect.poll(() => files.thumbs().count()).toBe(1);
    await files.paste([JPEG]);
    await expect.poll(() => files.thumbs().count()).toBe(2);
    // Each thumbnail can be taken off again, named after its file.
    await files.thumbs().nth(0).getByRole('button', { name: 'Remove chart.png' }).waitFor();
    await files.thumbs().nth(1).getByRole('button', { name: 'Remove photo.jpg' }).waitFor();
    // Before anything is sent, the preview line says what the message will cost, images included.
    await popup.type('What is in these pictures?');
    const lines = files.preview().getByTestId('send-preview-lines').locator('li');
    await lines.first().waitFor();
    const estimate = /([\d,]+) tokens/.exec((await lines.allTextContents()).join('\n'));
    expect(Number(estimate![1]!.replace(/,/g, ''))).toBeGreaterThanOrEqual(Math.ceil((60 * 45) / 750) + 1);
    expect(server.messageRequests()).toHaveLength(0);

    await popup.send('What is in these pictures?');
    await popup.answerWith('done');
    expect(await popup.lastAnswer().textContent()).toContain('You said: "What is in these pictures?"');
    // The composer is empty again; the message shows what went with it.
    await expect.poll(() => files.thumbs().count()).toBe(0);
    const shown = popup.questions().last().getByTestId('message-attachment');
    await expect.poll(() => shown.count()).toBe(2);
    // Each picture shows, drawn from the bytes kept with the message.
    for (const name of ['chart.png', 'photo.jpg']) {
      const img = popup.questions().last().getByRole('img', { name });
      await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    }

    expect(server.messageRequests()).toHaveLength(1);
    const turn = lastUserTurn();
    // The images come first, in the order they were attached, then the question.
    expect(turn.blocks.map((b) => b.type)).toEqual(['image', 'image', 'text']);
    expect(turn.blocks[2]!.text).toBe('What is in these pictures?');
    expect(turn.blocks[0]!.source).toMatchObject({ type: 'base64', media_type: 'image/png' });
    expect(turn.blocks[1]!.source).toMatchObject({ type: 'base64', media_type: 'image/jpeg' });
    // Small images go as they are: the very bytes of the files.
    expect(bytesOf(turn.blocks[0]!).equals(PNG.buffer)).toBe(true);
    expect(bytesOf(turn.blocks[1]!).equals(JPEG.buffer)).toBe(true);
    expect(turn.parsed.slice(0, 2)).toMatchObject([
      { type: 'image', mediaType: 'image/png', width: 60, height: 45, tokens: Math.ceil((60 * 45) / 750) },
      { type: 'image', mediaType: 'image/jpeg', width: 16, height: 16, tokens: 1 },
    ]);

    // The ledger holds the input tokens the server counted (the images' tokens among them), priced.
    const row = await lastSettledRow(popup.page);
    expect(promptTokens(row.usage)).toBe(turn.inputTokens);
    expect(promptTokens(row.usage)).toBeGreaterThanOrEqual(Math.ceil((60 * 45) / 750) + 1);
    expect(row.costUsd).toBeCloseTo(estimateCost(turn.model, row.usage)!, 10);
    await popup.page.close();
  });

  it('a large picture is scaled down to at most 1568 px before it is sent, its proportions kept', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    const files = new Attachments(popup.page);
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    const big: TestFile = {
      name: 'scan.png',
      mimeType: 'image/png',
      buffer: Buffer.from(pngBase64(2400, 1200), 'base64'),
    };
    await files.pick([big]);
    await expect.poll(() => files.thumbs().count()).toBe(1);
    const before = server.messageRequests().length;
    await popup.send('Read the scan');
    await popup.answerWith('done');
    expect(server.messageRequests()).toHaveLength(before + 1);

    const turn = lastUserTurn();
    expect(turn.blocks.map((b) => b.type)).toEqual(['image', 'text']);
    const [image] = turn.parsed;
    const sent = bytesOf(turn.blocks[0]!);
    // Its bytes are what its media type says.
    const mediaType = turn.blocks[0]!.source!.media_type;
    expect(['image/png', 'image/jpeg', 'image/webp']).toContain(mediaType);
    if (mediaType === 'image/png') expect(sent.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
    if (mediaType === 'image/jpeg') expect(sent.subarray(0, 3).equals(JPEG_MAGIC)).toBe(true);
    expect(Math.max(image!.width!, image!.height!)).toBeLessThanOrEqual(1568);
    expect(Math.max(image!.width!, image!.height!)).toBeGreaterThanOrEqual(1000);
    expect(image!.width! / image!.height!).toBeCloseTo(2, 1);
    await popup.page.close();
  });

  it('a two-page PDF goes as a document block with its bytes, and shows in the message by its name', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    const files = new Attachments(popup.page);
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await files.pick([PDF]);
    await expect.poll(() => files.thumbs().count()).toBe(1);
    expect(await files.thumbs().first().textContent()).toContain('invoice.pdf');
    await files.preview().waitFor();
    const before = server.messageRequests().length;
    await popup.send('When is this due?');
    await popup.answerWith('done');
    expect(server.messageRequests()).toHaveLength(before + 1);

    const turn = lastUserTurn();
    expect(turn.blocks.map((b) => b.type)).toEqual(['document', 'text']);
    expect(turn.blocks[0]!.source).toMatchObject({ type: 'base64', media_type: 'application/pdf' });
    expect(bytesOf(turn.blocks[0]!).equals(PDF.buffer)).toBe(true);
    expect(turn.parsed[0]).toMatchObject({ type: 'document', mediaType: 'application/pdf', pages: 2 });
    // The message keeps a chip with the file's name.
    const chip = popup.questions().last().getByTestId('message-attachment');
    await chip.waitFor();
    expect(await chip.textContent()).toContain('invoice.pdf (2 pages)');

    // A page costs 1,500 tokens and its text: the ledger holds them, priced.
    const row = await lastSettledRow(popup.page);
    expect(promptTokens(row.usage)).toBe(turn.inputTokens);
    expect(promptTokens(row.usage)).toBeGreaterThan(2 * 1500);
    expect(row.costUsd).toBeCloseTo(estimateCost(turn.model, row.usage)!, 10);
    await popup.page.close();
  });

  it('"Screenshot this tab" takes the page the user reads and sends it as an image', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    const files = new Attachments(popup.page);
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.ready();
    // The article in a tab of the same window, brought to the front: the tab the user reads.
    const article = await browser.context.newPage();
    await article.setViewportSize({ width: 800, height: 600 });
    await article.goto(site.url);
    await article.bringToFront();

    await files.screenshotButton().click();
    await expect.poll(() => files.thumbs().count(), { timeout: 15_000 }).toBe(1);
    const before = server.messageRequests().length;
    await popup.send('What does this page show?');
    await popup.answerWith('done');
    expect(server.messageRequests()).toHaveLength(before + 1);

    const turn = lastUserTurn();
    expect(turn.blocks.map((b) => b.type)).toEqual(['image', 'text']);
    const mediaType = turn.blocks[0]!.source!.media_type;
    const sent = bytesOf(turn.blocks[0]!);
    expect(['image/png', 'image/jpeg']).toContain(mediaType);
    expect(
      sent.subarray(0, mediaType === 'image/png' ? 8 : 3).equals(mediaType === 'image/png' ? PNG_MAGIC : JPEG_MAGIC),
    ).toBe(true);
    // The tab's visible area, never more than 1568 px a side.
    const [image] = turn.parsed;
    expect(image!.width).toBeGreaterThan(100);
    expect(image!.height).toBeGreaterThan(100);
    expect(Math.max(image!.width!, image!.height!)).toBeLessThanOrEqual(1568);
    await popup.questions().last().getByTestId('message-attachment').waitFor();
    await article.close();
    await popup.page.close();
  });

  it("the usage page counts every request with attachments and its spend is the ledger's", async () => {
    const usage = await browser.open('usage.html', { width: 1100, height: 1400 });
    await usage.locator('#root[data-ready=true]').waitFor();
    const rows = (await ledgerRows(usage)).filter((r) => r.outcome === 'ok');
    expect(rows).toHaveLength(server.messageRequests().length);
    expect(await usage.getByTestId('usage-month').locator('.usage-big').textContent()).toMatch(
      new RegExp(`^${rows.length} of 5,000 requests`),
    );
    const spent = rows.reduce((sum, r) => sum + r.costUsd!, 0);
    expect(await usage.getByTestId('usage-spend').textContent()).toContain(`Estimated spend: ${formatUsd(spent)}`);
    await usage.close();
  });
});
