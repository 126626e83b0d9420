import { describe, expect, it } from 'vitest';
import {
  checkAttachments,
  imageTokens,
  PDF_TOKENS_PER_PAGE,
  pdfPages,
  decodeBase64,
  unknownPdfTokens,
} from '@/lib/attachments/attachment-check';
import { MAX_REQUEST_BYTES } from '@/lib/attachments/attachment-limits';
import {
  objectStreamPdf,
  pdfBase64,
  pngBase64,
  SAMPLE_GIF_16,
  SAMPLE_JPEG_16,
  SAMPLE_WEBP_16,
} from '../../../support/claude-server-fixtures';

let n = 0;
const newId = () => `att-${++n}`;

async function refusal(inputs: Parameters<typeof checkAttachments>[0], textBytes = 0): Promise<string> {
  const r = await checkAttachments(inputs, newId, textBytes);
  if (r.ok) throw new Error('expected a refusal');
  return r.message;
}

describe('image tokens', () => {
  it('are width x height / 750, rounded up', () => {
    expect(imageTokens(200, 200)).toBe(54);
    expect(imageTokens(1000, 750)).toBe(1000);
  });

  it('count a large image at the size Anthropic scales it to (long edge 1568, about 1,600 tokens at most)', () => {
    // 3136 x 1568 is read as 1568 x 784: 1,640 tokens, capped at 1,600.
    expect(imageTokens(3136, 1568)).toBe(1600);
    expect(imageTokens(8000, 100)).toBe(Math.ceil((1568 * 20) / 750));
    expect(imageTokens(8000, 8000)).toBe(1600);
  });
});

