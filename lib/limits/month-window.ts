/** The calendar month a moment falls in: from 00:00 on the 1st, in UTC or in local time. */
import type { MonthStart } from '../storage/rows';
import { pad } from './format';

export interface MonthWindow {
  start: number;
  end: number;
  /** e.g. "utc:2026-11" or "local:2026-11": the counter a send is recorded under. */
  key: string;
}

export function monthWindow(now: number, mode: MonthStart): MonthWindow {
  const d = new Date(now);
  if (mode === 'utc') {
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth();
    return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1), key: `utc:${y}-${pad(m + 1)}` };
  }
  const y = d.getFullYear();
  const m = d.getMonth();
  // The Date constructor resolves local midnight across daylight-saving changes.
  return { start: new Date(y, m, 1).getTime(), end: new Date(y, m + 1, 1).getTime(), key: `local:${y}-${pad(m + 1)}` };
}

/** Both keys a send at `now` counts under, so switching the mode later keeps exact counts. */
export function monthKeys(now: number): string[] {
  return [monthWindow(now, 'utc').key, monthWindow(now, 'local').key];
}
