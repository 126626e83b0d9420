import { describe, expect, it } from 'vitest';
import {
  buildEntry,
  defaultDeviceName,
  forget,
  otherDevices,
  othersMonth,
  parseEntry,
  pruneForgotten,
} from '@/lib/sync/device-entry';
import { allDevicesText } from '@/lib/sync/all-devices';

const NOW = Date.UTC(2026, 11, 8, 12);
const m = (requests: number, usd = 0) => ({ requests, usd, inputTokens: 0, outputTokens: 0 });

describe('device entries', () => {
  it('names a device from its user agent', () => {
    expect(defaultDeviceName('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36')).toBe(
      'Chrome on Linux',
    );
    expect(defaultDeviceName('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:153.0) Gecko/20100101 Firefox/153.0')).toBe(
      'Firefox on Windows',
    );
  });

  it('keeps this month and the one before, in both modes, and drops older ones', () => {
    const entry = buildEntry(
      'Laptop',
      { 'utc:2026-12': m(3), 'utc:2026-11': m(2), 'utc:2026-10': m(1), 'local:2026-12': m(3) },
      NOW,
    );
    expect(Object.keys(entry.months).sort()).toEqual(['local:2026-12', 'utc:2026-11', 'utc:2026-12']);
  });

  it('refuses entries field by field', () => {
    expect(parseEntry({ v: 1, name: 'A', updatedAt: NOW, months: { 'utc:2026-12': m(1) } })).toMatchObject({
      name: 'A',
    });
    expect(parseEntry({ v: 1, name: '  ', updatedAt: NOW, months: {} })).toBe('name is not a name');
    expect(parseEntry({ v: 1, name: 'A', updatedAt: NOW, months: { december: m(1) } })).toMatch(/is not a month/);
    expect(
      parseEntry({ v: 1, name: 'A', updatedAt: NOW, months: { 'utc:2026-12': { ...m(1), usd: Infinity } } }),
    ).toMatch(/usd is not a count/);
  });

  it('sums the others, counts a forgotten device by the larger of its figures, and prunes it when its month has turned', () => {
    const items = {
      'pace.device.me': { v: 1, name: 'Me', updatedAt: NOW, months: { 'utc:2026-12': m(100, 9) } },
      'pace.device.b': { v: 1, name: 'B', updatedAt: NOW - 1000, months: { 'utc:2026-12': m(5, 1) } },
      'pace.forgotten': forget({}, 'c', { name: 'C', months: { 'utc:2026-12': m(7, 2) } }, NOW - 5000),
    };
    const { others, problems } = otherDevices(items, 'me', NOW);
    expect(problems).toEqual([]);
    expect(others.months['utc:2026-12']).toEqual(m(12, 3));
    expect(others.devices.map((d) => d.name)).toEqual(['B']);
    const forgotten = forget({}, 'c', { name: 'C', months: { 'utc:2026-12': m(7, 2) } }, NOW);
    expect(Object.keys(pruneForgotten(forgotten, Date.UTC(2027, 0, 2)))).toEqual([]);
    expect(Object.keys(pruneForgotten(forgotten, NOW))).toEqual(['c']);
  });

  it('ignores entries and forgotten devices named after members every object has; the real devices still count', () => {
    const entry = (requests: number) => ({ v: 1, name: 'X', updatedAt: NOW, months: { 'utc:2026-12': m(requests) } });
    // Parsed from JSON, as sync gives them: `__proto__` is then a key of its own, not the prototype.
    const items = JSON.parse(
      JSON.stringify({
        'pace.device.b': entry(5),
        'pace.device.constructor': entry(100),
        'pace.device.toString': entry(100),
        'pace.device.bad id!': entry(100),
        'pace.forgotten': {
          c: { name: 'C', forgottenAt: NOW, months: { 'utc:2026-12': m(7) } },
          constructor: { name: 'K', forgottenAt: NOW, months: { 'utc:2026-12': m(100) } },
        },
      }),
    ) as Record<string, unknown>;
    items['pace.device.__proto__'] = entry(100);
    items['pace.forgotten'] = JSON.parse(
      `{"__proto__": {"name": "P", "forgottenAt": ${NOW}, "months": {"utc:2026-12": {"requests": 100, "usd": 0, "inputTokens": 0, "outputTokens": 0}}}, ${JSON.stringify(items['pace.forgotten']).slice(1)}`,
    ) as unknown;
    const { others, problems } = otherDevices(items, 'me', NOW);
    expect(others.months['utc:2026-12']).toEqual(m(12));
    expect(others.devices.map((d) => d.id)).toEqual(['b']);
    expect(problems).toHaveLength(6);
    expect(problems.every((p) => p.endsWith('not a device id'))).toBe(true);
  });

  it("keeps another device's figures for the next month, and counts them once this device's month turns", () => {
    const items = {
      'pace.device.b': { v: 1, name: 'B', updatedAt: NOW, months: { 'utc:2027-01': m(4, 1), 'utc:2026-12': m(2) } },
    };
    // Read on 31 December: B's clock (or its local month) is already in January.
    const { others } = otherDevices(items, 'me', Date.UTC(2026, 11, 31, 23, 59));
    expect(othersMonth(others, 'utc:2026-12')).toEqual(m(2));
    // This device's month turns, and B writes nothing more: what was read counts under January's key.
    expect(othersMonth(others, 'utc:2027-01')).toEqual(m(4, 1));
    expect(othersMonth(otherDevices(items, 'me', Date.UTC(2027, 0, 1, 0, 1)).others, 'utc:2027-01')).toEqual(m(4, 1));
  });

  it('says the month on all devices', () => {
    expect(
      allDevicesText({
        total: { requests: 3412, usd: 14.2 },
        self: { requests: 1120, usd: 4.9 },
        devices: [],
        error: null,
      }),
    ).toBe('This month on all your devices: 3,412 requests, $14.20 (this device 1,120, $4.90)');
  });
});
