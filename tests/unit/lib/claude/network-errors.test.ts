import { APIConnectionError, AnthropicError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { toPaceError } from '@/lib/claude/errors';

const BASE = 'https://api.anthropic.com';
const code = (err: unknown) => toPaceError(err, 'chat', BASE).code;

describe('toPaceError: a dropped connection, or a bug', () => {
  it.each([
    ['Chromium, fetch', 'Failed to fetch'],
    ['Chromium, a body cut mid-stream', 'network error'],
    ['Firefox, fetch', 'NetworkError when attempting to fetch resource.'],
    ['Firefox, a body cut mid-stream', 'Error in input stream'],
    ['Firefox, a body stream failing', 'Error in body stream'],
    ['Safari', 'Load failed'],
    ['Node (undici), fetch', 'fetch failed'],
    ['Node (undici), a body cut mid-stream', 'terminated'],
  ])("fetch's network TypeError (%s) is a dropped connection", (_, message) => {
    expect(toPaceError(new TypeError(message), 'chat', BASE)).toMatchObject({ code: 'unreachable', action: 'retry' });
  });

  it("the SDK's APIConnectionError is a dropped connection", () => {
    expect(code(new APIConnectionError({ cause: new TypeError('Failed to fetch') }))).toBe('unreachable');
  });

  it('a network TypeError down the cause chain is a dropped connection', () => {
    const socket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(code(new TypeError('terminated', { cause: socket }))).toBe('unreachable');
    expect(code(new AnthropicError('stream failed', { cause: new TypeError('network error') }))).toBe('unreachable');
  });

  it.each([
    "Cannot read properties of undefined (reading 'text')",
    'answer.text.slice is not a function',
    "Cannot destructure property 'delta' of 'event' as it is undefined.",
  ])('a TypeError from a bug (%s) is internal, and says what broke', (message) => {
    const error = toPaceError(new TypeError(message), 'chat', BASE);
    expect(error.code).toBe('internal');
    expect(error.message).toContain(message);
  });

  it('a bare AnthropicError with no network failure behind it is internal', () => {
    expect(code(new AnthropicError('Attempted to iterate over a response with no body'))).toBe('internal');
  });
});
