/**
 * The local server's image and PDF blocks, driven through the real SDK: what it accepts, what it
 * refuses as the API does, how it counts their tokens, and what a test can read of them afterwards.
 */
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import type { ContentBlockParam } from '@anthropic-ai/sdk/resources/messages/messages';
import { describe, expect, it } from 'vitest';
import { TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import {
  pdfBase64,
  pngBase64,
  SAMPLE_GIF_16,
  SAMPLE_JPEG_16,
  SAMPLE_WEBP_16,
} from '../../support/claude-server-fixtures';
import { useClaudeServer } from '../../support/use-claude-server';

const MODEL = 'claude-sonnet-5-5';
let server: ClaudeServer;
useClaudeServer((s) => (server = s));

const client = () =>
  new Anthropic({ apiKey: TEST_KEY, baseURL: server.url, dangerouslyAllowBrowser: true, maxRetries: 0 });

type Media = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';
const image = (data: string, mediaType: Media = 'image/png'): ContentBlockParam => ({
  type: 'image',
  source: { type: 'base64', media_type: mediaType, data },
});
const pdf = (data: string, extra: { title?: string; citations?: { enabled: boolean } } = {}): ContentBlockParam => ({
  type: 'document',
  source: { type: 'base64', media_type: 'application/pdf', data },
  ...extra,
});
const ask = (content: ContentBlockParam[]) => ({
  model: MODEL,
  max_tokens: 256,
  messages: [{ role: 'user' as const, content }],
});

async function refusal(p: Promise<unknown>): Promise<APIError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof APIError)) throw new Error(`expected an APIError, got ${String(e)}`);
  return e;
}

