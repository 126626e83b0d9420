import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { useClaudeServer } from '../../support/use-claude-server';

const MODEL = 'claude-haiku-4-5';
const BROWSER_HEADERS = {
  'anthropic-version': '2026-10-21',
  'anthropic-dangerous-direct-browser-access': 'true',
  'content-type': 'application/json',
};

let server: ClaudeServer;

useClaudeServer((s) => (server = s));

function client(overrides: { apiKey?: string; dangerouslyAllowBrowser?: boolean } = {}): Anthropic {
  return new Anthropic({
    apiKey: overrides.apiKey ?? TEST_KEY,
    baseURL: server.url,
    dangerouslyAllowBrowser: overrides.dangerouslyAllowBrowser ?? true,
    maxRetries: 0,
  });
}

const ask = (content: string) => ({ model: MODEL, max_tokens: 256, messages: [{ role: 'user' as const, content }] });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

async function apiRejection(p: Promise<unknown>): Promise<APIError> {
  const e = await rejection(p);
  if (!(e instanceof APIError)) throw e;
  return e;
}

function parseSse(text: string): { event: string; data: unknown }[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(frame)?.[1] ?? 'null';
      return { event, data: JSON.parse(data) as unknown };
    });
}

describe('claude test server, through the real SDK', () => {
  it('streams a scripted answer that assembles into the final message', async () => {
    const text = 'Hello from the scripted server, in several small pieces.';
    server.script({ kind: 'text', text, chunkSize: 5, delayMs: 1 });
    const deltas: string[] = [];
    const stream = client().messages.stream(ask('hi'));
    stream.on('text', (t) => deltas.push(t));
    const message = await stream.finalMessage();

    expect(message.content).toEqual([{ type: 'text', text }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBe(1);
    expect(message.usage.output_tokens).toBe(Math.ceil(text.length / 4));
    expect(deltas.length).toBe(Math.ceil(text.length / 5));
  });

  it('echoes the last user message by default', async () => {
    const message = await client().messages.create(ask('what is up?'));
    expect(message.content).toEqual([{ type: 'text', text: 'You said: "what is up?"' }]);
  });

  it('puts pings, ordered events and rate-limit headers on the wire', async () => {
    server.script({ kind: 'text', text: 'abcdefghijklmnopqrstuvwxyz', chunkSize: 2, delayMs: 0, pingEvery: 5 });
    const res = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { ...BROWSER_HEADERS, authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify({ ...ask('ping me'), stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('anthropic-ratelimit-requests-limit')).toBe('50');
    expect(res.headers.get('anthropic-ratelimit-requests-remaining')).toBe('49');
    expect(res.headers.get('anthropic-ratelimit-requests-reset')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const events = parseSse(await res.text());
    const names = events.map((e) => e.event);
    expect(names.filter((n) => n === 'ping').length).toBe(1 + Math.floor(13 / 5));
    expect(names.filter((n) => n !== 'ping')).toEqual([
      'message_start',
      'content_block_start',
      ...Array<string>(13).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const e of events) expect(e.data).toMatchObject({ type: e.event });
    expect(events[0]?.data).toMatchObject({ message: { usage: { input_tokens: 2, output_tokens: 1 }, content: [] } });
    expect(events.find((e) => e.event === 'message_delta')?.data).toMatchObject({
      delta: { stop_reason: 'end_turn' },
      usage: { output_tokens: 7 },
    });
  });

  it('rejects a wrong key with AuthenticationError', async () => {
    const err = await apiRejection(client({ apiKey: 'sk-ant-wrong' }).messages.create(ask('hi')));
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err).toMatchObject({ status: 401, type: 'authentication_error', apiMessage: 'invalid x-api-key' });
    expect(err.requestID).toMatch(/^req_/);
  });

  it('rejects a request without the browser-access header', async () => {
    const err = await apiRejection(client({ dangerouslyAllowBrowser: false }).messages.create(ask('hi')));
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.apiMessage).toMatch(/CORS/);
  });

  it('rejects an empty message with 400 without consuming the script', async () => {
    server.script({ kind: 'text', text: 'still queued', delayMs: 0 });
    const err = await apiRejection(client().messages.create(ask('   ')));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(err.apiMessage).toBe('messages: text content blocks must be non-empty');

    const next = await client().messages.create(ask('now for real'));
    expect(next.content).toEqual([{ type: 'text', text: 'still queued' }]);
    expect(server.messageRequests()).toHaveLength(2);
  });

  it('validates roles and models', async () => {
    const twoUsers = {
      model: MODEL,
      max_tokens: 10,
      messages: [
        { role: 'user' as const, content: 'a' },
        { role: 'user' as const, content: 'b' },
      ],
    };
    expect(await rejection(client().messages.create(twoUsers))).toBeInstanceOf(Anthropic.BadRequestError);
    const unknown = await apiRejection(client().messages.create({ ...ask('hi'), model: 'claude-nope' }));
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect(unknown.apiMessage).toBe('model: claude-nope');
  });

  it('surfaces 429 with retry-after as RateLimitError', async () => {
    server.script({ kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: 30 });
    const err = await apiRejection(client().messages.create(ask('hi')));
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.headers?.get('retry-after')).toBe('30');
    expect(err.errorCode).toBeNull();
    expect(err.error).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: expect.any(String) as unknown },
      request_id: err.requestID,
    });
  });

  it('exposes the spend-limit error code', async () => {
    server.script({ kind: 'error', status: 429, type: 'rate_limit_error', errorCode: 'enforced_spend_limit_reached' });
    const err = await rejection(client().messages.create(ask('hi')));
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err).toMatchObject({ status: 429, errorCode: 'enforced_spend_limit_reached' });
  });

  it('answers 529 when overloaded', async () => {
    server.script({ kind: 'error', status: 529, type: 'overloaded_error' });
    const err = await rejection(client().messages.stream(ask('hi')).finalMessage());
    expect(err).toMatchObject({ status: 529, type: 'overloaded_error' });
  });

  it('fails a stream that errors after 200', async () => {
    server.script({ kind: 'midStreamError', textBefore: 'partial' });
    const deltas: string[] = [];
    const stream = client().messages.stream(ask('hi'));
    stream.on('text', (t) => deltas.push(t));
    const err = await rejection(stream.finalMessage());
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err).toMatchObject({ type: 'overloaded_error', status: undefined });
    expect(deltas.join('')).toBe('partial');
  });

  it('fails a stream whose connection drops', async () => {
    server.script({ kind: 'drop', textBefore: 'cut off' });
    const deltas: string[] = [];
    const stream = client().messages.stream(ask('hi'));
    stream.on('text', (t) => deltas.push(t));
    const err = await rejection(stream.finalMessage());
    // The SDK reports a body cut mid-stream as a plain AnthropicError wrapping undici's "terminated".
    expect(err).toBeInstanceOf(Anthropic.AnthropicError);
    expect(err).not.toBeInstanceOf(Anthropic.APIUserAbortError);
    expect(String(err)).toMatch(/terminated|connection/i);
    expect(deltas.join('')).toBe('cut off');
  });

  it('lets a stalled stream be aborted', async () => {
    server.script({ kind: 'stall', textBefore: 'wait' });
    const controller = new AbortController();
    const stream = client().messages.stream(ask('hi'), { signal: controller.signal });
    stream.on('text', () => controller.abort());
    const err = await rejection(stream.finalMessage());
    expect(err).toBeInstanceOf(Anthropic.APIUserAbortError);
  });

  it('closes promptly while a stream is stalled', async () => {
    const own = await startClaudeServer();
    own.script({ kind: 'stall' });
    const res = await fetch(`${own.url}/v1/messages`, {
      method: 'POST',
      headers: { ...BROWSER_HEADERS, 'x-api-key': TEST_KEY },
      body: JSON.stringify({ ...ask('hi'), stream: true }),
    });
    expect(res.status).toBe(200);
    const body = res.text();
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(500);
    await expect(body).rejects.toThrow();
  });

  it('answers CORS preflights', async () => {
    const res = await fetch(`${server.url}/v1/messages`, {
      method: 'OPTIONS',
      headers: {
        origin: 'chrome-extension://abcdef',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,anthropic-version,content-type,x-stainless-os',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'authorization,anthropic-version,content-type,x-stainless-os',
    );
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(server.requests.map((r) => r.method)).toEqual(['OPTIONS']);
  });

  it('accepts x-api-key with the previous API version', async () => {
    const res = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { ...BROWSER_HEADERS, 'anthropic-version': '2023-06-01', 'x-api-key': TEST_KEY },
      body: JSON.stringify(ask('old client')),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      stop_reason: 'end_turn',
    });

    const bad = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { ...BROWSER_HEADERS, 'anthropic-version': '2020-01-01', 'x-api-key': TEST_KEY },
      body: JSON.stringify(ask('hi')),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining('anthropic-version') as unknown },
    });
  });

  it('lists models and counts tokens', async () => {
    const page = await client().models.list();
    expect(page.data.map((m) => m.id)).toEqual([
      'claude-opus-4-7',
      'claude-sonnet-4-6',
      'claude-haiku-4-5',
      'claude-sonnet-5-5',
      'claude-opus-5-5',
      'claude-haiku-5-5',
    ]);
    expect(page.data[0]).toMatchObject({ type: 'model', display_name: 'Claude Opus 4.7' });
    const count = await client().messages.countTokens({
      model: MODEL,
      messages: [{ role: 'user', content: 'nine char' }],
    });
    expect(count.input_tokens).toBe(3);
  });

  it('records every request', async () => {
    const before = Date.now();
    await client().messages.create(ask('record me'));
    await client().models.list();
    const [post, get] = server.requests;
    expect(server.requests).toHaveLength(2);
    expect(post).toMatchObject({ method: 'POST', path: '/v1/messages', body: ask('record me') });
    expect(post?.headers).toMatchObject({ authorization: `Bearer ${TEST_KEY}`, 'anthropic-version': '2026-10-21' });
    expect(post?.at).toBeGreaterThanOrEqual(before);
    expect(get).toMatchObject({ method: 'GET', path: '/v1/models', body: undefined });
    expect(server.messageRequests()).toEqual([post]);
  });
});

