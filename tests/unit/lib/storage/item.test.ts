import { describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { defineItem, sameStored } from '@/lib/storage/item';

describe('a stored item', () => {
  it('reads the fallback until a value is written, and again once it is removed', async () => {
    const item = defineItem<string[]>('local:list', { fallback: [] });
    expect(await item.getValue()).toEqual([]);
    await item.setValue(['a']);
    expect(await fakeBrowser.storage.local.get('list')).toEqual({ list: ['a'] });
    await item.removeValue();
    expect(await item.getValue()).toEqual([]);
    expect(await fakeBrowser.storage.local.get(null)).toEqual({});
  });

  it('keeps session items in storage.session', async () => {
    const item = defineItem<string | null>('session:key', { fallback: null });
    await item.setValue('k');
    expect(await fakeBrowser.storage.session.get('key')).toEqual({ key: 'k' });
    expect(await fakeBrowser.storage.local.get(null)).toEqual({});
  });

  it('runs the migrations from the stored version before any read, and stores the new version', async () => {
    await fakeBrowser.storage.local.set({ prefs: { a: 1 }, prefs$: { v: 1 } });
    const item = defineItem<{ a: number; b: number; c: number }>('local:prefs', {
      fallback: { a: 0, b: 0, c: 0 },
      version: 3,
      migrations: {
        2: (old: { a: number }) => ({ ...old, b: 2 }),
        3: (old: { a: number; b: number }) => ({ ...old, c: 3 }),
      },
    });
    expect(await item.getValue()).toEqual({ a: 1, b: 2, c: 3 });
    expect(await fakeBrowser.storage.local.get('prefs$')).toEqual({ prefs$: { v: 3 } });
  });

  it('takes a value with no version as version 1, and leaves a current one alone', async () => {
    await fakeBrowser.storage.local.set({ old: 'x', current: 'y', current$: { v: 2 } });
    const up = (old: string) => `${old}!`;
    const old = defineItem('local:old', { fallback: '', version: 2, migrations: { 2: up } });
    const current = defineItem('local:current', { fallback: '', version: 2, migrations: { 2: up } });
    expect([await old.getValue(), await current.getValue()]).toEqual(['x!', 'y']);
  });

  it('writes the version with the first value of a fresh migrated item, so no migration runs on it later', async () => {
    const item = defineItem('local:fresh', { fallback: 0, version: 4, migrations: { 4: (old: number) => old + 1 } });
    await item.setValue(7);
    expect(await fakeBrowser.storage.local.get(null)).toEqual({ fresh: 7, fresh$: { v: 4 } });
  });

  it('keeps the stored value when a migration fails or the stored version is newer', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    await fakeBrowser.storage.local.set({ broken: 'b', newer: 'n', newer$: { v: 5 } });
    const broken = defineItem('local:broken', {
      fallback: '',
      version: 2,
      migrations: {
        2: () => {
          throw new Error('bad');
        },
      },
    });
    const newer = defineItem('local:newer', { fallback: '', version: 2, migrations: {} });
    expect([await broken.getValue(), await newer.getValue()]).toEqual(['b', 'n']);
    expect(error.mock.calls.map((call) => String(call[1]))).toEqual([
      'Error: v2 migration failed for "local:broken"',
      'Error: Version downgrade detected (v5 -> v2) for "local:newer"',
    ]);
  });

  it('tells a watcher of real changes only, with the fallback for a missing value, until it stops', async () => {
    const item = defineItem<{ n: number[] } | null>('local:watched', { fallback: null });
    const seen: unknown[] = [];
    const stop = item.watch((next, before) => seen.push([next, before]));
    await item.setValue({ n: [1] });
    await fakeBrowser.storage.local.set({ watched: { n: [1] } });
    await fakeBrowser.storage.local.set({ other: 1 });
    await item.removeValue();
    stop();
    await item.setValue({ n: [2] });
    expect(seen).toEqual([
      [{ n: [1] }, null],
      [null, { n: [1] }],
    ]);
  });
});

describe('sameStored', () => {
  it('compares stored values deeply', () => {
    expect(sameStored({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] })).toBe(true);
    expect(sameStored({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameStored({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameStored([1, 2], { 0: 1, 1: 2 })).toBe(false);
    expect(sameStored(null, undefined)).toBe(false);
    expect(sameStored('1', 1)).toBe(false);
  });
});
