/**
 * What one answer's tokens count against the per-minute token limits (pure), Anthropic's and
 * Pace's own (lib/limits/token-buckets.ts): input tokens per minute (ITPM) count plain input and
 * prompt-cache writes, never prompt-cache reads; output tokens per minute (OTPM) count the output.
 * Budgets in money use lib/usage/prices.ts, which prices writes and reads.
 */
import type { TokenUsage } from '../storage/db';

export interface PerMinuteTokens {
  inputTokens: number;
  outputTokens: number;
}

export function tokensPerMinuteUse(usage: TokenUsage): PerMinuteTokens {
  return { inputTokens: usage.inputTokens + usage.cacheCreationTokens, outputTokens: usage.outputTokens };
}
