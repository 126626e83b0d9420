/**
 * Checks rows read back from IndexedDB before they are used. A row written by an older or broken
 * build, or damaged on disk, is skipped and reported, never fatal: `readable(table, rows, problem)`
 * keeps the good rows and warns once per bad one, naming the table, the id and what is wrong
 * (never the row's text). Each `*Problem` function returns null for a good row, else the reason.
 */
import type { Job, JobState, MessageStatus } from './db';
import { isObject } from '../is-object';
import { BADGE_COUNTS, WHEN_REACHED } from './rows';

type Row = Record<string, unknown>;

const MESSAGE_STATUSES: readonly MessageStatus[] = ['pending', 'streaming', 'done', 'error', 'stopped', 'interrupted'];
const JOB_STATES: readonly JobState[] = [
  'queued',
  'waiting',
  'sending',
  'streaming',
  'done',
  'failed',
  'cancelled',
  'gathering',
  'batched',
];

const isRow: (v: unknown) => v is Row = isObject;
const isId = (v: unknown) => typeof v === 'string' && v.length > 0;
const isTime = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

function firstProblem(row: unknown, checks: [string, (v: unknown) => boolean, string][]): string | null {
  if (!isRow(row)) return 'not an object';
  for (const [field, ok, expected] of checks) {
    if (!ok(row[field])) return row[field] === undefined ? `${field} is missing` : `${field} is not ${expected}`;
  }
  return null;
}

export function conversationProblem(row: unknown): string | null {
  return firstProblem(row, [
    ['id', isId, 'an id'],
    ['title', (v) => typeof v === 'string', 'text'],
    ['createdAt', isTime, 'a time'],
    ['updatedAt', isTime, 'a time'],
  ]);
}

export function messageProblem(row: unknown): string | null {
  return firstProblem(row, [
    ['id', isId, 'an id'],
    ['conversationId', isId, 'an id'],
    ['role', (v) => v === 'user' || v === 'assistant', 'user or assistant'],
    ['text', (v) => typeof v === 'string', 'text'],
    ['createdAt', isTime, 'a time'],
    ['status', (v) => MESSAGE_STATUSES.includes(v as MessageStatus), 'a known status'],
  ]);
}

export function jobProblem(row: unknown): string | null {
  return firstProblem(row, [
    ['id', isId, 'an id'],
    ['conversationId', isId, 'an id'],
    ['state', (v) => JOB_STATES.includes(v as JobState), 'a known state'],
    ['createdAt', isTime, 'a time'],
    ['attempts', (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0, 'a count'],
  ]);
}

export const isJob = (row: unknown): row is Job => jobProblem(row) === null;

const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isFigure = (v: unknown) =>
  v === undefined ||
  firstProblem(v, [
    ['limit', isCount, 'a count'],
    ['remaining', isCount, 'a count'],
    ['reset', isTime, 'a time'],
  ]) === null;

/** The `server` row of `meta`: the rate-limit figures the last response gave (lib/claude/rate-limit-headers.ts). */
export function serverLimitsProblem(row: unknown): string | null {
  return firstProblem(row, [
    ['limit', isCount, 'a count'],
    ['remaining', isCount, 'a count'],
    ['reset', isTime, 'a time'],
    ['observedAt', isTime, 'a time'],
    ['readAt', (v) => v === undefined || isTime(v), 'a time'],
    ['tokens', isFigure, 'a limit figure'],
    ['inputTokens', isFigure, 'a limit figure'],
    ['outputTokens', isFigure, 'a limit figure'],
  ]);
}

const isSpends = (v: unknown) =>
  Array.isArray(v) &&
  v.every(
    (s) =>
      firstProblem(s, [
        ['at', isTime, 'a time'],
        ['tokens', isCount, 'a count'],
      ]) === null,
  );

/** The `tokens` row of `meta`: the token spends of the rolling minute (lib/limits/token-store.ts). */
export function tokenLogProblem(row: unknown): string | null {
  return firstProblem(row, [
    ['input', isSpends, 'a list of token spends'],
    ['output', isSpends, 'a list of token spends'],
  ]);
}

export type GuardedTable = 'conversations' | 'messages' | 'jobs';

export interface SkippedRow {
  table: GuardedTable;
  /** The row's id as text (ids are random, never user text); '?' when it has none. */
  id: string;
  reason: string;
}

export function describeSkipped({ table, id, reason }: SkippedRow): string {
  return `skipped an unreadable row in ${table} (id ${id}): ${reason}`;
}

const warn = (s: SkippedRow) => console.warn(`[pace] ${describeSkipped(s)}`);

function idOf(row: unknown): string {
  const id = isRow(row) ? row.id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? JSON.stringify(id).slice(0, 80) : '?';
}

/** The rows that pass `problem`, and the skipped ones, each reported with `report` (console.warn by default). */
export function readable<T>(
  table: GuardedTable,
  rows: readonly unknown[],
  problem: (row: unknown) => string | null,
  report: (skipped: SkippedRow) => void = warn,
): { rows: T[]; skipped: SkippedRow[] } {
  const kept: T[] = [];
  const skipped: SkippedRow[] = [];
  for (const row of rows) {
    const reason = problem(row);
    if (reason === null) {
      kept.push(row as T);
      continue;
    }
    const s: SkippedRow = { table, id: idOf(row), reason };
    skipped.push(s);
    report(s);
  }
  return { rows: kept, skipped };
}

/** The popup's note about rows it could not show; null when there were none. */
export function skippedNotice(count: number, noun: 'message' | 'conversation'): string | null {
  if (count <= 0) return null;
  return count === 1
    ? `1 saved ${noun} could not be read and was skipped.`
    : `${count.toLocaleString('en-US')} saved ${noun}s could not be read and were skipped.`;
}

const isUsdOrNone = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v) && v > 0);

/** The spend budget's meta row (lib/limits/budget.ts `Budget`). */
export function budgetProblem(row: unknown): string | null {
  if (!isRow(row) || row.key !== 'budget') return 'not the budget row';
  return firstProblem(row.value, [
    ['monthlyUsd', isUsdOrNone, 'an amount or null'],
    ['dailyUsd', isUsdOrNone, 'an amount or null'],
    ['whenReached', (v) => (WHEN_REACHED as readonly unknown[]).includes(v), 'pause or warn'],
    ['unknownPriceUsd', isUsdOrNone, 'an amount or null'],
    ['badge', (v) => (BADGE_COUNTS as readonly unknown[]).includes(v), 'requests, dollars or percent'],
  ]);
}

/** The spend meta row (lib/limits/budget.ts `SpendState`): reservations and extras hold finite amounts. */
export function spendProblem(row: unknown): string | null {
  if (!isRow(row) || row.key !== 'spend') return 'not the spend row';
  const amount = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  return firstProblem(row.value, [
    [
      'reserved',
      (v) => isRow(v) && Object.values(v).every((r) => isRow(r) && amount(r.usd) && isTime(r.at)),
      'reservations',
    ],
    ['extra', (v) => isRow(v) && Object.values(v).every(amount), 'amounts by period'],
  ]);
}
