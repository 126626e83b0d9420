import { describe, expect, it } from 'vitest';
import { cacheKey } from '@/lib/cache/cache-key';
import { cacheableRequest, messageRequest, type ContextTurn } from '@/lib/claude/request';
import type { AttachmentRef } from '@/lib/storage/rows';
import { pngBase64 } from '../../../support/claude-server-fixtures';

const base = { model: 'claude-sonnet-5-5', maxTokens: 8000, systemPrompt: '' };
const ref: AttachmentRef = {
  id: 'i1',
  kind: 'image',
  name: 'a.png',
  mediaType: 'image/png',
  bytes: 1,
  tokens: 1,
  hash: 'unused',
};
const turn = (data: string, text = 'What is it?'): ContextTurn[] => [
  { role: 'user', content: text, attachments: [{ ...ref, data }] },
];
const keyOf = (r: ReturnType<typeof messageRequest>) => cacheKey(cacheableRequest(r, 'https://api.anthropic.com'));

describe('the response cache key with attachments, thinking and tools', () => {
  it('keys an attachment by its bytes: the same bytes give the same key, other bytes another', async () => {
    const a = pngBase64(10, 10);
    expect(await keyOf(messageRequest(base, turn(a)))).toBe(await keyOf(messageRequest(base, turn(a))));
    expect(await keyOf(messageRequest(base, turn(a)))).not.toBe(
      await keyOf(messageRequest(base, turn(pngBase64(10, 11)))),
    );
    // The name (the document's title) is part of what the API reads; the attachment's own id is not.
    expect(
      await keyOf(messageRequest(base, [{ ...turn(a)[0]!, attachments: [{ ...ref, id: 'other', data: a }] }])),
    ).toBe(await keyOf(messageRequest(base, turn(a))));
  });

  it("never puts the base64 in what is hashed: a request differing only in it is keyed through the bytes' hash", async () => {
    // Two spellings of the same bytes (base64 wrapped on two lines) are the same attachment.
    const a = pngBase64(10, 10);
    const wrapped = `${a.slice(0, 20)}\n${a.slice(20)}`;
    expect(await keyOf(messageRequest(base, turn(wrapped)))).toBe(await keyOf(messageRequest(base, turn(a))));
  });

  it('a different thinking effort or web search is a different answer', async () => {
    const plain = await keyOf(messageRequest(base, [{ role: 'user', content: 'Hi' }]));
    const low = await keyOf(messageRequest({ ...base, thinking: 'low' }, [{ role: 'user', content: 'Hi' }]));
    const high = await keyOf(messageRequest({ ...base, thinking: 'high' }, [{ role: 'user', content: 'Hi' }]));
    const search = await keyOf(messageRequest({ ...base, webSearch: true }, [{ role: 'user', content: 'Hi' }]));
    const search5 = await keyOf(
      messageRequest({ ...base, webSearch: true, webSearchMaxUses: 5 }, [{ role: 'user', content: 'Hi' }]),
    );
    expect(new Set([plain, low, high, search, search5]).size).toBe(5);
  });
});
