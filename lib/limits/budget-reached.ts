/**
 * When a spend budget is reached (pure). In 'pause' mode admission keeps what is spent plus each
 * request's worst case within the budget, so what is spent never reaches 100%: the budget is
 * reached once what is left is less than the least any next request reserves (an empty prompt
 * with all of `max_tokens` at the output price of the model in the settings), since from then on
 * nothing more can be sent before the period turns. In 'warn' mode, once spent passes it.
 */
import { budgetPrice, worstCaseUsd, type PeriodSpend } from './budget';
import type { Budget } from '../storage/rows';

/** The least the next request can reserve with these settings; null when the model cannot be priced. */
export function leastNextUsd(budget: Budget, settings: { model: string; maxTokens: number }): number | null {
  const priced = budgetPrice(settings.model, budget.unknownPriceUsd);
  return priced && worstCaseUsd(priced.price, { model: settings.model, inputTokens: 0, maxTokens: settings.maxTokens });
}

/** Rounding noise in sums of dollars. */
const EPSILON = 1e-9;

export function budgetReached(p: PeriodSpend, budget: Budget, leastNext: number | null): boolean {
  if (p.settled >= p.limit - EPSILON) return true;
  return budget.whenReached === 'pause' && leastNext !== null && p.limit - p.settled < leastNext - EPSILON;
}
