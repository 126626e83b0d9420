/**
 * The local server's extended thinking, driven through the real SDK: which shape each model takes,
 * the refusals, the thinking block before the text (streamed and whole), and thinking tokens
 * counted as output, in usage and in the output-token bucket.
 */
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages/messages';
import { describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { useClaudeServer } from '../../support/use-claude-server';

let server: ClaudeServer;
useClaudeServer((s) => (server = s));

const client = (url = server.url) =>
  new Anthropic({ apiKey: TEST_KEY, baseURL: url, dangerouslyAllowBrowser: true, maxRetries: 0 });

const ask = (model: string, extra: Partial<MessageCreateParamsNonStreaming> = {}): MessageCreateParamsNonStreaming => ({
  model,
  max_tokens: 8000,
  messages: [{ role: 'user', content: 'Why is the sky blue?' }],
  ...extra,
});

async function refusal(p: Promise<unknown>): Promise<APIError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof APIError)) throw new Error(`expected an APIError, got ${String(e)}`);
  return e;
}

const tokens = (text: string) => Math.ceil(text.length / 4);

describe('adaptive thinking', () => {
  it('streams a thinking block (thinking deltas, then a signature) before the text at index 1, and counts it as output', async () => {
    server.script({
      kind: 'text',
      text: 'Because of Rayleigh scattering.',
      thinking: 'Light scatters. Blue more.',
      delayMs: 0,
    });
    const events: { type: string; index?: number; delta?: { type: string }; content_block?: unknown }[] = [];
    const stream = client().messages.stream({
      ...ask('claude-sonnet-5-5'),
      thinking: { type: 'adaptive' },
      output_config: { effort: 'medium' },
    });
    stream.on('streamEvent', (e) => events.push(e as (typeof events)[number]));
    const message = await stream.finalMessage();

    const blocks = events.filter((e) => e.type === 'content_block_start');
    expect(blocks.map((e) => [e.index, e.content_block])).toEqual([
      [0, { type: 'thinking', thinking: '', signature: '' }],
      [1, { type: 'text', text: '' }],
    ]);
    const zero = events.filter((e) => e.type === 'content_block_delta' && e.index === 0).map((e) => e.delta!.type);
    expect(zero.at(-1)).toBe('signature_delta');
    expect(zero.slice(0, -1).every((t) => t === 'thinking_delta')).toBe(true);
    expect(zero.length).toBeGreaterThan(1);
    expect(
      events
        .filter((e) => e.type === 'content_block_delta' && e.index === 1)
        .every((e) => e.delta!.type === 'text_delta'),
    ).toBe(true);

    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Light scatters. Blue more.', signature: expect.any(String) as unknown },
      { type: 'text', text: 'Because of Rayleigh scattering.' },
    ]);
    expect((message.content[0] as { signature: string }).signature.length).toBeGreaterThan(20);
    const thinking = tokens('Light scatters. Blue more.');
    expect(message.usage.output_tokens).toBe(thinking + tokens('Because of Rayleigh scattering.'));
    expect(message.usage.output_tokens_details).toEqual({ thinking_tokens: thinking });
    expect(server.lastParsed()).toMatchObject({ thinking: { type: 'adaptive' }, outputConfig: { effort: 'medium' } });
    expect(server.messageRequests().at(-1)?.answer).toMatchObject({ thinkingTokens: thinking, webSearchRequests: 0 });
  });

  it('answers a whole message with the thinking block first, longer at higher effort; display omitted shows none but bills it', async () => {
    const at = async (effort: 'low' | 'high', display?: 'omitted') =>
      client().messages.create({
        ...ask('claude-opus-4-7'),
        thinking: { type: 'adaptive', ...(display ? { display } : {}) },
        output_config: { effort },
      });
    const low = await at('low');
    const high = await at('high');
    expect(low.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const lowThinking = (low.content[0] as { thinking: string }).thinking;
    const highThinking = (high.content[0] as { thinking: string }).thinking;
    expect(lowThinking).toMatch(/Why is the sky blue\?/);
    expect(highThinking.length).toBeGreaterThan(3 * lowThinking.length);
    expect(high.usage.output_tokens - low.usage.output_tokens).toBe(tokens(highThinking) - tokens(lowThinking));

    const omitted = await at('high', 'omitted');
    expect(omitted.content[0]).toMatchObject({ type: 'thinking', thinking: '' });
    expect(omitted.usage.output_tokens).toBe(high.usage.output_tokens);
  });

  it('refuses adaptive thinking on a model that takes only budget_tokens, and a wrong effort', async () => {
    const old = await refusal(client().messages.create({ ...ask('claude-haiku-4-5'), thinking: { type: 'adaptive' } }));
    expect([old.status, old.type]).toEqual([400, 'invalid_request_error']);
    expect(old.apiMessage).toMatch(/adaptive thinking is not supported on claude-haiku-4-5/);
    const effort = await refusal(
      client().messages.create({
        ...ask('claude-sonnet-5-5'),
        thinking: { type: 'adaptive' },
        output_config: { effort: 'extreme' as 'high' },
      }),
    );
    expect(effort.apiMessage).toMatch(/^output_config\.effort: Input should be 'low'/);
  });
});

