/**
 * A team gateway's budget for the key (LiteLLM's `GET /key/info`: spend, max_budget,
 * budget_reset_at), as the background last read it: one `meta` row, written only here and read by
 * the popup live. `parseKeyInfo` turns the gateway's JSON into it; anything else is "no budget".
 */
import type { PaceDB } from '../storage/db';
import type { GatewayBudget, GatewayBudgetRow } from '../storage/rows';
import { isObject } from '../is-object';

const KEY = 'gatewayBudget';

const amount = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER ? v : null;

/**
 * LiteLLM's `/key/info` answer, `{"key": "...", "info": {"spend": 12.4, "max_budget": 50,
 * "budget_reset_at": "2026-12-01T00:00:00Z", ...}}` (some versions put the fields at the top), as a
 * budget; null when it is not one: no numeric spend, a negative or non-numeric figure, not an object.
 */
export function parseKeyInfo(body: unknown): GatewayBudget | null {
  if (!isObject(body)) return null;
  const info = isObject(body.info) ? body.info : body;
  const spend = amount(info.spend);
  if (spend === null) return null;
  const max = info.max_budget === null || info.max_budget === undefined ? null : amount(info.max_budget);
  if (max === null && info.max_budget !== null && info.max_budget !== undefined) return null;
  const reset =
    typeof info.budget_reset_at === 'string' && /^\d{4}-\d{2}-\d{2}/.test(info.budget_reset_at)
      ? Date.parse(info.budget_reset_at)
      : NaN;
  return { spend, maxBudget: max, resetAt: Number.isFinite(reset) ? reset : null };
}

/** The stored row, if it is well formed: storage is not trusted. */
export async function readGatewayBudget(db: PaceDB): Promise<GatewayBudgetRow | null> {
  const row = await db.meta.get(KEY);
  if (row?.key !== KEY || !isObject(row.value)) return null;
  const { baseURL, checkedAt, budget } = row.value as Partial<Record<keyof GatewayBudgetRow, unknown>>;
  if (typeof baseURL !== 'string' || typeof checkedAt !== 'number') return null;
  if (budget === null) return { baseURL, checkedAt, budget: null };
  if (!isObject(budget) || amount(budget.spend) === null) return null;
  const maxBudget = budget.maxBudget === null ? null : amount(budget.maxBudget);
  const resetAt = budget.resetAt === null ? null : amount(budget.resetAt);
  if ((maxBudget === null && budget.maxBudget !== null) || (resetAt === null && budget.resetAt !== null)) return null;
  return { baseURL, checkedAt, budget: { spend: budget.spend as number, maxBudget, resetAt } };
}

export async function saveGatewayBudget(db: PaceDB, row: GatewayBudgetRow): Promise<void> {
  await db.meta.put({ key: KEY, value: row });
}

/** Forgets the budget: it belonged to the key and gateway saved before. */
export async function forgetGatewayBudget(db: PaceDB): Promise<void> {
  await db.meta.delete(KEY);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "$50", "$12.40", "<$0.01". */
export function formatUsd(n: number): string {
  if (n > 0 && n < 0.005) return '<$0.01';
  return Number.isInteger(n)
    ? `$${n.toLocaleString('en-US')}`
    : `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** The popup's line: "Team gateway: $12.40 of $50 left, resets 1 Dec" (the day in UTC, as the gateway keeps it). */
export function gatewayBudgetText(budget: GatewayBudget): string {
  const reset =
    budget.resetAt === null
      ? ''
      : `, resets ${new Date(budget.resetAt).getUTCDate()} ${MONTHS[new Date(budget.resetAt).getUTCMonth()]}`;
  if (budget.maxBudget === null) return `Team gateway: ${formatUsd(budget.spend)} spent, no budget set${reset}`;
  return `Team gateway: ${formatUsd(Math.max(0, budget.maxBudget - budget.spend))} of ${formatUsd(budget.maxBudget)} left${reset}`;
}
