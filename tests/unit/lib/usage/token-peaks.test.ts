import { describe, expect, it } from 'vitest';
import { tokenPeaks } from '@/lib/usage/token-peaks';

const T = Date.UTC(2026, 10, 30, 12);
const row = (
  at: number,
  input: number,
  output: number,
  extra: { read?: number; written?: number; totalMs?: number; fromCache?: boolean } = {},
) => ({
  at,
  totalMs: extra.totalMs ?? 1_000,
  fromCache: extra.fromCache ?? false,
  usage: {
    inputTokens: input,
    outputTokens: output,
    cacheReadTokens: extra.read ?? 0,
    cacheCreationTokens: extra.written ?? 0,
  },
});

describe('tokenPeaks', () => {
  it('finds the busiest minute of input (with cache writes, without cache reads) and of output (at the answer end), against the limits', () => {
    const rows = [
      row(T, 1_000, 100, { read: 50_000, written: 2_000 }),
      row(T + 30_000, 4_000, 300, { totalMs: 40_000 }),
      row(T + 61_000, 500, 900),
      // A cached answer sent nothing.
      row(T + 62_000, 99_000, 99_000, { fromCache: true }),
    ];
    expect(tokenPeaks(rows, { input: 20_000, output: null, keyInput: 2_000_000, keyOutput: 400_000 })).toEqual({
      input: { peak: 7_000, at: T + 30_000, limit: 20_000, keyLimit: 2_000_000 },
      // 300 ends at T + 70 s, 900 at T + 62 s: together in one minute.
      output: { peak: 1_200, at: T + 70_000, limit: null, keyLimit: 400_000 },
    });
    expect(tokenPeaks([], { input: null, output: null, keyInput: null, keyOutput: null }).input).toEqual({
      peak: 0,
      at: null,
      limit: null,
      keyLimit: null,
    });
  });
});
