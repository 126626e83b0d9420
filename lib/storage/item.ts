/**
 * Versioned items in extension storage: `defineItem('local:settings', { fallback, version, migrations })`
 * gives `getValue`, `setValue`, `removeValue` and `watch`. It keeps @wxt-dev/storage's layout (the
 * value under its key, the version under `key$` as `{ v }`) and its rules: migrations run once when
 * the item is defined and every read or write waits for them; a fresh item's first write stores
 * its version; a watcher hears real changes only, with the fallback for a missing value. It is the
 * part of that package Pace uses, without the other 9 KB the worker would load at every start.
 */
import { browser } from 'wxt/browser';
import { isObject } from '../is-object';

type Area = 'local' | 'session';

export interface StoredItem<T> {
  readonly key: string;
  readonly fallback: T;
  getValue(): Promise<T>;
  setValue(value: T): Promise<void>;
  removeValue(): Promise<void>;
  /** Calls `onChange` when the stored value changes; returns the function that stops it. */
  watch(onChange: (next: T, before: T) => void): () => void;
}

interface ItemOptions<T> {
  fallback: T;
  version?: number;
  /** Each takes the value of the version before it. */
  migrations?: Record<number, (old: never) => unknown>;
}

type Meta = Record<string, unknown>;
const asMeta = (meta: unknown): Meta => (isObject(meta) ? meta : {});

/** Deep equality of stored (JSON-like) values, as @wxt-dev/storage's watch compares them. */
export function sameStored(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (
    typeof a !== 'object' ||
    typeof b !== 'object' ||
    a === null ||
    b === null ||
    Array.isArray(a) !== Array.isArray(b)
  )
    return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return (
    keysA.length === keysB.length &&
    keysA.every((k) => Object.hasOwn(b, k) && sameStored((a as Meta)[k], (b as Meta)[k]))
  );
}

export function defineItem<T>(
  fullKey: `${Area}:${string}`,
  { fallback, version = 1, migrations }: ItemOptions<T>,
): StoredItem<T> {
  const [area, key] = fullKey.split(/:(.*)/s) as [Area, string];
  const metaKey = `${key}$`;
  const storage = () => browser.storage[area];
  const setMeta = async (meta: Meta) => {
    const existing = asMeta((await storage().get(metaKey))[metaKey]);
    await storage().set({ [metaKey]: { ...existing, ...meta } });
  };
  let needsVersion = false;

  async function migrate(): Promise<void> {
    const stored = await storage().get([key, metaKey]);
    const value: unknown = stored[key] ?? null;
    const meta = stored[metaKey] as Meta | null | undefined;
    needsVersion = value === null && meta?.v == null;
    if (value === null) return;
    const from = (meta?.v as number | undefined) ?? 1;
    if (from > version) throw new Error(`Version downgrade detected (v${from} -> v${version}) for "${fullKey}"`);
    if (from === version) return;
    let migrated = value;
    for (let to = from + 1; to <= version; to++) {
      try {
        migrated = (await (migrations?.[to] as ((old: unknown) => unknown) | undefined)?.(migrated)) ?? migrated;
      } catch (err) {
        throw new Error(`v${to} migration failed for "${fullKey}"`, { cause: err });
      }
    }
    await storage().set({ [key]: migrated, [metaKey]: { ...meta, v: version } });
  }

  const migrated =
    migrations === undefined
      ? Promise.resolve()
      : migrate().catch((err: unknown) => console.error(`[pace] migration failed for ${fullKey}`, err));

  return {
    key: fullKey,
    fallback,
    getValue: async () => {
      await migrated;
      return ((await storage().get(key))[key] as T | null | undefined) ?? fallback;
    },
    setValue: async (value) => {
      await migrated;
      const write = value == null ? storage().remove(key) : storage().set({ [key]: value });
      if (!needsVersion) return write;
      needsVersion = false;
      await Promise.all([write, setMeta({ v: version })]);
    },
    removeValue: async () => {
      await migrated;
      await storage().remove(key);
    },
    watch: (onChange) => {
      const listener = (changes: Record<string, { newValue?: unknown; oldValue?: unknown }>) => {
        const change = changes[key];
        if (change === undefined || sameStored(change.newValue, change.oldValue)) return;
        onChange((change.newValue as T | undefined) ?? fallback, (change.oldValue as T | undefined) ?? fallback);
      };
      storage().onChanged.addListener(listener);
      return () => storage().onChanged.removeListener(listener);
    },
  };
}
