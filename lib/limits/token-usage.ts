/**
 * What one answer's tokens count against Anthropic's per-minute token limits (pure), ready for a
 * token limiter: input tokens per minute (ITPM) count plain input and prompt-cache writes, never
 * prompt-cache reads; output tokens per minute (OTPM) count the output. Pace enforces no token
 * limit yet; budgets in money use lib/usage/prices.ts, which prices writes and reads.
 */
import type { TokenUsage } from '../storage/db';

export interface PerMinuteTokens {
  inputTokens: number;
  outputTokens: number;
}

export function tokensPerMinuteUse(usage: TokenUsage): PerMinuteTokens {
  return { inputTokens: usage.inputTokens + usage.cacheCreationTokens, outputTokens: usage.outputTokens };
}
