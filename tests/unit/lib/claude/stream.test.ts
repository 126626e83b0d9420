import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { describe, expect, it, vi } from 'vitest';
import {
  applyStreamEvent,
  BadStreamError,
  emptyAnswer,
  MAX_ANSWER_CHARS,
  type AssembledAnswer,
} from '@/lib/claude/stream';

/** Reads a recorded event stream; pings are kept, since the assembly must ignore them. */
function recorded(name: string): RawMessageStreamEvent[] {
  const text = readFileSync(new URL(`../../../support/fixtures/${name}`, import.meta.url), 'utf8');
  return text
    .split('\n\n')
    .map((block) => block.split('\n').find((l) => l.startsWith('data: ')))
    .filter((l): l is string => !!l)
    .map((l) => JSON.parse(l.slice(6)) as RawMessageStreamEvent);
}

describe('applyStreamEvent', () => {
  it('assembles a recorded stream with two text blocks and pings', () => {
    const answer = recorded('two-blocks.sse').reduce(applyStreamEvent, emptyAnswer());
    expect(answer).toMatchObject({
      id: 'msg_01Fixture',
      model: 'claude-sonnet-4-6',
      text: 'Hello, world.\n\n```ts\nconst x = 1;\n```',
      stopReason: 'end_turn',
      inputTokens: 21,
      outputTokens: 12,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      done: true,
    });
  });

  it('shows the text so far at every step and is done only at message_stop', () => {
    const events = recorded('two-blocks.sse');
    let state = emptyAnswer();
    const texts: string[] = [];
    for (const e of events) {
      state = applyStreamEvent(state, e);
      texts.push(state.text);
      if (e.type !== 'message_stop') expect(state.done).toBe(false);
    }
    expect(texts).toContain('Hello');
    expect(texts).toContain('Hello, world.');
    // Text only ever grows.
    for (let i = 1; i < texts.length; i++) expect(texts[i]!.startsWith(texts[i - 1]!)).toBe(true);
  });

  it('takes output_tokens as a running total, not an increment', () => {
    const delta = (n: number): RawMessageStreamEvent =>
      ({
        type: 'message_delta',
        delta: { stop_reason: null, stop_sequence: null },
        usage: { output_tokens: n },
      }) as RawMessageStreamEvent;
    const s = [delta(5), delta(9)].reduce(applyStreamEvent, emptyAnswer());
    expect(s.outputTokens).toBe(9);
  });

  it('reads prompt-cache tokens from message_start and keeps them unless message_delta gives new totals', () => {
    const start = {
      type: 'message_start',
      message: {
        id: 'm',
        model: 'x',
        usage: { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 300, cache_creation_input_tokens: 40 },
      },
    } as unknown as RawMessageStreamEvent;
    const delta = {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 7, cache_read_input_tokens: null, cache_creation_input_tokens: 50, input_tokens: null },
    } as unknown as RawMessageStreamEvent;
    const s = [start, delta].reduce(applyStreamEvent, emptyAnswer());
    expect(s).toMatchObject({ inputTokens: 10, outputTokens: 7, cacheReadTokens: 300, cacheCreationTokens: 50 });
  });

  it('ignores blocks that are not text', () => {
    const e = {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    } as RawMessageStreamEvent;
    expect(applyStreamEvent(emptyAnswer(), e).text).toBe('');
  });
});

const start = (index: unknown, type = 'text'): RawMessageStreamEvent =>
  ({
    type: 'content_block_start',
    index,
    content_block:
      type === 'text' ? { type: 'text', text: '', citations: null } : { type, thinking: '', signature: '' },
  }) as RawMessageStreamEvent;
const delta = (index: unknown, text: unknown): RawMessageStreamEvent =>
  ({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } }) as RawMessageStreamEvent;