describe('checkAttachments', () => {
  it('accepts the four image types, reading the size from the bytes, not from the page', async () => {
    const r = await checkAttachments(
      [
        { name: 'a.png', mediaType: 'image/png', data: pngBase64(300, 200), width: 1, height: 1 },
        { name: 'b.jpg', mediaType: 'image/jpeg', data: SAMPLE_JPEG_16 },
        { name: 'c.gif', mediaType: 'image/gif', data: SAMPLE_GIF_16 },
        { name: 'd.webp', mediaType: 'image/webp', data: SAMPLE_WEBP_16 },
      ],
      newId,
    );
    if (!r.ok) throw new Error(r.message);
    expect(r.attachments.map((a) => [a.ref.kind, a.ref.width, a.ref.height, a.ref.tokens])).toEqual([
      ['image', 300, 200, 80],
      ['image', 16, 16, 1],
      ['image', 16, 16, 1],
      ['image', 16, 16, 1],
    ]);
    expect(r.attachments[0]!.ref.bytes).toBe(decodeBase64(pngBase64(300, 200))!.length);
  });

  it('hashes the bytes with SHA-256 (hex)', async () => {
    const data = btoa('%PDF-1.4\n/Type /Page\n');
    const r = await checkAttachments([{ name: 'x.pdf', mediaType: 'application/pdf', data }], newId);
    if (!r.ok) throw new Error(r.message);
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('%PDF-1.4\n/Type /Page\n'));
    expect(r.attachments[0]!.ref.hash).toBe(
      [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''),
    );
    expect(r.attachments[0]!.ref.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("counts a PDF's pages from its /Type /Page objects and estimates its tokens per page", async () => {
    const data = pdfBase64(['one', 'two', 'three']);
    expect(await pdfPages(decodeBase64(data)!)).toBe(3);
    const r = await checkAttachments([{ name: 'r.pdf', mediaType: 'application/pdf', data }], newId);
    if (!r.ok) throw new Error(r.message);
    expect(r.attachments[0]!.ref).toMatchObject({ kind: 'pdf', pages: 3, tokens: 3 * PDF_TOKENS_PER_PAGE });
  });

  it('counts the pages of a PDF 1.5 whose page objects and page tree are only in a compressed object stream', async () => {
    const bytes = objectStreamPdf([
      '<< /Type /Pages /Kids [11 0 R 12 0 R] /Count 2 >>',
      '<< /Type /Page /Parent 10 0 R /MediaBox [0 0 612 792] >>',
      '<< /Type /Page /Parent 10 0 R /MediaBox [0 0 612 792] >>',
    ]);
    // Nothing to find in the plain text: the markers are only in the deflated stream.
    expect(new TextDecoder('latin1').decode(bytes)).not.toMatch(/\/Type\s*\/Pages?\b/);
    expect(await pdfPages(bytes)).toBe(2);
    const data = Buffer.from(bytes).toString('base64');
    const r = await checkAttachments([{ name: 'paper.pdf', mediaType: 'application/pdf', data }], newId);
    if (!r.ok) throw new Error(r.message);
    expect(r.attachments[0]!.ref).toMatchObject({ kind: 'pdf', pages: 2, tokens: 2 * PDF_TOKENS_PER_PAGE });
  });

  it('counts page objects in a compressed object stream when no /Count is found', async () => {
    const packed = Array.from({ length: 3 }, () => '<< /Type /Page /Parent 2 0 R >>');
    const bytes = objectStreamPdf(packed);
    expect(await pdfPages(bytes)).toBe(3);
    // Its /Length a reference to another object: the stream is read up to endstream.
    const latin1 = Buffer.from(bytes).toString('latin1');
    const indirect = latin1.replace(/\/Length \d+/, '/Length 99 0 R');
    expect(indirect).not.toBe(latin1);
    expect(await pdfPages(new Uint8Array(Buffer.from(indirect, 'latin1')))).toBe(3);
  });

  it("reads the page tree's /Count when it is plain, and refuses over 100 pages by it", async () => {
    const pdf = (count: number) =>
      Buffer.from(objectStreamPdf(['<< /Font 1 >>'], [`<< /Type /Pages /Kids [] /Count ${count} >>`])).toString(
        'base64',
      );
    const r = await checkAttachments([{ name: 'word.pdf', mediaType: 'application/pdf', data: pdf(7) }], newId);
    if (!r.ok) throw new Error(r.message);
    expect(r.attachments[0]!.ref).toMatchObject({ pages: 7, tokens: 7 * PDF_TOKENS_PER_PAGE });
    expect(await refusal([{ name: 'big.pdf', mediaType: 'application/pdf', data: pdf(130) }])).toBe(
      'big.pdf has 130 pages; Claude reads at most 100 pages of PDF a message. Split it, or send the pages you need.',
    );
  });

  it('accepts a PDF whose pages cannot be found, pages unknown, its tokens reckoned from its size', async () => {
    const text = `%PDF-1.7\n${'x'.repeat(250_000)}\n%%EOF\n`;
    const r = await checkAttachments([{ name: 'odd.pdf', mediaType: 'application/pdf', data: btoa(text) }], newId);
    if (!r.ok) throw new Error(r.message);
    const ref = r.attachments[0]!.ref;
    expect(ref.pages).toBeUndefined();
    expect('pages' in ref).toBe(false);
    expect(ref.tokens).toBe(3 * PDF_TOKENS_PER_PAGE);
    expect(unknownPdfTokens(text.length)).toBe(3 * PDF_TOKENS_PER_PAGE);
    expect(unknownPdfTokens(10)).toBe(PDF_TOKENS_PER_PAGE);
  });

  it('refuses a type the API does not read', async () => {
    expect(await refusal([{ name: 'photo.bmp', mediaType: 'image/bmp', data: btoa('BM....') }])).toBe(
      'photo.bmp is image/bmp; Claude reads JPEG, PNG, GIF and WebP images and PDFs.',
    );
  });

  it('refuses bytes that are not the declared image type', async () => {
    expect(await refusal([{ name: 'photo.bmp', mediaType: 'image/jpeg', data: btoa('BM not a jpeg') }])).toBe(
      'photo.bmp is not a JPEG, PNG, GIF or WebP image.',
    );
    expect(await refusal([{ name: 'x.png', mediaType: 'image/png', data: SAMPLE_GIF_16 }])).toBe(
      'x.png is sent as PNG but its bytes are GIF.',
    );
    expect(await refusal([{ name: 'x.pdf', mediaType: 'application/pdf', data: pngBase64(2, 2) }])).toMatch(
      /^x\.pdf is not a PDF/,
    );
  });

  it('refuses data that is not base64', async () => {
    expect(await refusal([{ name: 'a.png', mediaType: 'image/png', data: 'not base64!' }])).toBe(
      'a.png could not be read: its data is not base64.',
    );
  });

  it('refuses an image over 8000 px a side, with its size', async () => {
    expect(await refusal([{ name: 'wide.png', mediaType: 'image/png', data: pngBase64(8001, 10) }])).toBe(
      'wide.png is 8001 x 10 px; Claude takes images of at most 8000 x 8000 px.',
    );
    const ok = await checkAttachments([{ name: 'edge.png', mediaType: 'image/png', data: pngBase64(8000, 10) }], newId);
    expect(ok.ok).toBe(true);
  });

  it('refuses a PDF over 100 pages, with its count', async () => {
    const pages = Array.from({ length: 101 }, (_, i) => `page ${i}`);
    expect(await refusal([{ name: 'book.pdf', mediaType: 'application/pdf', data: pdfBase64(pages) }])).toBe(
      'book.pdf has 101 pages; Claude reads at most 100 pages of PDF a message. Split it, or send the pages you need.',
    );
    const hundred = pdfBase64(pages.slice(0, 100));
    expect((await checkAttachments([{ name: 'ok.pdf', mediaType: 'application/pdf', data: hundred }], newId)).ok).toBe(
      true,
    );
  });

  it('refuses a request over 32 MB, counting the rest of the request', async () => {
    const data = pngBase64(20, 20);
    const message = await refusal(
      [{ name: 'a.png', mediaType: 'image/png', data }],
      MAX_REQUEST_BYTES - data.length + 1,
    );
    expect(message).toBe(
      'These attachments make the request 32.0 MB; Claude takes at most 32.0 MB a request (base64 included). Send fewer or smaller files.',
    );
    expect(
      (
        await checkAttachments(
          [{ name: 'a.png', mediaType: 'image/png', data }],
          newId,
          MAX_REQUEST_BYTES - data.length,
        )
      ).ok,
    ).toBe(true);
  });
});
