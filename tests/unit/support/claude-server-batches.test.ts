/**
 * The local server's Message Batch endpoints, driven with the official SDK's own
 * `messages.batches` resource, so the wire matches what Anthropic's client expects; and its
 * `noPreflight` mode.
 */
import Anthropic, { BadRequestError, NotFoundError } from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer, type ClaudeServerOptions } from '../../support/claude-server';

const MODEL = 'claude-haiku-4-5';
const ask = (content: string) => ({ model: MODEL, max_tokens: 64, messages: [{ role: 'user' as const, content }] });

let server: ClaudeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function sdk(opts: ClaudeServerOptions = {}): Promise<Anthropic> {
  server = await startClaudeServer(opts);
  return new Anthropic({ apiKey: TEST_KEY, baseURL: server.url, dangerouslyAllowBrowser: true, maxRetries: 0 });
}

async function results(client: Anthropic, id: string) {
  const out = [];
  for await (const entry of await client.messages.batches.results(id)) out.push(entry);
  return out;
}

describe('the Message Batch endpoints', () => {
  it('create, poll until ended, then read every outcome as JSON Lines, in an order of their own', async () => {
    const client = await sdk({
      batches: {
        inProgressPolls: 2,
        outcome: ({ custom_id: id }) =>
          id === 'late'
            ? { type: 'expired' }
            : id === 'busy'
              ? { type: 'errored', errorType: 'overloaded_error' }
              : { type: 'succeeded' },
      },
    });
    const batch = await client.messages.batches.create({
      requests: [
        { custom_id: 'one', params: ask('first') },
        { custom_id: 'bad-model', params: { ...ask('x'), model: 'claude-nope' } },
        { custom_id: 'late', params: ask('third') },
        { custom_id: 'busy', params: ask('fourth') },
      ],
    });
    expect(batch).toMatchObject({
      type: 'message_batch',
      processing_status: 'in_progress',
      results_url: null,
      ended_at: null,
    });
    expect(batch.id).toMatch(/^msgbatch_/);
    expect(batch.request_counts).toEqual({ processing: 4, succeeded: 0, errored: 0, canceled: 0, expired: 0 });

    expect((await client.messages.batches.retrieve(batch.id)).processing_status).toBe('in_progress');
    expect((await client.messages.batches.retrieve(batch.id)).processing_status).toBe('in_progress');
    const ended = await client.messages.batches.retrieve(batch.id);
    expect(ended.processing_status).toBe('ended');
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 2, canceled: 0, expired: 1 });
    expect(ended.results_url).toBe(`${server!.url}/v1/messages/batches/${batch.id}/results`);

    const entries = await results(client, batch.id);
    expect(entries.map((e) => e.custom_id)).toEqual(['busy', 'late', 'bad-model', 'one']);
    const byId = Object.fromEntries(entries.map((e) => [e.custom_id, e.result]));
    expect(byId.one).toMatchObject({
      type: 'succeeded',
      message: {
        type: 'message',
        role: 'assistant',
        model: MODEL,
        content: [{ type: 'text', text: 'You said: "first"' }],
      },
    });
    expect(byId['bad-model']).toMatchObject({
      type: 'errored',
      error: { type: 'error', error: { type: 'not_found_error', message: 'model: claude-nope' } },
    });
    expect(byId.busy).toMatchObject({ type: 'errored', error: { type: 'error', error: { type: 'overloaded_error' } } });
    expect(byId.late).toEqual({ type: 'expired' });
  });

  it('ends a batch after a time, whatever the number of polls', async () => {
    const client = await sdk({ batches: { inProgressMs: 150 } });
    const batch = await client.messages.batches.create({ requests: [{ custom_id: 'a', params: ask('hi') }] });
    expect((await client.messages.batches.retrieve(batch.id)).processing_status).toBe('in_progress');
    await expect
      .poll(async () => (await client.messages.batches.retrieve(batch.id)).processing_status, { interval: 50 })
      .toBe('ended');
  });

  it('refuses results before the batch has ended, and an unknown batch', async () => {
    const client = await sdk();
    const batch = await client.messages.batches.create({ requests: [{ custom_id: 'a', params: ask('hi') }] });
    const early = await fetch(`${server!.url}/v1/messages/batches/${batch.id}/results`, {
      headers: {
        'x-api-key': TEST_KEY,
        'anthropic-version': '2023-06-01',
        'anthropic-dangerous-direct-browser-access': 'true',
      },
    });
    expect(early.status).toBe(400);
    expect(await early.text()).toContain('is still in_progress');
    await expect(client.messages.batches.retrieve('msgbatch_nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('cancels: canceling at once, then ended with what had not run canceled', async () => {
    const client = await sdk({ batches: { inProgressPolls: 100 } });
    const batch = await client.messages.batches.create({
      requests: [
        { custom_id: 'a', params: ask('hi') },
        { custom_id: 'b', params: ask('ho') },
      ],
    });
    const canceling = await client.messages.batches.cancel(batch.id);
    expect(canceling.processing_status).toBe('canceling');
    expect(canceling.cancel_initiated_at).not.toBeNull();
    const ended = await client.messages.batches.retrieve(batch.id);
    expect(ended.processing_status).toBe('ended');
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 0, errored: 0, canceled: 2, expired: 0 });
    expect((await results(client, batch.id)).map((e) => e.result)).toEqual([
      { type: 'canceled' },
      { type: 'canceled' },
    ]);
  });

  it('lists batches newest first, a page at a time', async () => {
    const client = await sdk();
    const ids = [];
    for (const id of ['a', 'b', 'c'])
      ids.push((await client.messages.batches.create({ requests: [{ custom_id: id, params: ask(id) }] })).id);
    const first = await client.messages.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const all = [];
    for await (const b of client.messages.batches.list({ limit: 2 })) all.push(b.id);
    expect(all).toEqual([...ids].reverse());
  });

  it.each([
    [{ requests: [] }, 'requests: List should have at least 1 item'],
    [{}, 'requests: Field required'],
    [
      { requests: [{ custom_id: 'has space', params: ask('x') }] },
      "requests.0.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'",
    ],
    [
      { requests: [{ custom_id: 'x'.repeat(65), params: ask('x') }] },
      'requests.0.custom_id: String should match pattern',
    ],
    [
      {
        requests: [
          { custom_id: 'a', params: ask('x') },
          { custom_id: 'a', params: ask('y') },
        ],
      },
      "'a' appears more than once",
    ],
    [{ requests: [{ custom_id: 'a' }] }, 'requests.0.params: Input should be a valid dictionary'],
  ])('refuses a bad create with 400: %j', async (body, message) => {
    const client = await sdk();
    const err: unknown = await client.messages.batches.create(body as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toContain(message);
  });

  it('checks the key and the version on every batch route', async () => {
    await sdk();
    const res = await fetch(`${server!.url}/v1/messages/batches`, {
      headers: { 'anthropic-version': '2023-06-01', 'anthropic-dangerous-direct-browser-access': 'true' },
    });
    expect(res.status).toBe(401);
  });
});

describe('noPreflight', () => {
  it('refuses every OPTIONS request with no CORS header, and answers the rest without any either', async () => {
    const client = await sdk({ noPreflight: true });
    for (const path of [
      '/v1/messages',
      '/v1/messages/batches',
      '/v1/messages/batches/msgbatch_x/results',
      '/v1/models',
    ]) {
      const res = await fetch(`${server!.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'chrome-extension://abc',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      expect(res.status).toBe(405);
      expect([...res.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
    const { data, response } = await client.messages.batches
      .create({ requests: [{ custom_id: 'a', params: ask('hi') }] })
      .withResponse();
    expect(data.processing_status).toBe('in_progress');
    expect([...response.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('is off by default: preflights are answered', async () => {
    await sdk();
    const res = await fetch(`${server!.url}/v1/messages/batches`, {
      method: 'OPTIONS',
      headers: { origin: 'chrome-extension://abc', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});
