import { describe, expect, it } from 'vitest';
import { cacheKey } from '@/lib/cache/cache-key';
import {
  describeMode,
  effectiveMode,
  fallbackMode,
  refusesCacheControl,
  withPromptCache,
} from '@/lib/claude/prompt-cache';
import { cacheableRequest, messageRequest } from '@/lib/claude/request';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';

const request = messageRequest({ ...DEFAULT_SETTINGS, systemPrompt: 'Be brief.' }, [
  { role: 'user', content: 'A long document...' },
  { role: 'assistant', content: 'I read it.' },
  { role: 'user', content: 'Summarise it.' },
]);

describe('withPromptCache', () => {
  it('carries a top-level cache_control when automatic, with the 1-hour lifetime only when asked', () => {
    expect(withPromptCache(request, 'automatic', '5m')).toEqual({ ...request, cache_control: { type: 'ephemeral' } });
    expect(withPromptCache(request, 'automatic', '1h')).toEqual({
      ...request,
      cache_control: { type: 'ephemeral', ttl: '1h' },
    });
  });

  it('carries nothing when off', () => {
    const off = withPromptCache(request, 'off', '5m');
    expect(off).toEqual(request);
    expect(JSON.stringify(off)).not.toContain('cache_control');
  });

  it('puts one breakpoint on the last user block when explicit, and nothing at the top', () => {
    const explicit = withPromptCache(request, 'explicit', '1h');
    expect(explicit.cache_control).toBeUndefined();
    expect(explicit.messages).toEqual([
      { role: 'user', content: 'A long document...' },
      { role: 'assistant', content: 'I read it.' },
      {
        role: 'user',
        content: [{ type: 'text', text: 'Summarise it.', cache_control: { type: 'ephemeral', ttl: '1h' } }],
      },
    ]);
    expect(JSON.stringify(explicit).match(/cache_control/g)).toHaveLength(1);
  });

  it('leaves the response cache key as it is: the prompt cache does not change the answer', async () => {
    const key = await cacheKey(cacheableRequest(request, 'https://api.anthropic.com'));
    for (const mode of ['automatic', 'explicit', 'off'] as const) {
      for (const ttl of ['5m', '1h'] as const) {
        expect(
          await cacheKey(cacheableRequest(withPromptCache(request, mode, ttl), 'https://api.anthropic.com')),
          `${mode} ${ttl}`,
        ).toBe(key);
      }
    }
    expect(
      cacheableRequest(withPromptCache(request, 'automatic', '5m'), 'https://api.anthropic.com'),
    ).not.toHaveProperty('cache_control');
  });
});

describe('a gateway that refuses cache_control', () => {
  const refusal = {
    status: 400,
    type: 'invalid_request_error',
    message: 'cache_control: Extra inputs are not permitted',
  };

  it('is told by status, type and the field having been sent, and the message naming it', () => {
    expect(refusesCacheControl(refusal, 'automatic')).toBe(true);
    expect(refusesCacheControl(refusal, 'explicit')).toBe(true);
    // Nothing was sent: the 400 is about something else.
    expect(refusesCacheControl(refusal, 'off')).toBe(false);
    expect(refusesCacheControl({ ...refusal, status: 422 }, 'automatic')).toBe(false);
    expect(refusesCacheControl({ ...refusal, type: 'permission_error' }, 'automatic')).toBe(false);
    expect(
      refusesCacheControl({ ...refusal, message: 'prompt is too long: 210000 tokens > 200000 maximum' }, 'automatic'),
    ).toBe(false);
  });

  it('steps down automatic -> explicit -> off, and says so', () => {
    expect(fallbackMode('automatic')).toBe('explicit');
    expect(fallbackMode('explicit')).toBe('off');
    expect(effectiveMode('5m', undefined)).toBe('automatic');
    expect(effectiveMode('1h', 'explicit')).toBe('explicit');
    expect(effectiveMode('off', undefined)).toBe('off');
    expect(describeMode('5m', undefined)).toBe('Prompt cache: automatic (5 minutes)');
    expect(describeMode('1h', 'explicit')).toBe(
      'Prompt cache: explicit breakpoint (1 hour; this gateway does not accept automatic caching)',
    );
    expect(describeMode('5m', 'off')).toBe('Prompt cache: off (this gateway accepts no cache_control)');
    expect(describeMode('off', 'explicit')).toBe('Prompt cache: off');
  });
});