describe('applyStreamEvent text', () => {
  it('equals every text block joined, in order, at every step (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ maxLength: 5 }), { maxLength: 6 }), { maxLength: 6 }),
        fc.boolean(),
        (blocks, thinkingFirst) => {
          let state = emptyAnswer();
          let index = 0;
          if (thinkingFirst) state = applyStreamEvent(state, start(index++, 'thinking'));
          const done: string[] = [];
          for (const pieces of blocks) {
            state = applyStreamEvent(state, start(index));
            let block = '';
            for (const piece of pieces) {
              state = applyStreamEvent(state, delta(index, piece));
              block += piece;
              expect(state.text).toBe([...done, block].join('\n\n'));
            }
            done.push(block);
            index++;
          }
          expect(state.text).toBe(done.join('\n\n'));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a block index that is absurd, negative, fractional or not a number, with a clear error', () => {
    for (const index of [1e9, -1, 1.5, NaN, Infinity, '0', null, undefined]) {
      const fail = () => applyStreamEvent(emptyAnswer(), delta(index, 'x'));
      expect(fail, String(index)).toThrow(BadStreamError);
      expect(fail, String(index)).toThrow(/content block index .* is not a whole number from 0 to 9999/);
      expect(() => applyStreamEvent(emptyAnswer(), start(index))).toThrow(BadStreamError);
    }
    try {
      applyStreamEvent(emptyAnswer(), start(1e9));
    } catch (err) {
      expect((err as BadStreamError).error).toEqual({
        code: 'bad_answer',
        message:
          "The API's answer broke the streaming format (content block index 1000000000 is not a whole number from 0 to 9999), so Pace stopped reading it. Check the base URL on the options page.",
      });
    }
  });

  it('refuses text for a block that is no longer open, and a text delta without text', () => {
    const two = [start(0), delta(0, 'a'), start(1), delta(1, 'b')].reduce(applyStreamEvent, emptyAnswer());
    expect(() => applyStreamEvent(two, delta(0, 'late'))).toThrow(/text arrived for block 0 while block 1 was open/);
    expect(() => applyStreamEvent(two, start(1))).toThrow(/block 1 started after block 1/);
    expect(() => applyStreamEvent(two, delta(1, { evil: true }))).toThrow(/a text delta of block 1 holds no text/);
    // A delta without its block's start still opens the block, as before.
    expect(applyStreamEvent(two, delta(2, 'c')).text).toBe('a\n\nb\n\nc');
  });

  it('keeps the text up to MAX_ANSWER_CHARS and says it was cut, never splitting a character', () => {
    let state = applyStreamEvent(emptyAnswer(), start(0));
    for (let i = 0; i < 3; i++) state = applyStreamEvent(state, delta(0, 'y'.repeat(1024 * 1024)));
    expect(state.truncated).toBe(false);
    state = applyStreamEvent(state, delta(0, `${'z'.repeat(1024 * 1024 - 1)}\u{1F600}tail`));
    expect(state.truncated).toBe(true);
    expect(state.text.length).toBe(MAX_ANSWER_CHARS - 1);
    expect(state.text.endsWith('z')).toBe(true);
    expect(applyStreamEvent(state, delta(0, 'more')).text).toBe(state.text);
  });

  it('assembles 200,000 deltas over 2,000 blocks with work that grows with the answer, not its square', () => {
    // Counts what the assembly copies: array elements sliced and characters joined. Copying the
    // block list for every delta, or joining every block again, makes this grow with blocks x deltas.
    const slice = Array.prototype.slice;
    const join = Array.prototype.join;
    let copied = 0;
    vi.spyOn(Array.prototype, 'slice').mockImplementation(function (this: unknown[], ...args) {
      copied += this.length;
      return slice.apply(this, args) as unknown[];
    });
    vi.spyOn(Array.prototype, 'join').mockImplementation(function (this: unknown[], ...args) {
      const out = join.apply(this, args);
      copied += out.length;
      return out;
    });
    let state: AssembledAnswer = emptyAnswer();
    const blocks = 2_000;
    const perBlock = 100;
    for (let b = 0; b < blocks; b++) {
      state = applyStreamEvent(state, start(b));
      for (let d = 0; d < perBlock; d++) state = applyStreamEvent(state, delta(b, 'ab'));
    }
    vi.restoreAllMocks();
    const deltas = blocks * perBlock;
    expect(state.text.length).toBe(deltas * 2 + (blocks - 1) * 2);
    expect(state.text.slice(0, 6)).toBe('ababab');
    expect(copied).toBeLessThanOrEqual(4 * deltas);
  });
});

