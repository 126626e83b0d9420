/**
 * This device in browser sync, for the background: it writes this device's own entry
 * (lib/sync/device-entry.ts) into `storage.sync` from the local count, which stays the truth, and
 * keeps what the other devices wrote in IndexedDB (lib/sync/devices-store.ts), where admission,
 * the badge, the alerts and the pages read it.
 *
 * Within `storage.sync`'s quotas (120 writes a minute, 1,800 an hour, 8 KB an item): a change is
 * written at most once every `COALESCE_MS`, or after `URGENT_GAP_MS` when this device's or the
 * sum's requests or budget are near their limit (90%); the entry carries only this month and the
 * one before; a write that fails (a quota) is shown and tried again later with a growing wait, and
 * the entry is always rewritten whole from the local count, so nothing is lost.
 */
import Dexie from 'dexie';
import { readQuotaState } from '../limits/limiter-store';
import { readBudgetView } from '../limits/budget-store';
import type { PaceDB } from '../storage/db';
import type { DeviceReport, OtherDevices } from '../storage/rows';
import { warn as defaultWarn } from '../warn';
import {
  buildEntry,
  cleanDeviceName,
  DEVICE_PREFIX,
  forget,
  FORGOTTEN_KEY,
  otherDevices,
  parseEntry,
  parseForgotten,
  pruneForgotten,
  sameEntry,
  type DeviceEntry,
} from './device-entry';
import { readOtherDevices, readOwnMonths, saveOtherDevices } from './devices-store';

/** A change waits this long for more before it is written. */
const COALESCE_MS = 5_000;
/** Near a limit a change goes at once, but never two writes closer than this (24 a minute, 1,440 an hour at most). */
export const URGENT_GAP_MS = 2_500;
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 10 * 60_000;
/** Share of a limit from which this device's changes are written at once. */
const NEAR = 0.9;

/** The parts of `storage.sync` (WXT's `browser.storage.sync`) used here. */
export interface SyncArea {
  get(keys?: string | string[] | null): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string | string[]): Promise<void>;
}

export interface DeviceIdentity {
  id: string;
  name: string;
}

/** Where this device's id and name are kept: `storage.local`, never synced (lib/sync/sync-items.ts). */
export interface IdentityStore {
  get(): Promise<DeviceIdentity | null>;
  set(identity: DeviceIdentity): Promise<void>;
}

export interface DeviceSyncDeps {
  db: PaceDB;
  area: SyncArea;
  identity: IdentityStore;
  now: () => number;
  /** The first name of this device (e.g. "Chrome on Linux"). */
  defaultName: () => string;
  newId?: () => string;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
  /** The other devices' figures changed: what admission decides on changed with them. */
  onOthers?: () => void;
  warn?: (message: string, detail?: unknown) => void;
}

export interface DevicesList {
  self: DeviceIdentity;
  others: DeviceReport[];
  error: OtherDevices['error'];
}

