/**
 * The spend budget's records in IndexedDB: the budget itself (meta row 'budget') and what is spent
 * against it (meta row 'spend': the open reservations by ledger row id, and the costs the ledger's
 * totals cannot hold). The settled cost itself is the ledger's day and month totals (`costUsd`).
 *
 * - `loadSpend` reads what admission needs, inside admission's transaction (lib/limits/admit.ts);
 * - `reserveInTx` records the admitted request's worst case there;
 * - `settleInTx` replaces it when the send's ledger row ends (lib/usage/ledger-store.ts `settleUsage`,
 *   which ends each row once: so each reservation goes exactly once);
 * - `readBudgetView` is what the popup, the badge and the alerts show.
 */
import type { PaceDB, UsageRow } from '../storage/db';
import { budgetProblem, spendProblem } from '../storage/row-guards';
import { isUsd } from '../usage/prices';
import { INTERRUPTED } from '../usage/totals';
import {
  dayWindow,
  hasBudget,
  NO_SPEND,
  periodSpends,
  settledExtraUsd,
  type LedgerCost,
  type PeriodSpend,
} from './budget';
import type { Budget, Reservation, SpendState, MonthStart } from '../storage/rows';
import { monthKeys, monthWindow } from './month-window';
import { DEFAULT_LIMITS } from './plans';
import { othersIn } from '../sync/devices-store';

const warnOnce = new Set<string>();
function damaged(what: string, reason: string): void {
  if (warnOnce.has(what + reason)) return;
  warnOnce.add(what + reason);
  console.warn(`[pace] skipped an unreadable ${what} record: ${reason}`);
}

function budgetOf(row: unknown): Budget | null {
  if (!row) return null;
  const problem = budgetProblem(row);
  if (problem) {
    damaged('spend budget', problem);
    return null;
  }
  return (row as { value: Budget }).value;
}

function spendOf(row: unknown): SpendState {
  if (!row) return NO_SPEND;
  const problem = spendProblem(row);
  if (problem) {
    damaged('spend', problem);
    return NO_SPEND;
  }
  return (row as { value: SpendState }).value;
}

export async function readBudget(db: PaceDB): Promise<Budget | null> {
  return budgetOf(await db.meta.get('budget'));
}

export async function saveBudget(db: PaceDB, budget: Budget): Promise<void> {
  await db.meta.put({ key: 'budget', value: budget });
}

export interface LoadedSpend {
  budget: Budget | null;
  spend: SpendState;
  /** The ledger's cost of the month under either key (plus the other devices' month), and of the day. */
  ledger: (monthStart: MonthStart) => LedgerCost;
}

/**
 * Whether the last read in this context found a budget: only a hint for how to read, never trusted
 * for what is decided (a stale hint costs one round trip, not a wrong answer).
 */
const budgetSeen = new WeakMap<PaceDB, boolean>();

/**
 * The budget's reads: call inside a transaction on meta, usageMonths and usageDays. Without a
 * budget that is one read, so admission with requests only pays next to nothing for it; with one,
 * the ledger's totals are asked for at the same time.
 */
export async function loadSpend(db: PaceDB, now: number): Promise<LoadedSpend> {
  const keys = monthKeys(now);
  const ledgerReads = () => Promise.all([db.usageMonths.bulkGet(keys), db.usageDays.get(dayWindow(now).key)]);
  const early = budgetSeen.get(db) ? ledgerReads() : null;
  const [budgetRow, spendRow, devicesRow] = await db.meta.bulkGet(['budget', 'spend', 'devices']);
  const budget = budgetOf(budgetRow);
  budgetSeen.set(db, hasBudget(budget));
  if (!hasBudget(budget)) {
    await early;
    return { budget, spend: spendOf(spendRow), ledger: () => ({ month: 0, day: 0 }) };
  }
  const [months, day] = await (early ?? ledgerReads());
  return {
    budget,
    spend: spendOf(spendRow),
    ledger: (monthStart) => ({
      // The month's spend on every device: the other devices' entries in browser sync count as this ledger does.
      month:
        (months[keys.indexOf(monthWindow(now, monthStart).key)]?.costUsd ?? 0) +
        othersIn(devicesRow, monthWindow(now, monthStart).key).usd,
      day: day?.costUsd ?? 0,
    }),
  };
}

