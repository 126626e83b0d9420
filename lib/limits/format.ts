/** How the limits' figures read on screen and in messages. */
import type { MonthStart } from '../storage/rows';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** A day, month, hour or minute in two digits. */
export const pad = (n: number) => String(n).padStart(2, '0');

/** "19 Dec", on the calendar the month window uses. */
export function formatDay(at: number, mode: MonthStart): string {
  const d = new Date(at);
  return mode === 'utc' ? `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}` : `${d.getDate()} ${MONTHS[d.getMonth()]}`;
}

/** "1 Dec, 00:00 UTC" (or local time, without the zone). */
export function formatReset(at: number, mode: MonthStart): string {
  const d = new Date(at);
  return mode === 'utc'
    ? `${formatDay(at, mode)}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`
    : `${formatDay(at, mode)}, ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "23 s", "4 min 5 s", "2 h 10 min", "3 days". */
export function formatWait(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86_400)
    return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  const days = Math.round(s / 86_400);
  return `${days} day${days === 1 ? '' : 's'}`;
}

export const formatCount = (n: number) => n.toLocaleString('en-US');
