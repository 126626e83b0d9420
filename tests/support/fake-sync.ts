/**
 * An in-memory `storage.sync` shared by several test devices, as browser sync would make it: every
 * write is delivered to every device's `onChanged` listeners (after the write resolves, as the
 * browser does), and Chrome's quotas are enforced with Chrome's messages (100 KB in all, 8 KB an
 * item, 120 writes a minute, 1,800 an hour), on the test's clock. Every write is recorded, with its
 * time and items, so a test can count them and read what was ever written.
 */
import type { SyncEdges } from '@/lib/background/app';
import type { DeviceIdentity } from '@/lib/sync/device-sync';

const QUOTA_BYTES = 102_400;
const QUOTA_BYTES_PER_ITEM = 8_192;
export const MAX_WRITE_OPERATIONS_PER_MINUTE = 120;
export const MAX_WRITE_OPERATIONS_PER_HOUR = 1_800;

type Changes = Record<string, { oldValue?: unknown; newValue?: unknown }>;

/** As Chrome counts it: the UTF-8 bytes of the key and of the value's JSON. */
const size = (key: string, value: unknown) => new TextEncoder().encode(key + JSON.stringify(value)).length;

export interface FakeSync {
  items: Map<string, unknown>;
  /** Every successful write (set or remove), in order. */
  writes: { at: number; keys: string[]; items: Record<string, unknown> }[];
  /** Writes refused for a quota. */
  refused: { at: number; message: string }[];
  /** The edges for one device: its own id store and settings switch, this shared area. */
  device(options?: {
    identity?: DeviceIdentity;
    setTimer?: SyncEdges['setTimer'];
    clearTimer?: SyncEdges['clearTimer'];
  }): SyncEdges;
  /** Puts items as another device's sync would deliver them (no quota: not this browser's write). */
  deliver(items: Record<string, unknown>): Promise<void>;
  /** Makes the next `n` writes fail as a quota would. */
  failNext(n: number, message?: string): void;
}

export function createFakeSync(now: () => number = Date.now): FakeSync {
  const items = new Map<string, unknown>();
  const listeners = new Set<(changes: Changes) => void>();
  const writes: FakeSync['writes'] = [];
  const refused: FakeSync['refused'] = [];
  let failing = 0;
  let failMessage = '';

  const notify = async (changes: Changes) => {
    await Promise.resolve();
    for (const listener of listeners) listener(structuredClone(changes));
  };

  function checkWrite(next: Map<string, unknown>, keys: string[]): void {
    const t = now();
    if (failing > 0) {
      failing -= 1;
      throw new Error(failMessage);
    }
    for (const key of keys)
      if (next.has(key) && size(key, next.get(key)) > QUOTA_BYTES_PER_ITEM)
        throw new Error('QUOTA_BYTES_PER_ITEM quota exceeded');
    const total = [...next].reduce((sum, [k, v]) => sum + size(k, v), 0);
    if (total > QUOTA_BYTES) throw new Error('QUOTA_BYTES quota exceeded');
    if (writes.filter((w) => w.at > t - 60_000).length >= MAX_WRITE_OPERATIONS_PER_MINUTE)
      throw new Error('MAX_WRITE_OPERATIONS_PER_MINUTE quota exceeded');
    if (writes.filter((w) => w.at > t - 3_600_000).length >= MAX_WRITE_OPERATIONS_PER_HOUR)
      throw new Error('MAX_WRITE_OPERATIONS_PER_HOUR quota exceeded');
  }

  const area: SyncEdges['area'] = {
    async get(keys) {
      const wanted = keys === null || keys === undefined ? [...items.keys()] : typeof keys === 'string' ? [keys] : keys;
      return Object.fromEntries(wanted.filter((k) => items.has(k)).map((k) => [k, structuredClone(items.get(k))]));
    },
    async set(values) {
      const next = new Map(items);
      for (const [k, v] of Object.entries(values)) next.set(k, structuredClone(v));
      try {
        checkWrite(next, Object.keys(values));
      } catch (err) {
        refused.push({ at: now(), message: (err as Error).message });
        throw err;
      }
      const changes: Changes = {};
      for (const [k, v] of Object.entries(values)) {
        changes[k] = { oldValue: items.get(k), newValue: structuredClone(v) };
        items.set(k, structuredClone(v));
      }
      writes.push({ at: now(), keys: Object.keys(values), items: structuredClone(values) });
      void notify(changes);
    },
    async remove(keys) {
      const list = typeof keys === 'string' ? [keys] : keys;
      checkWrite(new Map([...items].filter(([k]) => !list.includes(k))), []);
      const changes: Changes = {};
      for (const k of list) {
        if (!items.has(k)) continue;
        changes[k] = { oldValue: items.get(k) };
        items.delete(k);
      }
      writes.push({ at: now(), keys: list, items: {} });
      void notify(changes);
    },
  };

  return {
    items,
    writes,
    refused,
    device(options = {}) {
      let identity = options.identity ?? null;
      let state = { enabled: true, at: 0 };
      return {
        area,
        onChanged: (listener) => void listeners.add(listener),
        identity: { get: async () => identity, set: async (next) => void (identity = next) },
        settingsState: { get: async () => state, set: async (next) => void (state = next) },
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36',
        setTimer: options.setTimer,
        clearTimer: options.clearTimer,
      };
    },
    async deliver(values) {
      const changes: Changes = {};
      for (const [k, v] of Object.entries(values)) {
        changes[k] = { oldValue: items.get(k), newValue: structuredClone(v) };
        items.set(k, structuredClone(v));
      }
      await notify(changes);
    },
    failNext(n, message = 'MAX_WRITE_OPERATIONS_PER_MINUTE quota exceeded') {
      failing = n;
      failMessage = message;
    },
  };
}
