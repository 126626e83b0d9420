import { APIError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { toPaceError, withoutSecrets } from '@/lib/claude/errors';
import { DEFAULT_BASE_URL } from '@/lib/settings/validate';

const GATEWAY = 'https://litellm.example.com/anthropic';

/** An error as the SDK builds it from a response. */
const apiError = (status: number, type: string, message: string) =>
  APIError.generate(
    status,
    { type: 'error', error: { type, message } },
    undefined,
    new Headers({ 'request-id': 'req_1' }),
  );

describe("who said it: Anthropic's API or the gateway", () => {
  it('quotes a gateway under its own host, never as Anthropic', () => {
    const error = toPaceError(apiError(404, 'not_found_error', 'no route for model'), 'chat', GATEWAY);
    expect(error.message).toContain('litellm.example.com says: "no route for model"');
    expect(error.message).not.toContain('Anthropic');
    const refused = toPaceError(
      apiError(400, 'invalid_request_error', 'team budget exceeded'),
      'chat',
      'http://127.0.0.1:4000',
    );
    expect(refused.message).toContain('127.0.0.1:4000 says: "team budget exceeded"');
  });

  it('names the gateway for its own overload, failures and limits', () => {
    expect(toPaceError(apiError(529, 'overloaded_error', 'Overloaded'), 'chat', GATEWAY).message).toMatch(
      /^litellm\.example\.com is overloaded/,
    );
    expect(toPaceError(apiError(500, 'api_error', 'boom'), 'chat', GATEWAY).message).toMatch(
      /^litellm\.example\.com had an internal error \(500\)/,
    );
    expect(toPaceError(apiError(429, 'rate_limit_error', 'slow down'), 'chat', GATEWAY).message).toMatch(
      /^litellm\.example\.com's rate limit was hit/,
    );
    expect(toPaceError(apiError(504, 'timeout_error', 'late'), 'chat', GATEWAY).message).toContain(
      'timed out at litellm.example.com',
    );
  });

  it("still says Anthropic for Anthropic's own API", () => {
    expect(toPaceError(apiError(404, 'not_found_error', 'model: x'), 'chat', DEFAULT_BASE_URL).message).toContain(
      'Anthropic says: "model: x"',
    );
    expect(toPaceError(apiError(529, 'overloaded_error', 'Overloaded'), 'chat', DEFAULT_BASE_URL).message).toMatch(
      /^Anthropic is overloaded/,
    );
  });
});

describe("the organization's own spend limit (Anthropic's 400)", () => {
  const own = 'You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC.';

  it('is a spend limit, not a bad request, named for who said it', () => {
    const error = toPaceError(apiError(400, 'invalid_request_error', own), 'chat', DEFAULT_BASE_URL);
    expect(error.code).toBe('spend_limit');
    expect(error.message).toMatch(
      /^Your organization's own spend limit, set in the Anthropic Console, is reached: Anthropic will refuse requests until it resets/,
    );
    expect(toPaceError(apiError(400, 'invalid_request_error', own), 'chat', GATEWAY).message).toContain(
      'litellm.example.com will refuse',
    );
  });

  it('is recognised only as that 400: any other 400, type or error_code stays what it was', () => {
    expect(
      toPaceError(apiError(400, 'invalid_request_error', 'max_tokens: too large'), 'chat', DEFAULT_BASE_URL).code,
    ).toBe('bad_request');
    expect(toPaceError(apiError(400, 'invalid_request_error', `Note: ${own}`), 'chat', DEFAULT_BASE_URL).code).toBe(
      'bad_request',
    );
    expect(toPaceError(apiError(400, 'api_error', own), 'chat', DEFAULT_BASE_URL).code).toBe('bad_request');
    expect(toPaceError(apiError(403, 'permission_error', own), 'chat', DEFAULT_BASE_URL).code).toBe(
      'permission_denied',
    );
    const coded = APIError.generate(
      400,
      {
        type: 'error',
        error: { type: 'invalid_request_error', message: own, details: { error_code: 'invalid_metadata' } },
      },
      undefined,
      new Headers(),
    );
    expect(toPaceError(coded, 'chat', DEFAULT_BASE_URL).code).toBe('bad_request');
  });
});

describe('withoutSecrets', () => {
  const error = (message: string) => ({ code: 'bad_request' as const, message });
  it('takes out a whole value, and a token a gateway echoes without its scheme', () => {
    const secrets = ['sk-ant-api03-abcdefgh', 'Bearer cf-token-0123456789'];
    expect(withoutSecrets(error('key sk-ant-api03-abcdefgh refused'), secrets).message).toBe('key [redacted] refused');
    expect(withoutSecrets(error('got Bearer cf-token-0123456789'), secrets).message).toBe('got [redacted]');
    expect(withoutSecrets(error('invalid token cf-token-0123456789'), secrets).message).toBe(
      'invalid token [redacted]',
    );
  });
  it('leaves short values and plain words alone', () => {
    expect(withoutSecrets(error('Bearer auth needs 1 header'), ['Bearer x', '1']).message).toBe(
      'Bearer auth needs 1 header',
    );
  });
});