describe('thinking with budget_tokens', () => {
  it('works on older models (claude-sonnet-4-6, claude-haiku-4-5) with 1024 <= budget < max_tokens', async () => {
    for (const model of ['claude-sonnet-4-6', 'claude-haiku-4-5']) {
      const message = await client().messages.create({
        ...ask(model),
        max_tokens: 2000,
        thinking: { type: 'enabled', budget_tokens: 1024 },
      });
      expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text']);
      expect(server.lastParsed()?.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    }
  });

  it('is refused on claude-opus-4-7 and the 5.x family, below 1024, and at or over max_tokens', async () => {
    for (const model of ['claude-opus-4-7', 'claude-sonnet-5-5', 'claude-haiku-5-5', 'claude-opus-5-5']) {
      const err = await refusal(
        client().messages.create({ ...ask(model), thinking: { type: 'enabled', budget_tokens: 2048 } }),
      );
      expect([err.status, err.apiMessage]).toEqual([
        400,
        'thinking.type.enabled: budget_tokens is not supported on this model; use thinking.type adaptive',
      ]);
    }
    const small = await refusal(
      client().messages.create({ ...ask('claude-haiku-4-5'), thinking: { type: 'enabled', budget_tokens: 1023 } }),
    );
    expect(small.apiMessage).toMatch(/budget_tokens: Input should be greater than or equal to 1024/);
    const over = await refusal(
      client().messages.create({
        ...ask('claude-haiku-4-5'),
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 2048 },
      }),
    );
    expect(over.apiMessage).toMatch(/max_tokens must be greater than thinking.budget_tokens/);
    expect(server.messageRequests().every((r) => r.status === 400 && r.parsed === undefined)).toBe(true);
  });

  it('leaves the answer as before when thinking is disabled', async () => {
    const message = await client().messages.create({ ...ask('claude-haiku-4-5'), thinking: { type: 'disabled' } });
    expect(message.content).toEqual([{ type: 'text', text: 'You said: "Why is the sky blue?"' }]);
  });
});

describe('thinking tokens in the output-token bucket', () => {
  it('takes the thinking tokens from the bucket as they are produced', async () => {
    const own = await startClaudeServer({
      outputTokenBucket: { limit: 10_000, refillMs: 600_000 },
      defaultBehaviour: { kind: 'text', text: 'ok', thinking: 't'.repeat(8_000), delayMs: 0 },
    });
    try {
      const params = { ...ask('claude-sonnet-5-5'), thinking: { type: 'adaptive' as const } };
      const first = await client(own.url).messages.create(params);
      expect(first.usage.output_tokens).toBe(2_000 + 1);
      const second = await client(own.url).messages.stream(params).withResponse();
      // 10,000 - 2,001 left after the first, rounded to the thousand.
      expect(second.response.headers.get('anthropic-ratelimit-output-tokens-remaining')).toBe('8000');
      await second.data.finalMessage();
      const third = await client(own.url).messages.create(params).withResponse();
      expect(third.response.headers.get('anthropic-ratelimit-output-tokens-remaining')).toBe('6000');
    } finally {
      await own.close();
    }
  });

  it('takes them while the thinking streams, before the text comes', async () => {
    // 40,000 characters of thinking in 8,000-character deltas: 2,000 tokens each, 10 s apart.
    const own = await startClaudeServer({
      outputTokenBucket: { limit: 20_000, refillMs: 6_000_000 },
      defaultBehaviour: { kind: 'text', text: 'ok', thinking: 't'.repeat(40_000), chunkSize: 8_000, delayMs: 10_000 },
    });
    try {
      const params = { ...ask('claude-sonnet-5-5'), thinking: { type: 'adaptive' as const } };
      const controller = new AbortController();
      const stream = client(own.url).messages.stream(params, { signal: controller.signal });
      const firstDelta = new Promise<void>((resolve) => stream.once('thinking', () => resolve()));
      await firstDelta;
      const { response } = await client(own.url)
        .messages.create({ ...params, thinking: { type: 'disabled' } })
        .withResponse();
      // 20,000 - 2,000 produced so far; the whole answer (10,001) would leave 10,000.
      expect(response.headers.get('anthropic-ratelimit-output-tokens-remaining')).toBe('18000');
      controller.abort();
      await stream.done().catch(() => undefined);
    } finally {
      await own.close();
    }
  });
});