/** Holds `reservation` for the send whose ledger row is `usageId`; extras of past periods are dropped. */
export async function reserveInTx(
  db: PaceDB,
  spend: SpendState,
  usageId: number,
  reservation: Reservation,
  now: number,
): Promise<void> {
  // decideBudget never reserves such a figure; were one to come, the admitting transaction fails rather than store it.
  if (!isUsd(reservation.usd))
    throw new Error(`a budget reservation of ${String(reservation.usd)} dollars is not a cost`);
  const current = new Set([...monthKeys(now), dayWindow(now).key]);
  const extra = Object.fromEntries(Object.entries(spend.extra).filter(([k]) => current.has(k)));
  await db.meta.put({ key: 'spend', value: { reserved: { ...spend.reserved, [usageId]: reservation }, extra } });
}

/**
 * The send of ledger row `before` has ended as `after`: its reservation (if it had one) goes, and
 * what the ledger's totals do not hold is added to its month and day. Call inside the transaction
 * that ends the row.
 */
export async function settleInTx(db: PaceDB, before: UsageRow, after: UsageRow): Promise<void> {
  const spend = spendOf(await db.meta.get('spend'));
  const id = String(before.id);
  const reservation = spend.reserved[id];
  if (!reservation) return;
  const reserved = Object.fromEntries(Object.entries(spend.reserved).filter(([k]) => k !== id));
  const gateway = after.costFrom === 'gateway';
  const add = settledExtraUsd(reservation, {
    model: after.model,
    interrupted: after.outcome === INTERRUPTED,
    listUsd: gateway ? (after.listCostUsd ?? null) : after.costUsd,
    gatewayUsd: gateway ? after.costUsd : null,
    usage: after.usage,
    usageUnknown: after.usageUnknown === true,
  });
  const extra = { ...spend.extra };
  if (add > 0)
    for (const key of [...monthKeys(before.at), dayWindow(before.at).key]) extra[key] = (extra[key] ?? 0) + add;
  await db.meta.put({ key: 'spend', value: { reserved, extra } });
}

/** The reservation of ledger row `usageId` goes with nothing in its place (a batched request Anthropic will not bill). Call inside the releasing transaction. */
export async function dropReservationInTx(db: PaceDB, usageId: number): Promise<void> {
  const spend = spendOf(await db.meta.get('spend'));
  if (!spend.reserved[String(usageId)]) return;
  const reserved = Object.fromEntries(Object.entries(spend.reserved).filter(([k]) => k !== String(usageId)));
  await db.meta.put({ key: 'spend', value: { ...spend, reserved } });
}

/** The ledger row ids of the open reservations. */
export async function reservedIds(db: PaceDB): Promise<number[]> {
  return Object.keys(spendOf(await db.meta.get('spend')).reserved).map(Number);
}

/**
 * Drops every reservation whose ledger row `inFlight` says is not in flight (gone, or ended without
 * its settle): nothing can replace it any more. Call inside a transaction on meta and the ledger.
 */
export async function dropReservationsWithout(
  db: PaceDB,
  inFlight: (ids: number[]) => Promise<boolean[]>,
): Promise<void> {
  const spend = spendOf(await db.meta.get('spend'));
  const ids = Object.keys(spend.reserved);
  if (ids.length === 0) return;
  const open = await inFlight(ids.map(Number));
  if (open.every(Boolean)) return;
  const reserved = Object.fromEntries(ids.filter((_, i) => open[i]).map((id) => [id, spend.reserved[id]!]));
  await db.meta.put({ key: 'spend', value: { ...spend, reserved } });
}

export interface BudgetView {
  budget: Budget;
  monthStart: MonthStart;
  periods: PeriodSpend[];
}

/** The budget and where each of its periods stands at `now`; null when no budget is set. */
export async function readBudgetView(db: PaceDB, now: number): Promise<BudgetView | null> {
  return db.transaction('r', [db.meta, db.usageMonths, db.usageDays], async () => {
    const [loaded, limitsRow] = await Promise.all([loadSpend(db, now), db.meta.get('limits')]);
    if (!hasBudget(loaded.budget)) return null;
    const monthStart = limitsRow?.key === 'limits' ? limitsRow.value.monthStart : DEFAULT_LIMITS.monthStart;
    return {
      budget: loaded.budget,
      monthStart,
      periods: periodSpends(now, monthStart, loaded.budget, loaded.spend, loaded.ledger(monthStart)),
    };
  });
}