export function createDeviceSync(deps: DeviceSyncDeps) {
  const { db, area, now } = deps;
  const setTimer = deps.setTimer ?? ((run, ms) => setTimeout(run, ms));
  const clearTimer = deps.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  const log = deps.warn ?? defaultWarn;
  const warned = new Set<string>();

  let identity: Promise<DeviceIdentity> | null = null;
  let lastWritten: DeviceEntry | null = null;
  let lastWriteAt = -Infinity;
  let retryMs = 0;
  let error: OtherDevices['error'] = null;
  /** Why the settings cannot go to sync (./settings-sync.ts), shown when this device's entry has no error of its own. */
  let settingsError: OtherDevices['error'] = null;
  const shownError = (): OtherDevices['error'] => error ?? settingsError;
  let timer: { handle: unknown; at: number } | null = null;
  let flushing: Promise<void> | null = null;
  let again = false;

  function self(): Promise<DeviceIdentity> {
    identity ??= (async () => {
      const kept = await deps.identity.get();
      if (kept) return kept;
      const made = { id: (deps.newId ?? (() => crypto.randomUUID()))(), name: deps.defaultName() };
      await deps.identity.set(made);
      return made;
    })();
    return identity;
  }

  function warnOnce(problem: string) {
    if (warned.has(problem)) return;
    warned.add(problem);
    log(`skipped in browser sync: ${problem}`);
  }

  /** Reads the whole sync area and keeps the other devices' figures in IndexedDB. */
  async function refresh(): Promise<void> {
    const [me, items, before] = await Promise.all([self(), area.get(null), readOtherDevices(db)]);
    const { others, problems } = otherDevices(items, me.id, now());
    problems.forEach(warnOnce);
    const next: OtherDevices = { ...others, error: shownError() };
    if (JSON.stringify(next) === JSON.stringify(before)) return;
    await saveOtherDevices(db, next);
    if (JSON.stringify(next.months) !== JSON.stringify(before?.months ?? {})) deps.onOthers?.();
  }

  async function showError(next: OtherDevices['error']) {
    error = next;
    const stored = await readOtherDevices(db);
    await saveOtherDevices(db, {
      months: stored?.months ?? {},
      devices: stored?.devices ?? [],
      error: shownError(),
    });
  }

  function schedule(delay: number) {
    const at = now() + Math.max(0, delay);
    if (timer && timer.at <= at) return;
    if (timer) clearTimer(timer.handle);
    timer = {
      at,
      handle: setTimer(() => void flush().catch((e: unknown) => log('could not write to sync', e)), Math.max(0, delay)),
    };
  }

  /** Writes this device's entry from the local count, if it changed; a failure is shown and tried again later. */
  async function write(): Promise<void> {
    timer = null;
    const me = await self();
    const t = now();
    const entry = buildEntry(me.name, await readOwnMonths(db, t), t);
    if (sameEntry(lastWritten, entry)) return;
    try {
      await area.set({ [DEVICE_PREFIX + me.id]: entry });
      lastWritten = entry;
      lastWriteAt = t;
      retryMs = 0;
      if (error) await showError(null);
    } catch (err) {
      retryMs = Math.min(MAX_RETRY_MS, Math.max(FIRST_RETRY_MS, retryMs * 2));
      const message = err instanceof Error ? err.message : String(err);
      log('could not write this device to browser sync; trying again later', message);
      await showError({ message: `Browser sync refused this device's figures (${message}). Pace tries again.`, at: t });
      schedule(retryMs);
    }
  }

  function flush(): Promise<void> {
    if (flushing) {
      again = true;
      return flushing;
    }
    flushing = write().finally(() => {
      flushing = null;
      if (again) {
        again = false;
        schedule(COALESCE_MS);
      }
    });
    return flushing;
  }

  /** Whether this device or all of them together are near the month's requests or budget. */
  async function near(t: number): Promise<boolean> {
    const [{ limits, state }, budget] = await Promise.all([readQuotaState(db, t), readBudgetView(db, t)]);
    if (state.monthCount >= limits.perMonth * NEAR) return true;
    const month = budget?.periods.find((p) => p.period === 'month');
    return month !== undefined && month.settled + month.reserved >= month.limit * NEAR;
  }

  let checking = false;
  let recheck = false;
  /** Something this device counts changed: its entry is written soon (at once near a limit). Never rejects. */
  async function changed(): Promise<void> {
    // A failed write's retry is already set and rewrites the entry whole; a write due within the gap cannot come sooner.
    if (retryMs > 0 || (timer && timer.at - now() <= URGENT_GAP_MS)) return;
    if (checking) {
      recheck = true;
      return;
    }
    checking = true;
    try {
      const t = now();
      // Called from a write's watcher, inside the writer's transaction: these reads are not part of it.
      const urgent = await Dexie.ignoreTransaction(() => near(t));
      const gap = lastWriteAt + URGENT_GAP_MS - t;
      schedule(urgent ? gap : Math.max(COALESCE_MS, gap));
    } catch (err) {
      log('could not look at the month for browser sync', err);
      schedule(COALESCE_MS);
    } finally {
      checking = false;
      if (recheck) {
        recheck = false;
        void changed();
      }
    }
  }

  return {
    /** At the worker's start: this device's id, the others' figures, and its entry if the local count moved on. */
    async start(): Promise<void> {
      const me = await self();
      const items = await area.get([DEVICE_PREFIX + me.id, FORGOTTEN_KEY]);
      const mine = parseEntry(items[DEVICE_PREFIX + me.id]);
      lastWritten = typeof mine === 'string' ? null : mine;
      // Months that turned leave the forgotten list (one write, only when something goes).
      const { forgotten } = parseForgotten(items[FORGOTTEN_KEY]);
      const pruned = pruneForgotten(forgotten, now());
      if (Object.keys(pruned).length !== Object.keys(forgotten).length) await area.set({ [FORGOTTEN_KEY]: pruned });
      await refresh();
      await flush();
    },
    /** A write to this device's database: its counts may have moved. */
    changed,
    /** `storage.sync` changed (another device's entry arrived, or this one's was written). */
    syncChanged: (): Promise<void> => refresh(),
    /** Writes what is pending now (tests; the worker's timer does it otherwise). */
    flush,
    /** Resolves once a write under way is done (tests). */
    settled: (): Promise<void> => flushing ?? Promise.resolve(),
    async rename(name: string): Promise<DeviceIdentity> {
      const clean = cleanDeviceName(name);
      if (clean === null) throw new Error('A device name cannot be empty.');
      const next = { ...(await self()), name: clean };
      await deps.identity.set(next);
      identity = Promise.resolve(next);
      await flush();
      return next;
    },
    /**
     * Hides device `id`; its figures stay in the month's total until the month turns. Its entry
     * stays in sync (it ages out with its months): the forgotten list is one shared item that
     * another device's stale copy can overwrite, so it only says what is hidden, and never holds
     * the only copy of a device's figures.
     */
    async forget(id: string): Promise<void> {
      const me = await self();
      if (id === me.id) throw new Error('This device cannot be forgotten here.');
      const items = await area.get([DEVICE_PREFIX + id, FORGOTTEN_KEY]);
      const entry = parseEntry(items[DEVICE_PREFIX + id]);
      const known = (await readOtherDevices(db))?.devices.find((d) => d.id === id);
      const device = typeof entry === 'string' ? known : entry;
      if (!device) throw new Error('No such device.');
      const { forgotten } = parseForgotten(items[FORGOTTEN_KEY]);
      await area.set({ [FORGOTTEN_KEY]: forget(forgotten, id, device, now()) });
      await refresh();
    },
    /** Why the settings cannot go to sync, or null once they can: shown where the sync warning is. */
    async settingsProblem(message: string | null): Promise<void> {
      const next = message === null ? null : { message, at: now() };
      if (next?.message === settingsError?.message) return;
      settingsError = next;
      await showError(error);
    },
    async list(): Promise<DevicesList> {
      const [me, stored] = await Promise.all([self(), readOtherDevices(db)]);
      return { self: me, others: stored?.devices ?? [], error: stored?.error ?? null };
    },
    /** Clears the pending timer (tests). */
    stop(): void {
      if (timer) clearTimer(timer.handle);
      timer = null;
    },
  };
}

export type DeviceSync = ReturnType<typeof createDeviceSync>;
