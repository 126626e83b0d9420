/**
 * The month's use per device in browser sync (`storage.sync`), pure. Each device writes only its
 * own entry under `pace.device.<id>`: per month key (the limits' `utc:2026-12` / `local:2026-12`)
 * its requests, estimated dollars and tokens, and when it wrote. Nothing is merged: every device
 * reads the others' entries, checked field by field (a corrupt or foreign one is skipped with a
 * reason), and adds them to its own live count. Forgotten devices (`pace.forgotten`) are no longer
 * listed but their month still counts until it turns: forgetting never frees budget.
 */
import { isObject } from '../is-object';
import { monthKeys, monthWindow } from '../limits/month-window';
import type { DeviceMonth, DeviceReport, OtherDevices } from '../storage/rows';

export const DEVICE_PREFIX = 'pace.device.';
export const FORGOTTEN_KEY = 'pace.forgotten';
/** The entry's shape; an entry of another version is skipped. */
const ENTRY_VERSION = 1;
const MAX_NAME = 60;

export interface DeviceEntry {
  v: typeof ENTRY_VERSION;
  name: string;
  updatedAt: number;
  months: Record<string, DeviceMonth>;
}

export interface ForgottenDevice {
  name: string;
  forgottenAt: number;
  months: Record<string, DeviceMonth>;
}

export const NO_MONTH: DeviceMonth = { requests: 0, usd: 0, inputTokens: 0, outputTokens: 0 };

const count = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const MONTH_KEY = /^(utc|local):\d{4}-\d{2}$/;
const DEVICE_ID = /^[\w-]{1,64}$/;

/**
 * Whether `id` can be a device's id: a short word of letters, digits, `_` and `-`, and never the
 * name of a member every object has (`constructor`, `__proto__`, `toString`): such a key, looked
 * up in a plain object, would give that member instead of a device.
 */
function isDeviceId(id: string): boolean {
  return DEVICE_ID.test(id) && !(id in Object.prototype);
}

/** A device's chosen name, trimmed and capped; empty: null. */
export function cleanDeviceName(name: string): string | null {
  const trimmed = name.replace(/\s+/g, ' ').trim().slice(0, MAX_NAME);
  return trimmed === '' ? null : trimmed;
}

/** A first name from the user agent, e.g. "Chrome on Linux" or "Firefox on Windows". */
export function defaultDeviceName(userAgent: string): string {
  const browser = /Firefox\//.test(userAgent)
    ? 'Firefox'
    : /Edg\//.test(userAgent)
      ? 'Edge'
      : /OPR\//.test(userAgent)
        ? 'Opera'
        : /Chrom(e|ium)\//.test(userAgent)
          ? 'Chrome'
          : 'Browser';
  const os = /Windows/.test(userAgent)
    ? 'Windows'
    : /Mac OS X|Macintosh/.test(userAgent)
      ? 'macOS'
      : /CrOS/.test(userAgent)
        ? 'ChromeOS'
        : /Android/.test(userAgent)
          ? 'Android'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : null;
  return os ? `${browser} on ${os}` : browser;
}

/** The months kept in sync: this one and the one before, in both month modes. Older ones are pruned. */
export function keptMonths(now: number): Set<string> {
  const starts = [monthWindow(now, 'utc').start, monthWindow(now, 'local').start];
  return new Set([...monthKeys(now), ...starts.flatMap((start) => monthKeys(start - 1))]);
}

/**
 * The months read from the other devices: the kept ones and the next one, in both modes. Another
 * device may already count in the next month (its local month turned first, or its clock is ahead);
 * its figures wait there until this device's month turns.
 */
function readMonths(now: number): Set<string> {
  const ends = [monthWindow(now, 'utc').end, monthWindow(now, 'local').end];
  return new Set([...keptMonths(now), ...ends.flatMap((end) => monthKeys(end))]);
}

function parseMonths(value: unknown): Record<string, DeviceMonth> | string {
  if (!isObject(value)) return 'months is not an object';
  const out: Record<string, DeviceMonth> = {};
  for (const [key, m] of Object.entries(value)) {
    if (!MONTH_KEY.test(key)) return `month key ${JSON.stringify(key.slice(0, 20))} is not a month`;
    if (!isObject(m)) return `month ${key} is not an object`;
    for (const field of ['requests', 'usd', 'inputTokens', 'outputTokens'] as const)
      if (!count(m[field])) return `month ${key} ${field} is not a count`;
    out[key] = {
      requests: m.requests as number,
      usd: m.usd as number,
      inputTokens: m.inputTokens as number,
      outputTokens: m.outputTokens as number,
    };
  }
  return out;
}

/** A device's entry as read from sync, or why it is not one. */
export function parseEntry(value: unknown): DeviceEntry | string {
  if (!isObject(value)) return 'not an object';
  if (value.v !== ENTRY_VERSION) return `version ${String(value.v)} is not ${ENTRY_VERSION}`;
  if (typeof value.name !== 'string' || cleanDeviceName(value.name) === null) return 'name is not a name';
  if (!count(value.updatedAt)) return 'updatedAt is not a time';
  const months = parseMonths(value.months);
  if (typeof months === 'string') return months;
  return { v: ENTRY_VERSION, name: cleanDeviceName(value.name)!, updatedAt: value.updatedAt, months };
}

