/**
 * The usage ledger in IndexedDB: one row per attempt sent (and per answer served from the cache),
 * with running totals per local day and per month written in the same transaction, so the
 * dashboard reads a few small rows instead of the whole ledger, and pruning old rows (the
 * retention setting) loses no month's totals.
 *
 * A send's row is written when the limiter admits and counts it (`openUsage`, inside `admit`'s
 * transaction), as `sending`, and ended in place when its attempt ends (`settleUsage`), or marked
 * `interrupted` at start-up when a stopped worker cut it off: whatever happens to the worker, every
 * counted send has exactly one row, counted once.
 */
import { dropReservationInTx, dropReservationsWithout, reservedIds, settleInTx } from '../limits/budget-store';
import { monthKeys } from '../limits/month-window';
import type { PaceDB, UsageRow } from '../storage/db';
import { estimateCost, isUsd } from './prices';
import {
  addMonthRow,
  addRow,
  BATCHED,
  dayKey,
  emptyMonth,
  emptyTotals,
  IN_FLIGHT,
  INTERRUPTED,
  removeMonthRow,
  removeRow,
} from './totals';

/** On its way: sent and not ended, or counted into a Message Batch whose answer has not arrived. */
const onItsWay = (outcome: string | undefined) => outcome === IN_FLIGHT || outcome === BATCHED;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `row` as the ledger may hold it: a cost that is not a finite number >= 0 (NaN, Infinity, -1) is
 * unknown (null), and token (or web search) counts that are not whole numbers >= 0 are none, with the usage marked
 * unknown and its cost with it, so the budget counts the send's worst case. Every write goes
 * through here: no figure a server sent can make a month's totals NaN or lower them.
 */
function believableRow<T extends Partial<UsageRow>>(row: T): T {
  const out: T = { ...row };
  const usd = (k: 'costUsd' | 'inputCostUsd' | 'listCostUsd' | 'savedUsd' | 'webSearchUsd') => {
    if (k in out && out[k] !== null && out[k] !== undefined && !isUsd(out[k])) out[k] = null;
  };
  usd('costUsd');
  usd('inputCostUsd');
  usd('listCostUsd');
  usd('savedUsd');
  usd('webSearchUsd');
  const saved = out.promptCacheSavedUsd;
  if (saved !== null && saved !== undefined && !Number.isFinite(saved)) out.promptCacheSavedUsd = null;
  const u = out.usage;
  if (
    u &&
    (![u.inputTokens, u.outputTokens, u.cacheReadTokens, u.cacheCreationTokens].every(
      (n) => Number.isInteger(n) && n >= 0,
    ) ||
      (u.webSearches !== undefined && !(Number.isInteger(u.webSearches) && u.webSearches >= 0)))
  ) {
    Object.assign(out, {
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
      usageUnknown: true,
      costUsd: null,
      inputCostUsd: null,
      promptCacheSavedUsd: null,
      webSearchUsd: null,
    });
  }
  return out;
}

/** Adds a row and counts it in its day's and months' totals; resolves to its id. */
export async function recordUsage(db: PaceDB, given: Omit<UsageRow, 'id'>): Promise<number> {
  const row = believableRow(given);
  return db.transaction('rw', db.usage, db.usageDays, db.usageMonths, async () => {
    const [id] = await Promise.all([db.usage.add(row), countIn(db, row, null)]);
    return id!;
  });
}

/** The row of a send just admitted, its attempt not ended yet. Call inside the admitting transaction. */
export function openUsage(
  db: PaceDB,
  send: Pick<UsageRow, 'at' | 'model' | 'conversationId' | 'messageId' | 'attempt'>,
): Promise<number> {
  const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
  return recordUsage(db, {
    ...send,
    outcome: IN_FLIGHT,
    usage,
    ttftMs: null,
    totalMs: 0,
    fromCache: false,
    costUsd: estimateCost(send.model, usage),
  });
}

/**
 * The row of a request counted into a Message Batch (lib/batch/batch-store.ts): on its way until
 * its answer arrives, which may be hours, so start-up does not take it for one cut off. Call inside
 * the transaction that counts the batch.
 */
export function openBatchedUsage(
  db: PaceDB,
  request: Pick<UsageRow, 'at' | 'model' | 'conversationId' | 'messageId' | 'attempt'>,
): Promise<number> {
  const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
  return recordUsage(db, {
    ...request,
    outcome: BATCHED,
    usage,
    ttftMs: null,
    totalMs: 0,
    fromCache: false,
    costUsd: 0,
    batch: true,
  });
}

/**
 * A batched request Anthropic will not bill (it expired, was cancelled before it ran, or its batch
 * was never created): its row goes, out of the totals, and so does its budget reservation. False
 * when the row is not on its way (already ended or released). Call inside the releasing transaction.
 */
export async function releaseUsage(db: PaceDB, id: number): Promise<boolean> {
  return release(db, id, BATCHED);
}

