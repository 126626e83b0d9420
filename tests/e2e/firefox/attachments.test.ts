/// <reference types="node" />
/**
 * An image in real Firefox (MV2): picked with the composer's file picker, shown as a thumbnail,
 * sent as an image block with the file's own bytes, answered, and shown in the message.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElementHandle } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { pngBase64 } from '../../support/claude-server-fixtures';
import {
  sendFromPopup,
  setUpKeyAndBaseURL,
  useFirefox,
  waitForAnswer,
  withConsoleOnFailure,
} from '../support/firefox-pages';

describe('Firefox MV2: an image in the chat', () => {
  const ctx = useFirefox('firefox-mv2');

  it('attaches a PNG with the file picker, sends it as an image block and gets an answer', async () => {
    const png = Buffer.from(pngBase64(48, 32), 'base64');
    const dir = await mkdtemp(join(tmpdir(), 'pace-attach-'));
    const file = join(dir, 'diagram.png');
    await writeFile(file, png);
    try {
      await withConsoleOnFailure(ctx.ff, async () => {
        const options = await ctx.ff!.openExtensionPage('options.html');
        await setUpKeyAndBaseURL(options, ctx.server);

        const popup = await ctx.ff!.openExtensionPage('popup.html');
        await popup.waitForSelector('button[aria-label="Attach an image or PDF"]');
        const input = (await popup.waitForSelector(
          'input[type=file][data-testid=attach-input]',
        )) as ElementHandle<HTMLInputElement>;
        await input.uploadFile(file);
        await popup.waitForFunction(() => document.querySelectorAll('[data-testid=attachment-thumb]').length === 1, {
          timeout: 10_000,
          polling: 100,
        });
        expect(
          await popup.$eval('[data-testid=attachment-thumb] button[aria-label^="Remove "]', (b) =>
            b.getAttribute('aria-label'),
          ),
        ).toBe('Remove diagram.png');

        await sendFromPopup(popup, 'What does the diagram show?');
        await waitForAnswer(popup, 'You said: "What does the diagram show?"');
        // The message shows the picture it went with; the composer has none left.
        await popup.waitForFunction(
          () =>
            document.querySelector(
              '[data-testid=user-message] img[data-testid=message-attachment][alt="diagram.png"]',
            ) !== null && document.querySelectorAll('[data-testid=attachment-thumb]').length === 0,
          { timeout: 10_000, polling: 100 },
        );

        const sent = ctx.server.messageRequests();
        expect(sent).toHaveLength(1);
        const body = sent[0]!.body as {
          messages: {
            role: string;
            content: { type: string; text?: string; source?: { media_type: string; data: string } }[];
          }[];
        };
        const blocks = body.messages.at(-1)!.content;
        expect(blocks.map((b) => b.type)).toEqual(['image', 'text']);
        expect(blocks[0]!.source!.media_type).toBe('image/png');
        expect(Buffer.from(blocks[0]!.source!.data, 'base64').equals(png)).toBe(true);
        expect(blocks[1]!.text).toBe('What does the diagram show?');
        // The server counted the image: 48 x 32 / 750, rounded up.
        const parsed = sent[0]!.parsed as unknown as { messages: { blocks: { type: string; tokens: number }[] }[] };
        expect(parsed.messages.at(-1)!.blocks[0]).toMatchObject({ type: 'image', tokens: Math.ceil((48 * 32) / 750) });
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
