/**
 * The local server's web search tool and citations, driven through the real SDK: the searches it
 * runs (markers in the prompt, max_uses), the blocks and events it answers with, the usage it
 * reports, PDF page citations, and the same answers in Message Batch results.
 */
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import type {
  ContentBlock,
  MessageCreateParamsNonStreaming,
  RawMessageStreamEvent,
} from '@anthropic-ai/sdk/resources/messages/messages';
import { describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer, type ParsedRequest } from '../../support/claude-server';
import { pdfBase64, pngBase64 } from '../../support/claude-server-fixtures';
import { useClaudeServer } from '../../support/use-claude-server';

let server: ClaudeServer;
useClaudeServer((s) => (server = s));

const client = (url = server.url) =>
  new Anthropic({ apiKey: TEST_KEY, baseURL: url, dangerouslyAllowBrowser: true, maxRetries: 0 });

const SEARCH = { type: 'web_search_20260209' as const, name: 'web_search' as const, max_uses: 3 };
const ask = (
  content: string,
  extra: Partial<MessageCreateParamsNonStreaming> = {},
): MessageCreateParamsNonStreaming => ({
  model: 'claude-sonnet-5-5',
  max_tokens: 1000,
  messages: [{ role: 'user', content }],
  tools: [SEARCH],
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

const textOf = (content: ContentBlock[]) => content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');

describe('the web search tool', () => {
  it('streams a search (server_tool_use, its results), then cited text, and reports the search in usage', async () => {
    const events: RawMessageStreamEvent[] = [];
    const stream = client().messages.stream(ask('Latest news on foxes?'));
    stream.on('streamEvent', (e) => events.push(structuredClone(e)));
    const message = await stream.finalMessage();

    expect(message.content.map((b) => b.type)).toEqual(['server_tool_use', 'web_search_tool_result', 'text', 'text']);
    const [use, result, cited, plain] = message.content as [
      Extract<ContentBlock, { type: 'server_tool_use' }>,
      Extract<ContentBlock, { type: 'web_search_tool_result' }>,
      Extract<ContentBlock, { type: 'text' }>,
      Extract<ContentBlock, { type: 'text' }>,
    ];
    expect(use).toMatchObject({ name: 'web_search', input: { query: 'Latest news on foxes?' } });
    expect(use.id).toMatch(/^srvtoolu_/);
    expect(result.tool_use_id).toBe(use.id);
    const results = result.content as { type: string; url: string; title: string; page_age: string | null }[];
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r).toMatchObject({ type: 'web_search_result', encrypted_content: expect.any(String) as unknown });
      expect(r.url).toMatch(/^https:\/\/example\.com\//);
    }
    expect(results.map((r) => r.page_age)).toEqual(['November 1, 2026', 'November 2, 2026', null]);
    expect(cited.citations).toEqual([
      {
        type: 'web_search_result_location',
        url: results[0]!.url,
        title: results[0]!.title,
        cited_text: 'Page 1 about Latest news on foxes?',
        encrypted_index: expect.any(String) as unknown,
      },
    ]);
    expect(plain.citations ?? null).toBeNull();
    // Joined, the text blocks give the usual answer.
    expect(textOf(message.content)).toBe('You said: "Latest news on foxes?"');

    // The cited block starts with an empty citations list, and its citation arrives as a citations_delta.
    const starts = events.flatMap((e) => (e.type === 'content_block_start' ? [e.content_block] : []));
    expect(starts[2]).toEqual({ type: 'text', text: '', citations: [] });
    expect(starts[3]).toEqual({ type: 'text', text: '' });
    expect(events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'citations_delta')).toHaveLength(
      1,
    );
    expect(starts[0]).toMatchObject({ type: 'server_tool_use', input: {} });
    expect(events.some((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta')).toBe(true);

    // message_start reports none yet; the final usage one search, and the results read as input.
    const start = events.find((e) => e.type === 'message_start');
    expect(start?.type === 'message_start' && start.message.usage.server_tool_use).toEqual({
      web_search_requests: 0,
      web_fetch_requests: 0,
    });
    expect(message.usage.server_tool_use).toEqual({ web_search_requests: 1, web_fetch_requests: 0 });
    const record = server.messageRequests().at(-1)!;
    expect(record.answer).toMatchObject({ webSearchRequests: 1, citations: 1 });
    expect(record.answer!.searchTokens).toBeGreaterThan(0);
    expect(message.usage.input_tokens).toBe(record.parsed!.inputTokens + record.answer!.searchTokens);
    expect(record.usage?.input_tokens).toBe(message.usage.input_tokens);
    expect(record.parsed?.webSearch).toEqual({ type: 'web_search_20260209', name: 'web_search', maxUses: 3 });
    expect(record.parsed?.tools).toEqual(['web_search']);
  });

  it('searches as often as [searches:N] says, never more than max_uses, and not at all with [no-search]', async () => {
    const two = await client().messages.create(
      ask('Compare foxes and wolves [searches:5]', { tools: [{ ...SEARCH, max_uses: 2 }] }),
    );
    expect(two.content.map((b) => b.type)).toEqual([
      'server_tool_use',
      'web_search_tool_result',
      'server_tool_use',
      'web_search_tool_result',
      'text',
      'text',
    ]);
    expect(two.usage.server_tool_use?.web_search_requests).toBe(2);
    const queries = two.content.flatMap((b) =>
      b.type === 'server_tool_use' ? [(b.input as { query: string }).query] : [],
    );
    expect(queries).toEqual(['Compare foxes and wolves', 'Compare foxes and wolves (2)']);
    expect((two.content[4] as { citations: unknown[] }).citations).toHaveLength(2);

    const none = await client().messages.create(ask('Just chat [no-search]'));
    expect(none.content).toEqual([{ type: 'text', text: 'You said: "Just chat [no-search]"' }]);
    expect(none.usage.server_tool_use).toEqual({ web_search_requests: 0, web_fetch_requests: 0 });
  });

  it('answers a failed search with the error result, not billed', async () => {
    const message = await client().messages.create(ask('Anything [search-error:too_many_requests]'));
    expect(message.content[1]).toMatchObject({
      type: 'web_search_tool_result',
      content: { type: 'web_search_tool_result_error', error_code: 'too_many_requests' },
    });
    expect(message.usage.server_tool_use?.web_search_requests).toBe(0);
    expect(message.content.slice(2)).toEqual([
      { type: 'text', text: 'You said: "Anything [search-error:too_many_requests]"' },
    ]);
  });

  it('takes the 2025 tool on older models, refuses the 2026 one there, and checks the tool', async () => {
    const older = await client().messages.create(
      ask('hi', {
        model: 'claude-haiku-4-5',
        tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 1 }],
      }),
    );
    expect(older.usage.server_tool_use?.web_search_requests).toBe(1);
    for (const model of ['claude-haiku-4-5', 'claude-sonnet-4-6']) {
      const err = await refusal(client().messages.create(ask('hi', { model })));
      expect([err.status, err.apiMessage]).toEqual([
        400,
        `tools.0.type: 'web_search_20260209' is not supported on ${model}; use 'web_search_20250305'`,
      ]);
    }
    const zero = await refusal(client().messages.create(ask('hi', { tools: [{ ...SEARCH, max_uses: 0 }] })));
    expect(zero.apiMessage).toMatch(/max_uses: Input should be an integer greater than or equal to 1/);
    const unknown = await refusal(
      client().messages.create(
        ask('hi', { tools: [{ ...SEARCH, type: 'web_search_20990101' as 'web_search_20260209' }] }),
      ),
    );
    expect(unknown.apiMessage).toMatch(/unknown web search tool version/);
  });

  it('searches inside allowed_domains', async () => {
    const message = await client().messages.create(
      ask('hi', { tools: [{ ...SEARCH, allowed_domains: ['docs.example.net'] }] }),
    );
    const result = message.content[1] as { content: { url: string }[] };
    expect(result.content.every((r) => r.url.startsWith('https://docs.example.net/'))).toBe(true);
  });

  it('takes an earlier answer sent back (thinking, search, results) and counts its results as input', async () => {
    const first = await client().messages.create(
      ask('Foxes?', { thinking: { type: 'adaptive' }, output_config: { effort: 'low' } }),
    );
    expect(first.content.map((b) => b.type)).toEqual([
      'thinking',
      'server_tool_use',
      'web_search_tool_result',
      'text',
      'text',
    ]);
    const history = first.content.map((b) =>
      b.type === 'text' ? { type: 'text' as const, text: b.text } : b,
    ) as MessageCreateParamsNonStreaming['messages'][number]['content'];
    const next = ask('And wolves? [no-search]');
    const second = await client().messages.create({
      ...next,
      messages: [{ role: 'user', content: 'Foxes?' }, { role: 'assistant', content: history }, ...next.messages],
    });
    const parsed: ParsedRequest = server.lastParsed()!;
    const blocks = parsed.messages[1]!.blocks;
    expect(blocks.map((b) => b.type)).toEqual([
      'thinking',
      'server_tool_use',
      'web_search_tool_result',
      'text',
      'text',
    ]);
    const resultTokens = blocks.find((b) => b.type === 'web_search_tool_result') as { tokens: number };
    expect(resultTokens.tokens).toBe(server.messageRequests()[0]!.answer!.searchTokens);
    const text = `Foxes?${textOf(first.content)}And wolves? [no-search]`;
    expect(second.usage.input_tokens).toBe(Math.ceil(text.length / 4) + resultTokens.tokens);
  });
});

describe('PDF citations', () => {
  it('cites the page of each document whose citations are on, by its index among the documents', async () => {
    const doc = (pages: string[], extra: object) => ({
      type: 'document' as const,
      source: { type: 'base64' as const, media_type: 'application/pdf' as const, data: pdfBase64(pages) },
      ...extra,
    });
    const events: RawMessageStreamEvent[] = [];
    const stream = client().messages.stream({
      model: 'claude-sonnet-5-5',
      max_tokens: 500,
      messages: [
        {
          role: 'user',
          content: [
            doc(['Not cited.'], {}),
            doc(['', 'Foxes are quick. They jump.'], { title: 'Fox facts', citations: { enabled: true } }),
            { type: 'text', text: 'What do the documents say about foxes?' },
          ],
        },
      ],
    });
    stream.on('streamEvent', (e) => events.push(structuredClone(e)));
    const message = await stream.finalMessage();
    const cited = message.content[0] as Extract<ContentBlock, { type: 'text' }>;
    expect(cited.citations).toEqual([
      {
        type: 'page_location',
        cited_text: 'Foxes are quick.',
        document_index: 1,
        document_title: 'Fox facts',
        start_page_number: 2,
        end_page_number: 3,
        file_id: null,
      },
    ]);
    expect(textOf(message.content)).toBe(
      'You said: "What do the documents say about foxes?" (+ 1 PDF of 1 page, 1 PDF of 2 pages)',
    );
    expect(events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'citations_delta')).toHaveLength(
      1,
    );
    expect(message.usage.server_tool_use ?? null).toBeNull();
  });
});