describe('image blocks', () => {
  it('takes PNG, JPEG, GIF and WebP, reads their sizes, counts width x height / 750 and records them', async () => {
    const png = pngBase64(300, 150);
    const text = 'What are these?'; // 15 chars: 4 tokens
    const content = [
      image(png),
      image(SAMPLE_JPEG_16, 'image/jpeg'),
      image(SAMPLE_GIF_16, 'image/gif'),
      image(SAMPLE_WEBP_16, 'image/webp'),
      { type: 'text' as const, text },
    ];
    const message = await client().messages.stream(ask(content)).finalMessage();
    // 300 x 150 / 750 = 60; each 16 x 16 one rounds up to 1.
    expect(message.usage.input_tokens).toBe(4 + 60 + 1 + 1 + 1);
    expect((await client().messages.countTokens({ model: MODEL, messages: ask(content).messages })).input_tokens).toBe(
      67,
    );
    expect(message.content).toEqual([{ type: 'text', text: 'You said: "What are these?" (+ 4 images)' }]);

    const parsed = server.lastParsed();
    expect(parsed?.inputTokens).toBe(67);
    expect(parsed?.messages[0]?.blocks).toEqual([
      {
        type: 'image',
        mediaType: 'image/png',
        base64Length: png.length,
        bytes: Buffer.from(png, 'base64').length,
        width: 300,
        height: 150,
        tokens: 60,
      },
      expect.objectContaining({ type: 'image', mediaType: 'image/jpeg', width: 16, height: 16, tokens: 1 }),
      expect.objectContaining({ type: 'image', mediaType: 'image/gif', width: 16, height: 16 }),
      expect.objectContaining({ type: 'image', mediaType: 'image/webp', width: 16, height: 16 }),
      { type: 'text', text },
    ]);
    expect(server.messageRequests().at(-1)?.parsed?.stream).toBe(true);
    const counted = server.requests.find((r) => r.path === '/v1/messages/count_tokens');
    expect(counted?.parsed).toMatchObject({ inputTokens: 67, stream: false });
    expect(counted?.parsed?.maxTokens).toBeUndefined();
  });

  it('refuses data that is not base64, not the media type it claims, or not an image at all', async () => {
    const cases: [ContentBlockParam, RegExp][] = [
      [image('iVBORw0KGgo!!!!'), /not valid base64/],
      [image(pngBase64(4, 4), 'image/jpeg'), /image\/jpeg media type, but the data is image\/png/],
      [image(Buffer.from('plain text, not a picture').toString('base64')), /is not a JPEG, PNG, GIF or WebP image/],
      [image(pngBase64(4, 4).slice(0, 20)), /could not read the image\/png image's dimensions/],
      [
        { type: 'image', source: { type: 'base64', media_type: 'image/bmp' as Media, data: pngBase64(4, 4) } },
        /media_type: Input should be 'image\/jpeg'/,
      ],
    ];
    for (const [block, message] of cases) {
      const err = await refusal(client().messages.create(ask([block, { type: 'text', text: 'hi' }])));
      expect([err.status, err.type]).toEqual([400, 'invalid_request_error']);
      expect(err.apiMessage).toMatch(message);
    }
    expect(server.messageRequests().map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);
    expect(server.messageRequests().map((r) => r.parsed)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(server.messageRequests()[1]?.error).toEqual({
      type: 'invalid_request_error',
      message: expect.stringContaining('image/jpeg') as unknown,
    });
  });

  it('refuses an image over 8000 px on a side, and over 2000 px once a request holds more than 20 images', async () => {
    const tall = await refusal(
      client().messages.create(ask([image(pngBase64(2, 8001)), { type: 'text', text: 'hi' }])),
    );
    expect([tall.status, tall.errorCode]).toEqual([400, 'image_dimensions_too_large']);
    expect(tall.apiMessage).toMatch(/8000 pixels/);
    expect((tall.error as { error: { details: unknown } }).error.details).toEqual({
      error_code: 'image_dimensions_too_large',
      max_side_length_pixels: 8000,
      paths: ['messages.0.content.0'],
    });
    await client().messages.create(ask([image(pngBase64(8000, 1)), { type: 'text', text: 'hi' }]));

    const many = Array.from({ length: 21 }, (_, i) => image(pngBase64(i === 20 ? 2001 : 8, 1)));
    const crowded = await refusal(client().messages.create(ask([...many, { type: 'text', text: 'hi' }])));
    expect(crowded.apiMessage).toMatch(/2000 pixels/);
    expect(crowded.errorCode).toBe('image_dimensions_too_large');
    // Twenty of them may still be large.
    const twenty = Array.from({ length: 20 }, () => image(pngBase64(2001, 1)));
    await client().messages.create(ask([...twenty, { type: 'text', text: 'hi' }]));
  });

  it('refuses images and PDFs in an assistant turn or the system prompt', async () => {
    const err = await refusal(
      client().messages.create({
        model: MODEL,
        max_tokens: 10,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: [image(pngBase64(2, 2))] },
          { role: 'user', content: 'and?' },
        ],
      }),
    );
    expect(err.apiMessage).toMatch(/^messages\.1\.content\.0\.type: .*assistant turns, not "image"/);
    const system = await refusal(
      client().messages.create({
        model: MODEL,
        max_tokens: 10,
        system: [pdf(pdfBase64(['x'])) as never],
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(system.apiMessage).toMatch(/^system\.0\.type: .*not "document"/);
  });
});

describe('PDF blocks', () => {
  const pages = ['The first page talks about foxes. More follows.', 'The second page talks about dogs.', ''];
  const textTokens = Math.ceil(pages.join('').length / 4);

  it('counts 1,500 tokens a page plus its text, compressed or not, and records pages, title and citations', async () => {
    for (const compress of [false, true]) {
      const data = pdfBase64(pages, { compress });
      const content = [
        pdf(data, { title: 'Animals', citations: { enabled: true } }),
        { type: 'text' as const, text: 'Sum up.' },
      ];
      const message = await client().messages.create(ask(content));
      expect(message.usage.input_tokens).toBe(2 + 3 * 1500 + textTokens);
      expect(
        (await client().messages.countTokens({ model: MODEL, messages: ask(content).messages })).input_tokens,
      ).toBe(2 + 3 * 1500 + textTokens);
      expect(server.lastParsed()?.messages[0]?.blocks[0]).toEqual({
        type: 'document',
        mediaType: 'application/pdf',
        base64Length: data.length,
        bytes: Buffer.from(data, 'base64').length,
        pages: 3,
        title: 'Animals',
        citations: true,
        tokens: 3 * 1500 + textTokens,
      });
    }
  });

  it('refuses what is not a PDF, more than 100 pages in a request, and a wrong media type', async () => {
    const notPdf = await refusal(
      client().messages.create(
        ask([pdf(Buffer.from('<html>no</html>').toString('base64')), { type: 'text', text: 'hi' }]),
      ),
    );
    expect(notPdf.apiMessage).toMatch(/does not start with %PDF-/);

    const sixty = pdfBase64(Array.from({ length: 60 }, (_, i) => `page ${i + 1}`));
    const tooMany = await refusal(
      client().messages.create(ask([pdf(sixty), pdf(sixty), { type: 'text', text: 'hi' }])),
    );
    expect([tooMany.status, tooMany.apiMessage]).toEqual([
      400,
      'A maximum of 100 PDF pages may be provided. Found 120.',
    ]);
    await client().messages.create(ask([pdf(sixty), { type: 'text', text: 'hi' }]));

    const wrongType = await refusal(
      client().messages.create(
        ask([
          { type: 'document', source: { type: 'base64', media_type: 'text/plain' as 'application/pdf', data: sixty } },
          { type: 'text', text: 'hi' },
        ]),
      ),
    );
    expect(wrongType.apiMessage).toMatch(/media_type: Input should be 'application\/pdf'/);
  });

  it("caches a PDF behind a block's cache_control as the prompt cache caches text", async () => {
    const data = pdfBase64(pages);
    const content: ContentBlockParam[] = [
      { ...pdf(data), cache_control: { type: 'ephemeral' } } as ContentBlockParam,
      { type: 'text', text: 'Sum up.' },
    ];
    const first = await client().messages.create(ask(content));
    // The breakpoint is on the PDF: its own tokens are written, the question after it is not.
    expect(first.usage).toMatchObject({ cache_creation_input_tokens: 3 * 1500 + textTokens, input_tokens: 2 });
    const second = await client().messages.create(ask(content));
    expect(second.usage).toMatchObject({ cache_read_input_tokens: 3 * 1500 + textTokens, input_tokens: 2 });
    expect(server.lastParsed()?.messages[0]?.blocks[0]).toMatchObject({ cacheControl: { type: 'ephemeral' } });
  });
});

describe('the size of a request', () => {
  it('answers 413 request_too_large to a body over 32 MB', async () => {
    const big = 'x'.repeat(32 * 1024 * 1024);
    const err = await refusal(client().messages.create(ask([{ type: 'text', text: big }])));
    expect(err).toBeInstanceOf(Anthropic.ContentTooLargeError);
    expect([err.status, err.type]).toEqual([413, 'request_too_large']);
    const counted = await refusal(
      client().messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: big }] }),
    );
    expect(counted.status).toBe(413);
  });
});
