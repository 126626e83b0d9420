import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { describe, expect, it } from 'vitest';
import { applyStreamEvent, emptyAnswer } from '@/lib/claude/stream';

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
    expect(answer).toEqual({
      id: 'msg_01Fixture',
      model: 'claude-sonnet-4-6',
      text: 'Hello, world.\n\n```ts\nconst x = 1;\n```',
      blocks: ['Hello, world.', '```ts\nconst x = 1;\n```'],
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
      ({ type: 'message_delta', delta: { stop_reason: null, stop_sequence: null }, usage: { output_tokens: n } }) as RawMessageStreamEvent;
    const s = [delta(5), delta(9)].reduce(applyStreamEvent, emptyAnswer());
    expect(s.outputTokens).toBe(9);
  });

  it('reads prompt-cache tokens from message_start and keeps them unless message_delta gives new totals', () => {
    const start = {
      type: 'message_start',
      message: { id: 'm', model: 'x', usage: { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 300, cache_creation_input_tokens: 40 } },
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

describe('applyStreamEvent text', () => {
  it('equals every text block joined, whatever order the deltas of several blocks come in (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.string({ maxLength: 5 })), { maxLength: 40 }), (deltas) => {
        let state = emptyAnswer();
        const started = new Set<number>();
        for (const [index, text] of deltas) {
          if (!started.has(index)) {
            started.add(index);
            state = applyStreamEvent(state, { type: 'content_block_start', index, content_block: { type: 'text', text: '', citations: null } } as RawMessageStreamEvent);
          }
          state = applyStreamEvent(state, { type: 'content_block_delta', index, delta: { type: 'text_delta', text } } as RawMessageStreamEvent);
          expect(state.text).toBe(state.blocks.filter((b) => b !== undefined).join('\n\n'));
        }
      }),
      { numRuns: 300 },
    );
  });
});
