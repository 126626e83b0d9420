/**
 * The usage page's token peaks: the most input and output tokens in any 60 s over the last days,
 * from the ledger's rows (read by the `at` index, at most MAX_ROWS of the newest), set against
 * Pace's token limits and what the API reported for the key. Input counts at the send, output at
 * the answer's end; prompt-cache reads count for neither (lib/limits/token-usage.ts).
 */
import { MINUTE_MS } from '../limits/admission';
import { readLimits, readServerLimits } from '../limits/limiter-store';
import { peakPerWindow } from '../limits/token-buckets';
import { tokensPerMinuteUse } from '../limits/token-usage';
import type { PaceDB, UsageRow } from '../storage/db';

const PEAK_DAYS = 7;
/** Enough for a week of steady use; the newest are kept when there are more. */
const MAX_ROWS = 20_000;

export interface TokenPeak {
  /** The most tokens in any 60 s, and when that minute ended (null: none). */
  peak: number;
  at: number | null;
  /** Pace's limit and the key's, per minute (null: none set or none reported). */
  limit: number | null;
  keyLimit: number | null;
}

export interface TokenPeaks {
  input: TokenPeak;
  output: TokenPeak;
  days: number;
}

/** Pure: the peaks of `rows`, against the limits. */
export function tokenPeaks(
  rows: readonly Pick<UsageRow, 'at' | 'totalMs' | 'usage' | 'fromCache'>[],
  limits: { input: number | null; output: number | null; keyInput: number | null; keyOutput: number | null },
): Omit<TokenPeaks, 'days'> {
  const sent = rows.filter((r) => !r.fromCache).map((r) => ({ r, use: tokensPerMinuteUse(r.usage) }));
  const input = peakPerWindow(
    sent.map(({ r, use }) => ({ at: r.at, tokens: use.inputTokens })),
    MINUTE_MS,
  );
  const output = peakPerWindow(
    sent.map(({ r, use }) => ({ at: r.at + r.totalMs, tokens: use.outputTokens })),
    MINUTE_MS,
  );
  return {
    input: { peak: input.tokens, at: input.at, limit: limits.input, keyLimit: limits.keyInput },
    output: { peak: output.tokens, at: output.at, limit: limits.output, keyLimit: limits.keyOutput },
  };
}

export async function readTokenPeaks(db: PaceDB, now: number): Promise<TokenPeaks> {
  return db.transaction('r', [db.meta, db.usage], async () => {
    const [limits, server, rows] = await Promise.all([
      readLimits(db),
      readServerLimits(db),
      db.usage
        .where('at')
        .above(now - PEAK_DAYS * 86_400_000)
        .reverse()
        .limit(MAX_ROWS)
        .toArray(),
    ]);
    const peaks = tokenPeaks(rows, {
      input: limits.inputPerMinute ?? null,
      output: limits.outputPerMinute ?? null,
      keyInput: server?.inputTokens?.limit ?? null,
      keyOutput: server?.outputTokens?.limit ?? null,
    });
    return { ...peaks, days: PEAK_DAYS };
  });
}
