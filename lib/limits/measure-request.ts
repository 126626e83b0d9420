/**
 * One measurement of a request (pure), for both limits admission checks: what it asks of the token
 * limits (`TokenNeed`, lib/limits/token-buckets.ts) and what it is priced by for the spend budget
 * (`RequestCost`, lib/limits/budget.ts), from the same input figure. The queue
 * (lib/limits/measure-job.ts) and the short way (lib/queue/send-at-once.ts) both use it.
 *
 * The input is the four-characters-a-token estimate unless the API's exact count is known. When the
 * estimate is close to the room left in the token minute, or when a budget is set and the request's
 * safe worst case (`inputBound`) does not fit what is left of it, the answer is 'count': ask the API
 * (count_tokens) and measure again with the figure. Without an exact count the budget reserves
 * against `inputBound`, a hard upper bound of the input, never against the estimate.
 */
import { hasPdf, type ContextTurn } from '../claude/request';
import { estimateTokens } from '../claude/token-estimate';
import type { PaceError, Budget } from '../storage/rows';
import type { CacheTtl } from '../usage/prices';
import { budgetPrice, hasBudget, worstCaseUsd, type RequestCost } from './budget';
import { formatCount } from './format';
import { needsExactInputCount, type TokenNeed } from './token-buckets';

export interface MeasureInput {
  request: { system: string; messages: ContextTurn[] };
  model: string;
  maxTokens: number;
  promptCache: CacheTtl | 'off';
  /** The input-token room of the minute (lib/limits/token-buckets.ts `inputRoom`); null when no input limit is in force. */
  room: { room: number; limit: number; by: 'pace' | 'server' } | null;
  budget: Budget | null;
  /** Dollars left in the tightest period of the budget, less what is on its way; Infinity when unknown here (admission checks anyway). */
  budgetLeft: number;
  /** The API's exact count: undefined when not asked, null when it could not be had (the estimate decides). */
  exact?: number | null;
  /** The searches the request may run (its web_search tool's max_uses, lib/limits/budget.ts `maxWebSearches`), priced in its worst case. */
  webSearches?: number;
}

export type Measurement =
  { ok: true; need: TokenNeed; cost: RequestCost | null } | { ok: false; error: PaceError } | { ok: 'count' };

/** Tokens of framing the API adds per turn and per request (role markers and the like), generously. */
const TURN_OVERHEAD = 8;
const REQUEST_OVERHEAD = 16;

/**
 * The most input tokens the request can be: a token holds at least one byte of UTF-8 text, plus the
 * framing. Roughly four times the estimate for English; the price of never reserving too little.
 * An attachment adds its own figure (an image's is Anthropic's formula at the size it is read; a
 * PDF's is the per-page estimate, which a PDF request replaces with the API's count).
 */
export function inputBound(request: MeasureInput['request']): number {
  const encoder = new TextEncoder();
  let bytes = encoder.encode(request.system).length + REQUEST_OVERHEAD;
  for (const m of request.messages) {
    bytes += encoder.encode(m.content).length + TURN_OVERHEAD;
    for (const a of m.attachments ?? []) bytes += a.tokens;
  }
  return bytes;
}

export function measureRequest(input: MeasureInput): Measurement {
  const estimate = estimateTokens(input.request);
  const exact = typeof input.exact === 'number' ? input.exact : null;
  const asked = input.exact !== undefined;
  const cacheOn = input.promptCache === 'off' ? {} : { promptCache: input.promptCache };
  const costAt = (inputTokens: number, estimated: boolean): RequestCost => ({
    model: input.model,
    inputTokens,
    maxTokens: input.maxTokens,
    ...cacheOn,
    ...(estimated ? { estimated: true } : {}),
    ...(input.webSearches ? { webSearches: input.webSearches } : {}),
  });
  // A PDF's tokens are known only to the API (each page is its text and an image of it): always counted.
  if (!asked && hasPdf(input.request.messages)) return { ok: 'count' };
  if (!asked && input.room !== null && needsExactInputCount(estimate, input.room.room)) return { ok: 'count' };
  let cost: RequestCost | null = null;
  if (hasBudget(input.budget)) {
    cost = exact === null ? costAt(inputBound(input.request), true) : costAt(exact, false);
    if (exact === null && !asked && input.budget.whenReached === 'pause') {
      const priced = budgetPrice(input.model, input.budget.unknownPriceUsd);
      const worst = priced && worstCaseUsd(priced.price, cost);
      // The bound does not fit what is left: the exact count may well.
      if (worst !== null && worst > input.budgetLeft) return { ok: 'count' };
    }
  }
  const inputTokens = exact ?? estimate;
  if (input.room !== null && inputTokens > input.room.limit) {
    const whose = input.room.by === 'pace' ? 'your limit is' : 'Anthropic allows this key';
    return {
      ok: false,
      error: {
        code: 'too_large',
        message: `This request is about ${formatCount(inputTokens)} input tokens; ${whose} ${formatCount(input.room.limit)} input tokens a minute, so it can never be sent. Start a new chat, or raise the input-token limit on the options page.`,
        action: 'new_chat',
      },
    };
  }
  // The input is always counted with the job's id, limit or not: the runner's real count replaces it.
  return { ok: true, need: { inputTokens, outputTokens: input.maxTokens }, cost };
}
