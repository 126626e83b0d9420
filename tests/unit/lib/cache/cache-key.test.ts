import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, type CacheableRequest } from '@/lib/cache/cache-key';

const base: CacheableRequest = {
  baseURL: 'https://api.anthropic.com',
  model: 'claude-sonnet-4-5',
  system: 'Be brief.',
  maxTokens: 1024,
  messages: [
    { role: 'user', content: 'What is a token bucket?' },
    { role: 'assistant', content: 'A rate limiter.' },
    { role: 'user', content: 'Explain more.' },
  ],
};

describe('cacheKey', () => {
  it('gives the same request the same key, whatever the representation', async () => {
    const k = await cacheKey(base);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(await cacheKey({ ...base })).toBe(k);
    expect(await cacheKey({ ...base, baseURL: 'https://api.anthropic.com/' })).toBe(k);
    expect(
      await cacheKey({
        ...base,
        messages: base.messages.map((m) => ({
          role: m.role,
          content: [{ type: 'text' as const, text: m.content as string }],
        })),
      }),
    ).toBe(k);
    // Parameters in another order are the same parameters.
    expect(await cacheKey({ ...base, params: { temperature: 0.2, top_k: 5 } })).toBe(
      await cacheKey({ ...base, params: { top_k: 5, temperature: 0.2 } }),
    );
    // No system prompt and an empty one send the same request.
    expect(await cacheKey({ ...base, system: undefined })).toBe(await cacheKey({ ...base, system: '' }));
  });

  it('changes with the model, the system prompt, any message, any parameter and the backend', async () => {
    const k = await cacheKey(base);
    const variants: CacheableRequest[] = [
      { ...base, model: 'claude-haiku-4-5' },
      { ...base, system: 'Be brief!' },
      { ...base, system: undefined },
      { ...base, maxTokens: 1025 },
      { ...base, params: { temperature: 0 } },
      { ...base, baseURL: 'https://gateway.example.com' },
      { ...base, messages: base.messages.slice(0, 1) },
      { ...base, messages: [...base.messages.slice(0, 2), { role: 'user', content: 'Explain more. ' }] },
      { ...base, messages: [{ role: 'user', content: 'what is a token bucket?' }, ...base.messages.slice(1)] },
      // The same words split differently between turns are a different conversation.
      {
        ...base,
        messages: [
          { role: 'user', content: 'What is a token bucket?\n\nA rate limiter.' },
          { role: 'assistant', content: '' },
          base.messages[2]!,
        ],
      },
    ];
    const keys = await Promise.all(variants.map(cacheKey));
    for (const v of keys) expect(v).not.toBe(k);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('maps distinct message texts to distinct keys and equal ones to equal keys (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), async (a, b) => {
        const ka = await cacheKey({ ...base, messages: [{ role: 'user', content: a }] });
        const kb = await cacheKey({ ...base, messages: [{ role: 'user', content: b }] });
        expect(ka === kb).toBe(a === b);
      }),
      { numRuns: 200 },
    );
  });
});