/**
 * A send that was counted but never left (its worker stopped while the wire gate held it,
 * lib/queue/job-store.ts `recover`): its row goes, out of the totals, with its budget reservation.
 * False when the row is not in flight. Call inside the releasing transaction.
 */
export async function releaseUnsentUsage(db: PaceDB, id: number): Promise<UsageRow | null> {
  const row = await db.usage.get(id);
  return row && (await release(db, id, IN_FLIGHT)) ? row : null;
}

async function release(db: PaceDB, id: number, outcome: string): Promise<boolean> {
  return db.transaction('rw', db.usage, db.usageDays, db.usageMonths, db.meta, async () => {
    const row = await db.usage.get(id);
    if (!row || row.outcome !== outcome) return false;
    const day = dayKey(row.at);
    const months = monthKeys(row.at);
    const [dayRow, monthRows] = await Promise.all([db.usageDays.get(day), db.usageMonths.bulkGet(months)]);
    await Promise.all([
      db.usage.delete(id),
      dayRow ? db.usageDays.put(removeRow(dayRow, row)) : null,
      db.usageMonths.bulkPut(monthRows.filter((m) => m !== undefined).map((m) => removeMonthRow(m, row))),
      dropReservationInTx(db, id),
    ]);
    return true;
  });
}

/**
 * Ends the row `id` of a send in flight with how its attempt ended: `ended` replaces its fields
 * (its time stays, so it stays in the day and month it was counted in) and the totals move with
 * it. False, with nothing written, when there is no such row or it has already ended. The spend
 * budget's reservation for the send is replaced by what it cost in the same transaction, so once.
 */
export async function settleUsage(
  db: PaceDB,
  id: number,
  ended: Partial<Omit<UsageRow, 'id' | 'at'>>,
): Promise<boolean> {
  return db.transaction('rw', db.usage, db.usageDays, db.usageMonths, db.meta, async () => {
    const before = await db.usage.get(id);
    if (!before || !onItsWay(before.outcome)) return false;
    const after: UsageRow = believableRow({ ...before, ...ended, id, at: before.at });
    await Promise.all([db.usage.put(after), countIn(db, after, before), settleInTx(db, before, after)]);
    return true;
  });
}

/**
 * At start-up, once the jobs cut off have ended their rows, no send is on its way: a row still in
 * flight lost its end (a failed write, say), and would hold its budget reservation until the period
 * turns. Each such row, admitted since `since` or holding a reservation, ends as interrupted (its
 * reservation counts its worst case, as for any cut-off send), and a reservation with no row in
 * flight is dropped. Call inside the recovering transaction; resolves to the ids ended.
 */
export async function endStrandedUsage(db: PaceDB, since: number): Promise<number[]> {
  const [recent, reserved] = await Promise.all([
    // By the outcome's index: only the rows in flight are read (usually none), not the month's rows.
    db.usage
      .where('outcome')
      .equals(IN_FLIGHT)
      .filter((r) => r.at >= since)
      .primaryKeys(),
    reservedIds(db),
  ]);
  const reservedRows = await db.usage.bulkGet(reserved);
  const stranded = [
    ...new Set([...recent, ...reserved.filter((_, i) => reservedRows[i]?.outcome === IN_FLIGHT)]),
  ].filter((id): id is number => id !== undefined);
  for (const id of stranded) await settleUsage(db, id, { outcome: INTERRUPTED });
  await dropReservationsWithout(db, (ids) =>
    db.usage.bulkGet(ids).then((rows) => rows.map((r) => onItsWay(r?.outcome))),
  );
  return stranded;
}

/** Counts `row` in the totals of its day and months, in place of `replacing` (the same send, before). */
async function countIn(db: PaceDB, row: UsageRow, replacing: UsageRow | null): Promise<void> {
  const day = dayKey(row.at);
  const months = monthKeys(row.at);
  const [dayRow, monthRows] = await Promise.all([db.usageDays.get(day), db.usageMonths.bulkGet(months)]);
  const dayBefore = dayRow ?? { ...emptyTotals(), day };
  await Promise.all([
    db.usageDays.put(addRow(replacing ? removeRow(dayBefore, replacing) : dayBefore, row)),
    db.usageMonths.bulkPut(
      months.map((month, i) => {
        const m = monthRows[i] ?? emptyMonth(month);
        return addMonthRow(replacing ? removeMonthRow(m, replacing) : m, row);
      }),
    ),
  ]);
}

/** Deletes ledger rows and day totals older than `retentionDays`; month totals are kept. */
export async function pruneUsage(db: PaceDB, now: number, retentionDays: number): Promise<number> {
  const cutoff = now - retentionDays * DAY_MS;
  return db.transaction('rw', db.usage, db.usageDays, async () => {
    const rows = await db.usage.where('at').below(cutoff).delete();
    await db.usageDays.where('day').below(dayKey(cutoff)).delete();
    return rows;
  });
}
