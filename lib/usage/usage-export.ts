/**
 * The usage ledger as files the user downloads (pure). CSV follows RFC 4180 (CRLF line ends,
 * quoted cells where needed) and defuses spreadsheet formulas: a text cell starting with = + - @
 * (or a tab or carriage return) gets a leading apostrophe, so opening the file runs nothing.
 */
import type { UsageRow } from '../storage/db';
import { safeFileName } from '../safe-file-name';
import { dayKey } from './totals';

type Cell = string | number | boolean | null | undefined;

/** Each CSV column with the cell it takes from a row: one list, so names and values cannot drift apart. */
const COLUMNS = [
  ['time', (r) => new Date(r.at).toISOString()],
  ['model', (r) => r.model],
  ['conversationId', (r) => r.conversationId],
  ['messageId', (r) => r.messageId],
  ['outcome', (r) => r.outcome],
  ['status', (r) => r.status],
  ['errorType', (r) => r.errorType],
  ['inputTokens', (r) => r.usage.inputTokens],
  ['outputTokens', (r) => r.usage.outputTokens],
  ['cacheReadTokens', (r) => r.usage.cacheReadTokens],
  ['cacheCreationTokens', (r) => r.usage.cacheCreationTokens],
  ['ttftMs', (r) => r.ttftMs],
  ['totalMs', (r) => r.totalMs],
  ['attempt', (r) => r.attempt],
  ['fromCache', (r) => r.fromCache],
  ['costUsd', (r) => r.costUsd],
  ['savedUsd', (r) => r.savedUsd],
  // Added at the end, so sheets built on the older columns still read. Part of costUsd: the searches
  // at $0.01 each (empty when the usage is unknown, as costUsd is).
  ['webSearches', (r) => r.usage.webSearches ?? 0],
  ['webSearchUsd', (r) => (r.usageUnknown ? null : (r.webSearchUsd ?? 0))],
] as const satisfies readonly (readonly [string, (r: UsageRow) => Cell])[];

export const CSV_COLUMNS = COLUMNS.map(([name]) => name);

const cells = (row: UsageRow): Cell[] => COLUMNS.map(([, cell]) => cell(row));

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell: empty for null/undefined; anything else as text, defused and quoted when it must
 * be. Every value goes through the same path: a damaged row can hold any type where a number
 * belongs (an array, say, whose text is `=cmd` or holds a comma).
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any damaged value becomes its plain text, as documented above
  const raw = String(value);
  const text = FORMULA_START.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function usageToCsv(rows: readonly UsageRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) lines.push(cells(row).map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** A JSON array, one row per line, each with its time also as ISO text. */
export function usageToJson(rows: readonly UsageRow[]): string {
  if (rows.length === 0) return '[]\n';
  return `[\n${rows.map((row) => JSON.stringify({ time: new Date(row.at).toISOString(), ...row })).join(',\n')}\n]\n`;
}

/** `pace-usage-2026-11-27.csv`, dated by the local day of `now`. */
export function exportFileName(now: number, ext: 'csv' | 'json'): string {
  return safeFileName(`pace-usage-${dayKey(now)}.${ext}`);
}
