import { describe, expect, it } from 'vitest';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { applyStreamEvent, emptyAnswer } from '@/lib/claude/stream';
import { tokensPerMinuteUse } from '@/lib/limits/token-usage';
import { tokensOf } from '@/lib/usage/attempt-ledger';

describe('tokensPerMinuteUse', () => {
  it('counts input and cache writes toward input tokens per minute, never cache reads', () => {
    expect(
      tokensPerMinuteUse({ inputTokens: 120, outputTokens: 300, cacheCreationTokens: 2_000, cacheReadTokens: 20_000 }),
    ).toEqual({
      inputTokens: 2_120,
      outputTokens: 300,
    });
    // The same prompt read from the cache counts only what is new.
    expect(
      tokensPerMinuteUse({ inputTokens: 0, outputTokens: 10, cacheCreationTokens: 0, cacheReadTokens: 20_000 })
        .inputTokens,
    ).toBe(0);
    expect(
      tokensPerMinuteUse({ inputTokens: 20_000, outputTokens: 10, cacheCreationTokens: 0, cacheReadTokens: 0 })
        .inputTokens,
    ).toBe(20_000);
  });

  it('counts thinking as output (the API puts it in output_tokens) and a search as no token: its results are input', () => {
    const answer = [
      { type: 'message_start', message: { id: 'm', model: 'x', usage: { input_tokens: 50, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: 'Long thought.' } },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: 'Short.' } },
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn' },
        usage: { input_tokens: 2_050, output_tokens: 700, server_tool_use: { web_search_requests: 2 } },
      },
    ].reduce((a, e) => applyStreamEvent(a, e as unknown as RawMessageStreamEvent), emptyAnswer());
    expect(tokensOf(answer)).toEqual({
      inputTokens: 2_050,
      outputTokens: 700,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      webSearches: 2,
    });
    expect(tokensPerMinuteUse(tokensOf(answer))).toEqual({ inputTokens: 2_050, outputTokens: 700 });
  });
});
