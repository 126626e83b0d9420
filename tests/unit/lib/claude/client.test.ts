import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  RateLimitError,
} from '@anthropic-ai/sdk/core/error';
import {
  API_VERSION,
  ClaudeClient,
  createClaudeClient,
  listModels,
  RedirectRefused,
  refuseRedirects,
} from '@/lib/claude/client';
import { toPaceError } from '@/lib/claude/errors';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { startRedirectServer, type RedirectServer } from '../../../support/redirect-server';
import { useClaudeServer } from '../../../support/use-claude-server';

const TEAM_SECRET = 'team-secret-0123456789';
let elsewhere: ClaudeServer;
let gateway: RedirectServer;

useClaudeServer((s) => (elsewhere = s));
beforeAll(async () => {
  gateway = await startRedirectServer(elsewhere.url);
});
afterAll(async () => {
  await gateway.close();
});

/** What the call failed with, as the user is shown it. */
async function shown(call: Promise<unknown>, baseURL: string) {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).not.toBeNull();
  return toPaceError(err, 'chat', baseURL);
}

describe('a base URL that redirects elsewhere', () => {
  it('is refused, with both origins named, and the other origin never sees the key or the gateway headers', async () => {
    const client = createClaudeClient({ apiKey: TEST_KEY, baseURL: gateway.url }, { 'x-team-token': TEAM_SECRET });
    const listed = await shown(listModels(client), gateway.url);
    const sent = await shown(
      client.messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
      gateway.url,
    );
    for (const error of [listed, sent]) {
      expect(error).toMatchObject({ code: 'redirected', action: 'open_options' });
      expect(error.message).toContain(`${gateway.url} redirected the request to ${elsewhere.url}`);
      expect(error.message).not.toContain(TEST_KEY);
    }
    // The gateway the user chose got the requests; the address it pointed to got nothing.
    expect(gateway.requests.map((r) => r.path)).toEqual(['/v1/models?limit=100', '/v1/messages']);
    expect(elsewhere.requests).toEqual([]);
  });

  it('is refused as a redirect whatever the origins are called (the SDK reads "timeout" in an error as a timeout)', async () => {
    const toTimeout = await startRedirectServer('https://timeout.example');
    try {
      const client = createClaudeClient({ apiKey: TEST_KEY, baseURL: toTimeout.url });
      const sent = await shown(
        client.messages.create({
          model: 'claude-haiku-4-5',
          max_tokens: 16,
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
        }),
        toTimeout.url,
      );
      expect(sent).toMatchObject({ code: 'redirected', action: 'open_options' });
      expect(sent.message).toContain(`${toTimeout.url} redirected the request to https://timeout.example.`);
    } finally {
      await toTimeout.close();
    }
  });

  it("in a browser, where the redirect is opaque, asks where it leads with nothing of the user's", async () => {
    const opaque = { type: 'opaqueredirect', status: 0, headers: new Headers(), body: null } as unknown as Response;
    const landed = {
      type: 'cors',
      status: 404,
      redirected: true,
      url: 'https://elsewhere.example/v1/messages',
      headers: new Headers(),
      body: null,
    } as unknown as Response;
    const inner = vi
      .fn<(input: string | URL | Request, init?: RequestInit) => Promise<Response>>()
      .mockResolvedValueOnce(opaque)
      .mockResolvedValueOnce(landed);
    const request = refuseRedirects(inner)('https://gw.example.com/v1/messages', {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'x-team-token': TEAM_SECRET },
      body: '{"secret":"prompt"}',
    });
    await expect(request).rejects.toEqual(new RedirectRefused('https://gw.example.com', 'https://elsewhere.example'));
    expect(inner.mock.calls[0]![1]).toMatchObject({ redirect: 'manual', method: 'POST' });
    const [probeURL, probe] = inner.mock.calls[1]!;
    expect(probeURL).toBe('https://gw.example.com/v1/messages');
    expect(probe).toMatchObject({ method: 'GET', credentials: 'omit' });
    expect(probe).not.toHaveProperty('headers');
    expect(probe).not.toHaveProperty('body');
  });

  it('says "another address" when the browser will not tell where', async () => {
    const opaque = { type: 'opaqueredirect', status: 0, headers: new Headers(), body: null } as unknown as Response;
    const inner = vi
      .fn<(input: string | URL | Request, init?: RequestInit) => Promise<Response>>()
      .mockResolvedValueOnce(opaque)
      .mockRejectedValueOnce(new TypeError('Failed to fetch'));
    const err = await refuseRedirects(inner)('https://gw.example.com/v1/models', {}).catch((e: unknown) => e);
    expect(toPaceError(err, 'key-test', 'https://gw.example.com').message).toContain(
      'https://gw.example.com redirected the request to another address.',
    );
  });
});

describe("the thin client on the SDK's wire code", () => {
  const body = {
    model: 'claude-haiku-4-5',
    max_tokens: 16,
    messages: [{ role: 'user' as const, content: 'hi' }],
    stream: true as const,
  };
  const clientWith = (
    fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>,
    timeout = 60_000,
  ) =>
    new ClaudeClient({
      apiKey: TEST_KEY,
      baseURL: 'https://gw.example.com/anthropic/',
      defaultHeaders: { 'x-team-token': TEAM_SECRET },
      fetch,
      timeout,
    });

  it('sends what the SDK sends: the key as a Bearer token, the API version, the browser header, the gateway headers, the JSON body', async () => {
    const fetch = vi
      .fn<(input: string | URL | Request, init?: RequestInit) => Promise<Response>>()
      .mockResolvedValue(new Response('{"input_tokens":7}'));
    expect(
      await clientWith(fetch).messages.countTokens({ model: 'claude-haiku-4-5', messages: body.messages }),
    ).toEqual({ input_tokens: 7 });
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('https://gw.example.com/anthropic/v1/messages/count_tokens');
    expect(init).toMatchObject({
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_KEY}`,
        'anthropic-version': API_VERSION,
        'anthropic-dangerous-direct-browser-access': 'true',
        'x-team-token': TEAM_SECRET,
        'content-type': 'application/json',
      },
    });
    expect(JSON.parse(init!.body as string)).toEqual({ model: 'claude-haiku-4-5', messages: body.messages });
  });

  it("fails as the SDK does: the status's error class with its headers, a timeout, an abort, a failed fetch with its cause", async () => {
    const refused = new Response('{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}', {
      status: 429,
      headers: { 'retry-after': '3' },
    });
    const limited = await clientWith(() => Promise.resolve(refused))
      .messages.create(body)
      .withResponse()
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers.get('retry-after')).toBe('3');

    const never = (_: unknown, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    await expect(clientWith(never, 5).messages.create(body)).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    const controller = new AbortController();
    const stopped = clientWith(never).messages.create(body, { signal: controller.signal });
    controller.abort();
    await expect(stopped).rejects.toBeInstanceOf(APIUserAbortError);

    const cause = new TypeError('Failed to fetch');
    const failed = await clientWith(() => Promise.reject(cause))
      .models.list({ limit: 100 })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(APIConnectionError);
    expect((failed as APIConnectionError).cause).toBe(cause);
  });
});