describe('usage figures from the stream', () => {
  const startWith = (usage: Record<string, unknown>): RawMessageStreamEvent =>
    ({ type: 'message_start', message: { id: 'm', model: 'x', usage } }) as unknown as RawMessageStreamEvent;
  const deltaWith = (usage: Record<string, unknown>): RawMessageStreamEvent =>
    ({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage,
    }) as unknown as RawMessageStreamEvent;

  it('records only whole, non-negative, believable token counts', () => {
    for (const bad of ['12', -5, NaN, Infinity, 1e308, 3.7, null, {}, [3]]) {
      const s = [
        startWith({
          input_tokens: bad,
          output_tokens: bad,
          cache_read_input_tokens: bad,
          cache_creation_input_tokens: bad,
        }),
      ].reduce(applyStreamEvent, emptyAnswer());
      expect(s, inspect(bad)).toMatchObject({
        inputTokens: 0,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheCreationTokens: 0,
      });
      const later = applyStreamEvent(
        [
          startWith({ input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 3, cache_creation_input_tokens: 4 }),
        ].reduce(applyStreamEvent, emptyAnswer()),
        deltaWith({
          input_tokens: bad,
          output_tokens: bad,
          cache_read_input_tokens: bad,
          cache_creation_input_tokens: bad,
        }),
      );
      expect(later, inspect(bad)).toMatchObject({
        inputTokens: 10,
        outputTokens: 1,
        cacheReadTokens: 3,
        cacheCreationTokens: 4,
      });
    }
  });

  it('survives a message_start or message_delta with no usage at all', () => {
    const s = [
      { type: 'message_start', message: { id: 'm', model: 'x' } },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' } },
    ].reduce((a, e) => applyStreamEvent(a, e as unknown as RawMessageStreamEvent), emptyAnswer());
    expect(s).toMatchObject({ id: 'm', inputTokens: 0, outputTokens: 0, stopReason: 'end_turn' });
  });
});