describe('a server that enforces its own bucket', () => {
  it('answers 429 with retry-after once the bucket is empty, and records each status', async () => {
    const limited = await startClaudeServer({ bucket: { perMinute: 2 } });
    try {
      const client = new Anthropic({
        apiKey: TEST_KEY,
        baseURL: limited.url,
        dangerouslyAllowBrowser: true,
        maxRetries: 0,
      });
      const ask = () =>
        client.messages.create({
          model: 'claude-haiku-4-5',
          max_tokens: 10,
          messages: [{ role: 'user', content: 'hi' }],
        });
      const first = await client.messages
        .create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      expect(first.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('1');
      await ask();
      const refused = await ask().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(Anthropic.RateLimitError);
      expect(
        Number((refused as InstanceType<typeof Anthropic.RateLimitError>).headers.get('retry-after')),
      ).toBeGreaterThanOrEqual(29);
      await new Promise((r) => setTimeout(r, 50));
      expect(limited.messageRequests().map((r) => r.status)).toEqual([200, 200, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('a server that enforces an input-token bucket', () => {
  it('reports it in the input-tokens headers, rounded to the thousand, and answers 429 to a prompt that does not fit', async () => {
    const limited = await startClaudeServer({ inputTokenBucket: { limit: 10_000, refillMs: 600_000 } });
    try {
      const client = new Anthropic({
        apiKey: TEST_KEY,
        baseURL: limited.url,
        dangerouslyAllowBrowser: true,
        maxRetries: 0,
      });
      const ask = (tokens: number) =>
        client.messages
          .create({
            model: 'claude-haiku-4-5',
            max_tokens: 10,
            messages: [{ role: 'user', content: 'x'.repeat(tokens * 4) }],
          })
          .withResponse();
      const first = await ask(4_400);
      expect(first.response.headers.get('anthropic-ratelimit-input-tokens-limit')).toBe('10000');
      expect(first.response.headers.get('anthropic-ratelimit-input-tokens-remaining')).toBe('6000');
      expect(Date.parse(first.response.headers.get('anthropic-ratelimit-input-tokens-reset')!)).toBeGreaterThan(
        Date.now() + 200_000,
      );
      const refused = await ask(6_000).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(Anthropic.RateLimitError);
      expect(
        (refused as InstanceType<typeof Anthropic.RateLimitError>).headers.get(
          'anthropic-ratelimit-input-tokens-remaining',
        ),
      ).toBe('6000');
      await ask(5_000);
      await new Promise((r) => setTimeout(r, 50));
      expect(limited.messageRequests().map((r) => r.status)).toEqual([200, 429, 200]);
    } finally {
      await limited.close();
    }
  });
});

describe('a server that enforces an output-token bucket', () => {
  it('takes the tokens answers produce (not max_tokens) from the bucket, reports it in the output-tokens headers and answers 429 once it is empty', async () => {
    // 4,800 characters: 1,200 output tokens an answer, against a bucket of 2,000 that refills in ten minutes.
    const text = 'y'.repeat(4_800);
    const limited = await startClaudeServer({
      outputTokenBucket: { limit: 2_000, refillMs: 600_000 },
      defaultBehaviour: { kind: 'text', text, chunkSize: 1_000, delayMs: 0 },
    });
    try {
      const client = new Anthropic({
        apiKey: TEST_KEY,
        baseURL: limited.url,
        dangerouslyAllowBrowser: true,
        maxRetries: 0,
      });
      const params = { model: MODEL, max_tokens: 8_000, messages: [{ role: 'user' as const, content: 'hello' }] };
      const first = await client.messages.create(params).withResponse();
      // Counted as produced: the headers, sent before the answer, still show the whole bucket.
      expect(first.response.headers.get('anthropic-ratelimit-output-tokens-limit')).toBe('2000');
      expect(first.response.headers.get('anthropic-ratelimit-output-tokens-remaining')).toBe('2000');
      expect(first.data.usage.output_tokens).toBe(1_200);
      // 800 left: a max_tokens of 8,000 is still let in, and its streamed answer takes the bucket below zero.
      const streamed = await client.messages.stream(params).withResponse();
      expect(streamed.response.headers.get('anthropic-ratelimit-output-tokens-remaining')).toBe('1000');
      expect((await streamed.data.finalMessage()).usage.output_tokens).toBe(1_200);
      const refused = await client.messages.create(params).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(Anthropic.RateLimitError);
      const headers = (refused as InstanceType<typeof Anthropic.RateLimitError>).headers;
      expect(headers.get('anthropic-ratelimit-output-tokens-remaining')).toBe('0');
      // 401 tokens short of one at 2,000 per ten minutes: about 120 s.
      expect(Number(headers.get('retry-after'))).toBe(121);
      await new Promise((r) => setTimeout(r, 50));
      const recorded = limited.messageRequests();
      expect(recorded.map((r) => [r.status, r.retryAfter])).toEqual([
        [200, undefined],
        [200, undefined],
        [429, 121],
      ]);
      for (const r of recorded) expect(r.answeredAt).toBeGreaterThanOrEqual(r.at);
    } finally {
      await limited.close();
    }
  });
});

describe('a server that reports only its token buckets', () => {
  it('sends no requests trio when told, and the input-tokens trio still', async () => {
    const limited = await startClaudeServer({ inputTokenBucket: { limit: 10_000 }, requestLimitHeaders: false });
    try {
      const client = new Anthropic({
        apiKey: TEST_KEY,
        baseURL: limited.url,
        dangerouslyAllowBrowser: true,
        maxRetries: 0,
      });
      const { response } = await client.messages.create(ask('hello')).withResponse();
      expect(response.headers.get('anthropic-ratelimit-requests-limit')).toBeNull();
      expect(response.headers.get('anthropic-ratelimit-input-tokens-limit')).toBe('10000');
    } finally {
      await limited.close();
    }
  });
});

describe("the server's model of Anthropic's prompt cache", () => {
  let clock = Date.UTC(2026, 10, 30, 10);
  let cached: ClaudeServer;
  const document = 'The quick brown fox jumps over the lazy dog. '.repeat(1000); // 45,000 chars, 11,250 tokens
  const api = () =>
    new Anthropic({ apiKey: TEST_KEY, baseURL: cached.url, dangerouslyAllowBrowser: true, maxRetries: 0 });
  const turn = (messages: { role: 'user' | 'assistant'; content: string }[], ttl?: '5m' | '1h') =>
    api().messages.create({
      model: MODEL,
      max_tokens: 100,
      messages,
      cache_control: { type: 'ephemeral', ...(ttl ? { ttl } : {}) },
    });

  useClaudeServer((s) => (cached = s), { promptCache: { minTokens: 1024, now: () => clock } });

  it('writes the prefix on a first request and reads it back within its lifetime', async () => {
    const first = await turn([{ role: 'user', content: document }]);
    expect(first.usage).toMatchObject({
      cache_creation_input_tokens: Math.ceil(document.length / 4),
      cache_read_input_tokens: 0,
      input_tokens: 0,
    });
    expect(first.usage.cache_creation).toEqual({
      ephemeral_5m_input_tokens: first.usage.cache_creation_input_tokens,
      ephemeral_1h_input_tokens: 0,
    });

    clock += 4 * 60_000;
    const answer = first.content[0]!.type === 'text' ? first.content[0].text : '';
    const second = await turn([
      { role: 'user', content: document },
      { role: 'assistant', content: answer },
      { role: 'user', content: 'And the dog?' },
    ]);
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
    // Only the new turns are written; the whole prompt is accounted for once.
    expect(
      (second.usage.cache_read_input_tokens ?? 0) +
        (second.usage.cache_creation_input_tokens ?? 0) +
        second.usage.input_tokens,
    ).toBe(Math.ceil((document.length + answer.length + 'And the dog?'.length) / 4));
    expect(cached.messageRequests().map((r) => r.usage?.cache_read_input_tokens)).toEqual([
      0,
      second.usage.cache_read_input_tokens,
    ]);
  });

  it('forgets a prefix not used for its lifetime (5 minutes, or 1 hour when asked)', async () => {
    await turn([{ role: 'user', content: document }]);
    clock += 5 * 60_000 + 1;
    expect((await turn([{ role: 'user', content: document }])).usage).toMatchObject({
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 11_250,
    });

    const long = `${document} (kept an hour)`;
    const written = await turn([{ role: 'user', content: long }], '1h');
    expect(written.usage.cache_creation).toEqual({
      ephemeral_5m_input_tokens: 0,
      ephemeral_1h_input_tokens: written.usage.cache_creation_input_tokens,
    });
    clock += 59 * 60_000;
    expect((await turn([{ role: 'user', content: long }], '1h')).usage.cache_read_input_tokens).toBe(
      written.usage.cache_creation_input_tokens,
    );
  });

  it('caches nothing below the minimum length, and nothing without cache_control', async () => {
    const short = await turn([{ role: 'user', content: 'A short question about foxes.' }]);
    expect(short.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0, input_tokens: 8 });
    const plain = () =>
      api().messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: document }] });
    await plain();
    expect((await plain()).usage).toMatchObject({
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      input_tokens: 11_250,
    });
  });

  it('takes explicit breakpoints on blocks, at most four, and checks cache_control', async () => {
    const block = (text: string) => ({ type: 'text' as const, text, cache_control: { type: 'ephemeral' as const } });
    const explicit = await api().messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: 'user', content: [block(document), { type: 'text', text: 'Summarise.' }] }],
    });
    expect(explicit.usage).toMatchObject({
      cache_creation_input_tokens: 11_250,
      input_tokens: Math.ceil((document.length + 'Summarise.'.length) / 4) - 11_250,
    });

    const five = await apiRejection(
      api().messages.create({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: 'user', content: [1, 2, 3, 4, 5].map((n) => block(`part ${n}`)) }],
      }),
    );
    expect([five.status, five.type]).toEqual([400, 'invalid_request_error']);
    const wrong = await apiRejection(
      api().messages.create({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
        cache_control: { type: 'persistent' } as never,
      }),
    );
    expect([wrong.status, wrong.message]).toEqual([400, expect.stringContaining('cache_control.type')]);
  });

  it('plays a gateway that refuses the top-level field but takes block breakpoints', async () => {
    const gateway = await startClaudeServer({ refuseCacheControl: 'top-level' });
    try {
      const gw = new Anthropic({
        apiKey: TEST_KEY,
        baseURL: gateway.url,
        dangerouslyAllowBrowser: true,
        maxRetries: 0,
      });
      const refused = await apiRejection(
        gw.messages.create({
          model: MODEL,
          max_tokens: 10,
          messages: [{ role: 'user', content: 'hi' }],
          cache_control: { type: 'ephemeral' },
        }),
      );
      expect([refused.status, refused.type]).toEqual([400, 'invalid_request_error']);
      const block = { type: 'text' as const, text: document, cache_control: { type: 'ephemeral' as const } };
      expect(
        (await gw.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: [block] }] }))
          .usage.cache_creation_input_tokens,
      ).toBe(11_250);
    } finally {
      await gateway.close();
    }
  });
});