describe('Message Batches with images, thinking and search', () => {
  it('checks each request as a Messages request and answers it the same way', async () => {
    const own = await startClaudeServer({ batches: { inProgressPolls: 0 } });
    try {
      const batch = await client(own.url).messages.batches.create({
        requests: [
          {
            custom_id: 'full',
            params: {
              ...ask('Foxes?'),
              messages: [
                {
                  role: 'user',
                  content: [
                    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pngBase64(75, 20) } },
                    { type: 'text', text: 'Foxes?' },
                  ],
                },
              ],
              thinking: { type: 'adaptive' },
            },
          },
          {
            custom_id: 'bad-image',
            params: {
              ...ask('x'),
              messages: [
                {
                  role: 'user',
                  content: [
                    { type: 'image', source: { type: 'base64', media_type: 'image/gif', data: pngBase64(2, 2) } },
                  ],
                },
              ],
            },
          },
          { custom_id: 'budget', params: { ...ask('x'), thinking: { type: 'enabled', budget_tokens: 2000 } } },
        ],
      });
      const results: Record<string, unknown> = {};
      for await (const entry of await client(own.url).messages.batches.results(batch.id))
        results[entry.custom_id] = entry.result;

      const full = results.full as {
        type: string;
        message: { content: ContentBlock[]; usage: Record<string, unknown> };
      };
      expect(full.type).toBe('succeeded');
      expect(full.message.content.map((b) => b.type)).toEqual([
        'thinking',
        'server_tool_use',
        'web_search_tool_result',
        'text',
        'text',
      ]);
      expect(full.message.usage.server_tool_use).toEqual({ web_search_requests: 1, web_fetch_requests: 0 });
      const seen = own.requests.find((r) => r.path === '/v1/messages/batches')!.batch!;
      const searchTokens = full.message.usage.input_tokens as number;
      // 75 x 20 / 750 = 2 image tokens, 2 text tokens, then the results.
      expect(seen[0]?.parsed?.inputTokens).toBe(4);
      expect(searchTokens).toBeGreaterThan(4);
      expect(seen[0]?.parsed?.messages[0]?.blocks[0]).toMatchObject({
        type: 'image',
        width: 75,
        height: 20,
        tokens: 2,
      });
      expect(results['bad-image']).toMatchObject({
        type: 'errored',
        error: {
          error: { type: 'invalid_request_error', message: expect.stringMatching(/image\/gif media type/) as unknown },
        },
      });
      expect(results.budget).toMatchObject({
        type: 'errored',
        error: { error: { message: expect.stringMatching(/budget_tokens is not supported on this model/) as unknown } },
      });
      expect(seen.map((s) => [s.custom_id, s.parsed !== undefined, s.error?.type])).toEqual([
        ['full', true, undefined],
        ['bad-image', false, 'invalid_request_error'],
        ['budget', false, 'invalid_request_error'],
      ]);
    } finally {
      await own.close();
    }
  });
});
