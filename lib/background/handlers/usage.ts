/** usagePrefs.save, cache.clear, budget.save and gateway.budget: what is spent, what is kept, and the caps on spending. */
import { clearCache } from '../../cache/response-cache';
import { checkBudget } from '../../limits/budget';
import { saveBudget } from '../../limits/budget-store';
import { PaceFailure, type ReplyOf, type RequestOf } from '../../protocol';
import { checkUsagePrefs } from '../../settings/usage-prefs';
import type { Deps } from './deps';
import { formRefused } from './refusals';

export async function usagePrefsSave(
  d: Deps,
  input: RequestOf<'usagePrefs.save'>,
): Promise<ReplyOf<'usagePrefs.save'>> {
  const checked = checkUsagePrefs(input);
  if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'These choices are not valid.'));
  await d.prefs.saveUsagePrefs(checked.value);
  return checked.value;
}

export async function cacheClear(d: Deps): Promise<ReplyOf<'cache.clear'>> {
  return { cleared: await clearCache(d.db) };
}

export async function budgetSave(d: Deps, input: RequestOf<'budget.save'>): Promise<ReplyOf<'budget.save'>> {
  const checked = checkBudget(input);
  if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'This budget is not valid.'));
  await saveBudget(d.db, checked.value);
  void d.pump();
  return checked.value;
}

export async function gatewayBudget(d: Deps): Promise<ReplyOf<'gateway.budget'>> {
  return (await d.gatewayBudget?.refresh('asked')) ?? null;
}
