/**
 * "This month on all your devices": the month's requests and dollars on this device and on the
 * others that browser sync has heard from, for the popup and the usage page (read live through
 * useLiveQuery), and the line they show.
 */
import { formatCount } from '../limits/format';
import { readLimits } from '../limits/limiter-store';
import { monthWindow } from '../limits/month-window';
import type { PaceDB } from '../storage/db';
import type { OtherDevices } from '../storage/rows';
import { formatUsd } from '../usage/summary';
import { NO_MONTH, othersMonth } from './device-entry';
import { readOtherDevices, readOwnMonths } from './devices-store';

export interface AllDevicesView {
  total: { requests: number; usd: number };
  self: { requests: number; usd: number };
  /** The other devices listed, with when each last wrote. */
  devices: { name: string; updatedAt: number }[];
  error: OtherDevices['error'];
}

/** Null until another device has reported this month (or a sync error is to be shown). */
export async function readAllDevices(db: PaceDB, now: number): Promise<AllDevicesView | null> {
  const [limits, others, own] = await Promise.all([readLimits(db), readOtherDevices(db), readOwnMonths(db, now)]);
  if (!others) return null;
  const key = monthWindow(now, limits.monthStart).key;
  const theirs = othersMonth(others, key);
  const mine = own[key] ?? NO_MONTH;
  if (others.devices.length === 0 && theirs.requests === 0 && theirs.usd === 0 && !others.error) return null;
  return {
    total: { requests: mine.requests + theirs.requests, usd: mine.usd + theirs.usd },
    self: { requests: mine.requests, usd: mine.usd },
    devices: others.devices.map((d) => ({ name: d.name, updatedAt: d.updatedAt })),
    error: others.error,
  };
}

/** "This month on all your devices: 3,412 requests, $14.20 (this device 1,120, $4.90)". */
export function allDevicesText(view: AllDevicesView): string {
  const { total, self } = view;
  return (
    `This month on all your devices: ${formatCount(total.requests)} request${total.requests === 1 ? '' : 's'}, ` +
    `${formatUsd(total.usd)} (this device ${formatCount(self.requests)}, ${formatUsd(self.usd)})`
  );
}

/** "just now", "4 min ago", "3 h ago", "2 days ago". */
export function heardAgo(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  const days = Math.floor(s / 86_400);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}

/** "Laptop: 4 min ago; Desktop: just now". */
export function lastHeardText(view: AllDevicesView, now: number): string {
  return view.devices.map((d) => `${d.name}: ${heardAgo(d.updatedAt, now)}`).join('; ');
}