/** The forgotten devices' list as read from sync; entries that do not parse are dropped with their reason. */
export function parseForgotten(value: unknown): { forgotten: Record<string, ForgottenDevice>; problems: string[] } {
  // No prototype: a lookup by an id that is not in the list gives undefined, whatever the id.
  const forgotten = Object.create(null) as Record<string, ForgottenDevice>;
  const problems: string[] = [];
  if (value === undefined) return { forgotten, problems };
  if (!isObject(value)) return { forgotten, problems: ['the forgotten devices are not an object'] };
  for (const [id, f] of Object.entries(value)) {
    if (!isDeviceId(id)) {
      problems.push(`forgotten device ${JSON.stringify(id.slice(0, 40))}: not a device id`);
      continue;
    }
    const months = isObject(f) ? parseMonths(f.months) : 'not an object';
    if (!isObject(f) || typeof f.name !== 'string' || !count(f.forgottenAt) || typeof months === 'string') {
      problems.push(`forgotten device ${id.slice(0, 40)}: ${typeof months === 'string' ? months : 'bad fields'}`);
      continue;
    }
    forgotten[id] = { name: f.name, forgottenAt: f.forgottenAt, months };
  }
  return { forgotten, problems };
}

/** This device's entry: its figures of the kept months only (so it stays far below the 8 KB an item). */
export function buildEntry(name: string, months: Record<string, DeviceMonth>, now: number): DeviceEntry {
  const kept = keptMonths(now);
  return {
    v: ENTRY_VERSION,
    name,
    updatedAt: now,
    months: Object.fromEntries(Object.entries(months).filter(([k]) => kept.has(k))),
  };
}

/** Whether two entries hold the same figures and name (a rewrite would change nothing but the time). */
export function sameEntry(a: DeviceEntry | null, b: DeviceEntry): boolean {
  return a !== null && a.name === b.name && JSON.stringify(a.months) === JSON.stringify(b.months);
}

function add(a: DeviceMonth, b: DeviceMonth): DeviceMonth {
  return {
    requests: a.requests + b.requests,
    usd: a.usd + b.usd,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
  };
}

function larger(a: DeviceMonth | undefined, b: DeviceMonth | undefined): DeviceMonth {
  if (!a) return b ?? NO_MONTH;
  if (!b) return a;
  return {
    requests: Math.max(a.requests, b.requests),
    usd: Math.max(a.usd, b.usd),
    inputTokens: Math.max(a.inputTokens, b.inputTokens),
    outputTokens: Math.max(a.outputTokens, b.outputTokens),
  };
}

/**
 * The other devices from everything in sync (`items`: the whole area), seen from device `selfId`
 * at `now`: the month sums that count (forgotten devices too, by the larger of their figures at
 * forgetting and any entry still there), the devices to list, and what was skipped and why.
 */
export function otherDevices(
  items: Record<string, unknown>,
  selfId: string,
  now: number,
): { others: Omit<OtherDevices, 'error'>; problems: string[] } {
  const { forgotten, problems } = parseForgotten(items[FORGOTTEN_KEY]);
  const kept = readMonths(now);
  const entries = new Map<string, DeviceEntry>();
  for (const [key, value] of Object.entries(items)) {
    if (!key.startsWith(DEVICE_PREFIX)) continue;
    const id = key.slice(DEVICE_PREFIX.length);
    if (id === selfId) continue;
    if (!isDeviceId(id)) {
      problems.push(`device entry ${key.slice(0, 60)}: not a device id`);
      continue;
    }
    const entry = parseEntry(value);
    if (typeof entry === 'string') problems.push(`device entry ${key.slice(0, 60)}: ${entry}`);
    else entries.set(id, entry);
  }
  const months: Record<string, DeviceMonth> = {};
  const ids = new Set([...entries.keys(), ...Object.keys(forgotten).filter((id) => id !== selfId)]);
  for (const id of ids) {
    const entry = entries.get(id);
    const gone = Object.hasOwn(forgotten, id) ? forgotten[id] : undefined;
    for (const key of kept) {
      const figures = larger(entry?.months[key], gone?.months[key]);
      if (figures !== NO_MONTH) months[key] = add(months[key] ?? NO_MONTH, figures);
    }
  }
  // A forgotten device that wrote again after it was forgotten is alive: it is listed again.
  const devices: DeviceReport[] = [...entries]
    .filter(([id, e]) => !Object.hasOwn(forgotten, id) || e.updatedAt > forgotten[id]!.forgottenAt)
    .map(([id, e]) => ({ id, name: e.name, updatedAt: e.updatedAt, months: e.months }))
    .sort((a, b) => b.updatedAt - a.updatedAt);
  return { others: { months, devices }, problems };
}

/** The forgotten list with `id` added (its figures at forgetting) and months that have turned pruned. */
export function forget(
  forgotten: Record<string, ForgottenDevice>,
  id: string,
  device: Pick<DeviceReport, 'name' | 'months'>,
  now: number,
): Record<string, ForgottenDevice> {
  return pruneForgotten({ ...forgotten, [id]: { name: device.name, forgottenAt: now, months: device.months } }, now);
}

/** Forgotten devices whose figures are all of months that have turned are dropped; the others keep their kept months. */
export function pruneForgotten(
  forgotten: Record<string, ForgottenDevice>,
  now: number,
): Record<string, ForgottenDevice> {
  const current = new Set(monthKeys(now));
  const kept = keptMonths(now);
  return Object.fromEntries(
    Object.entries(forgotten)
      .filter(([, f]) => Object.keys(f.months).some((k) => current.has(k)))
      .map(([id, f]) => [
        id,
        { ...f, months: Object.fromEntries(Object.entries(f.months).filter(([k]) => kept.has(k))) },
      ]),
  );
}

/** The other devices' figures for the month `now` falls in, by the limits' month mode. */
export function othersMonth(others: Pick<OtherDevices, 'months'> | null, key: string): DeviceMonth {
  return others?.months[key] ?? NO_MONTH;
}
