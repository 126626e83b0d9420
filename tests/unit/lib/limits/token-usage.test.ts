import { describe, expect, it } from 'vitest';
import { tokensPerMinuteUse } from '@/lib/limits/token-usage';

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
});