describe('thinking, web search and citations', () => {
  const event = (e: Record<string, unknown>) => e as unknown as RawMessageStreamEvent;
  const blockStart = (index: number, block: Record<string, unknown>) =>
    event({ type: 'content_block_start', index, content_block: block });
  const blockDelta = (index: number, d: Record<string, unknown>) =>
    event({ type: 'content_block_delta', index, delta: d });

  it('collects a recorded thinking block apart from the text, growing at every step, its tokens in the output', () => {
    let state = emptyAnswer();
    const seen: string[] = [];
    for (const e of recorded('thinking.sse')) {
      state = applyStreamEvent(state, e);
      seen.push(state.thinking);
    }
    expect(state).toMatchObject({
      thinking: 'The user asks for 2 + 2. That is 4.',
      text: '2 + 2 = 4.',
      outputTokens: 96,
      webSearches: 0,
      done: true,
    });
    expect(seen).toContain('The user asks for 2 + 2. ');
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.startsWith(seen[i - 1]!)).toBe(true);
  });

  it('assembles a recorded web search answer: one paragraph of text, the query, the pages once each, the citation and the count', () => {
    const answer = recorded('web-search.sse').reduce(applyStreamEvent, emptyAnswer());
    expect(answer.text).toBe(
      "I'll search for the latest release.\n\nBased on the search results, Pace 2.0 came out in November 2026 and added web search.",
    );
    expect(answer.searchQueries).toEqual(['pace extension release']);
    // The same address twice is one source; a javascript: address is none.
    expect(answer.sources).toEqual([
      { url: 'https://example.com/pace-2', title: 'Pace 2.0 released', pageAge: 'November 30, 2026' },
      { url: 'https://example.org/changelog', title: 'Pace changelog' },
    ]);
    expect(answer.citations).toEqual([
      {
        kind: 'web',
        citedText: 'Pace 2.0 came out on 30 November 2026 with web search.',
        title: 'Pace 2.0 released',
        url: 'https://example.com/pace-2',
      },
    ]);
    expect(answer).toMatchObject({ webSearches: 1, webSearchesUnknown: false, inputTokens: 2679, outputTokens: 510 });
  });

  it('keeps document citations with their title and pages (the API end page is exclusive), the cited pieces joined into one sentence', () => {
    const answer = [
      blockStart(0, { type: 'text', text: '' }),
      blockDelta(0, { type: 'text_delta', text: 'According to the report, ' }),
      blockStart(1, { type: 'text', text: '', citations: [] }),
      blockDelta(1, {
        type: 'citations_delta',
        citation: {
          type: 'page_location',
          cited_text: 'Sales grew 12%.',
          document_index: 0,
          document_title: 'Report.pdf',
          start_page_number: 2,
          end_page_number: 4,
        },
      }),
      blockDelta(1, { type: 'text_delta', text: 'sales grew' }),
      blockStart(2, {
        type: 'text',
        text: '',
        citations: [
          {
            type: 'char_location',
            cited_text: 'Costs fell.',
            document_index: 0,
            document_title: 'Notes',
            start_char_index: 0,
            end_char_index: 11,
          },
        ],
      }),
      blockDelta(2, { type: 'text_delta', text: ' and costs fell' }),
      blockStart(3, { type: 'text', text: '.' }),
      // The same citation again is kept once.
      blockDelta(3, {
        type: 'citations_delta',
        citation: {
          type: 'page_location',
          cited_text: 'Sales grew 12%.',
          document_title: 'Report.pdf',
          start_page_number: 2,
          end_page_number: 4,
        },
      }),
    ].reduce(applyStreamEvent, emptyAnswer());
    expect(answer.text).toBe('According to the report, sales grew and costs fell.');
    expect(answer.citations).toEqual([
      { kind: 'document', citedText: 'Sales grew 12%.', title: 'Report.pdf', pages: [2, 3] },
      { kind: 'document', citedText: 'Costs fell.', title: 'Notes' },
    ]);
  });

  it('joins a block cited after its text began to the text block before it', () => {
    const answer = [
      blockStart(0, { type: 'text', text: 'According to the notes, ' }),
      blockStart(1, { type: 'text', text: '' }),
      blockDelta(1, { type: 'text_delta', text: 'costs fell' }),
      blockDelta(1, {
        type: 'citations_delta',
        citation: { type: 'char_location', cited_text: 'Costs fell.', document_title: 'Notes' },
      }),
      blockStart(2, { type: 'text', text: '.' }),
    ].reduce(applyStreamEvent, emptyAnswer());
    expect(answer.text).toBe('According to the notes, costs fell.');
  });

  it('keeps the blank line after a search before a cited block, however its citations and text are ordered', () => {
    const cite = blockDelta(3, {
      type: 'citations_delta',
      citation: { type: 'web_search_result_location', cited_text: 'c', url: 'https://a.example/', title: 'A' },
    });
    const before = [
      blockStart(0, { type: 'text', text: 'Searching.' }),
      blockStart(1, { type: 'server_tool_use', id: 's', name: 'web_search', input: { query: 'q' } }),
      blockStart(2, { type: 'web_search_tool_result', content: [] }),
      blockStart(3, { type: 'text', text: '' }),
    ];
    const text = blockDelta(3, { type: 'text_delta', text: 'Found.' });
    for (const order of [
      [cite, text],
      [text, cite],
    ]) {
      const answer = [...before, ...order].reduce(applyStreamEvent, emptyAnswer());
      expect(answer.text).toBe('Searching.\n\nFound.');
      expect(answer.searchQueries).toEqual(['q']);
      expect(answer.citations).toHaveLength(1);
    }
  });

  it('takes the web search count from message_start or message_delta; a count that is not one makes the usage unknown', () => {
    const withTools = (server_tool_use: unknown) =>
      event({
        type: 'message_delta',
        delta: { stop_reason: 'end_turn' },
        usage: { output_tokens: 5, server_tool_use },
      });
    const counted = [
      event({
        type: 'message_start',
        message: { id: 'm', model: 'x', usage: { input_tokens: 9, server_tool_use: { web_search_requests: 1 } } },
      }),
      withTools({ web_search_requests: 3 }),
    ].reduce(applyStreamEvent, emptyAnswer());
    expect(counted).toMatchObject({ webSearches: 3, webSearchesUnknown: false });
    // Absent or null: the count stays as it was.
    for (const same of [undefined, null, {}, { web_search_requests: null }])
      expect(applyStreamEvent(counted, withTools(same)), inspect(same)).toMatchObject({
        webSearches: 3,
        webSearchesUnknown: false,
      });
    for (const bad of [-3, 'x', '2', 1.5, NaN, Infinity, 1e9, [2]])
      expect(applyStreamEvent(counted, withTools({ web_search_requests: bad })), inspect(bad)).toMatchObject({
        webSearches: 3,
        webSearchesUnknown: true,
      });
  });

  it('counts a search whose results arrived when the stream is cut before the usage; an error result is not one', () => {
    const cut = [
      event({ type: 'message_start', message: { id: 'm', model: 'x', usage: { input_tokens: 9 } } }),
      blockStart(0, { type: 'server_tool_use', id: 's', name: 'web_search', input: { query: 'q' } }),
      event({ type: 'content_block_stop', index: 0 }),
      blockStart(1, {
        type: 'web_search_tool_result',
        tool_use_id: 's',
        content: [{ type: 'web_search_result', url: 'https://a.example/', title: 'A' }],
      }),
      event({ type: 'content_block_stop', index: 1 }),
      blockStart(2, {
        type: 'web_search_tool_result',
        tool_use_id: 't',
        content: { type: 'web_search_tool_result_error', error_code: 'max_uses_exceeded' },
      }),
    ].reduce(applyStreamEvent, emptyAnswer());
    expect(cut).toMatchObject({ webSearches: 1, webSearchesUnknown: false, done: false });
    // The usage's figure counts when it is larger, never when it is smaller.
    const withUsage = (n: number) =>
      applyStreamEvent(
        cut,
        event({
          type: 'message_delta',
          delta: {},
          usage: { output_tokens: 1, server_tool_use: { web_search_requests: n } },
        }),
      ).webSearches;
    expect(withUsage(0)).toBe(1);
    expect(withUsage(2)).toBe(2);
  });

  it('refuses thinking for a block that is no longer open, or a thinking delta without thinking', () => {
    const two = [
      blockStart(0, { type: 'thinking', thinking: '' }),
      blockDelta(0, { type: 'thinking_delta', thinking: 'hm' }),
      blockStart(1, { type: 'text', text: 'a' }),
    ].reduce(applyStreamEvent, emptyAnswer());
    expect(() => applyStreamEvent(two, blockDelta(0, { type: 'thinking_delta', thinking: 'late' }))).toThrow(
      /thinking arrived for block 0 while block 1 was open/,
    );
    expect(() =>
      applyStreamEvent(
        applyStreamEvent(two, blockStart(2, { type: 'thinking', thinking: '' })),
        blockDelta(2, { type: 'thinking_delta', thinking: 7 }),
      ),
    ).toThrow(/a thinking delta of block 2 holds no thinking/);
    // A thinking delta without its block's start opens it; a second thinking block is set off by a blank line.
    expect(applyStreamEvent(two, blockDelta(2, { type: 'thinking_delta', thinking: 'more' })).thinking).toBe(
      'hm\n\nmore',
    );
  });

  it('cuts endless thinking at MAX_ANSWER_CHARS and ends the answer as cut', () => {
    let state = applyStreamEvent(emptyAnswer(), blockStart(0, { type: 'thinking', thinking: '' }));
    for (let i = 0; i < 4; i++)
      state = applyStreamEvent(state, blockDelta(0, { type: 'thinking_delta', thinking: 't'.repeat(1024 * 1024) }));
    expect(state.truncated).toBe(false);
    state = applyStreamEvent(state, blockDelta(0, { type: 'thinking_delta', thinking: 'over' }));
    expect(state.truncated).toBe(true);
    expect(state.thinking.length).toBe(MAX_ANSWER_CHARS);
  });

  it('keeps no source or citation a page could not link to safely, and caps what a hostile stream sends', () => {
    const state = [
      blockStart(0, {
        type: 'web_search_tool_result',
        content: [
          { type: 'web_search_result', url: 'data:text/html,hi', title: 'd' },
          { type: 'web_search_result', url: 'not a url', title: 'n' },
          { type: 'web_search_result', url: 42, title: 'x' },
          { type: 'web_search_result', url: 'https://ok.example/', title: 'y'.repeat(5000) },
          null,
        ],
      }),
      blockStart(1, {
        type: 'web_search_tool_result',
        content: { type: 'web_search_tool_result_error', error_code: 'max_uses_exceeded' },
      }),
      blockStart(2, { type: 'text', text: 'x' }),
      blockDelta(2, {
        type: 'citations_delta',
        citation: { type: 'web_search_result_location', cited_text: 'c', url: 'javascript:alert(1)' },
      }),
      blockDelta(2, {
        type: 'citations_delta',
        citation: { type: 'web_search_result_location', url: 'https://ok.example/' },
      }),
      blockDelta(2, { type: 'citations_delta', citation: 'nonsense' }),
    ].reduce(applyStreamEvent, emptyAnswer());
    expect(state.sources).toHaveLength(1);
    expect(state.sources[0]!.url).toBe('https://ok.example/');
    expect(state.sources[0]!.title.length).toBe(2000);
    expect(state.citations).toEqual([]);
    expect(state.text).toBe('x');
  });
});
