import { afterEach, describe, expect, it } from 'vitest';
import { monthKeys, monthWindow } from '@/lib/limits/month-window';

const originalTz = process.env.TZ;
afterEach(() => {
  process.env.TZ = originalTz;
});

describe('monthWindow', () => {
  it('UTC: from 00:00 UTC on the 1st to the next 1st', () => {
    expect(monthWindow(Date.UTC(2026, 10, 27, 15), 'utc')).toEqual({
      start: Date.UTC(2026, 10, 1),
      end: Date.UTC(2026, 11, 1),
      key: 'utc:2026-11',
    });
    expect(monthWindow(Date.UTC(2026, 11, 1), 'utc').key).toBe('utc:2026-12');
    expect(monthWindow(Date.UTC(2026, 11, 1) - 1, 'utc').key).toBe('utc:2026-11');
  });

  it('local: December to January in a time zone ahead of UTC', () => {
    process.env.TZ = 'Asia/Tokyo';
    // 16:00 UTC on 31 Dec is already 1 Jan in Tokyo.
    const w = monthWindow(Date.UTC(2026, 11, 31, 16), 'local');
    expect(w.key).toBe('local:2027-01');
    expect(w.start).toBe(Date.UTC(2026, 11, 31, 15));
    expect(monthWindow(Date.UTC(2026, 11, 31, 16), 'utc').key).toBe('utc:2026-12');
  });

  it('local: a month with a daylight-saving change still starts and ends at local midnight', () => {
    process.env.TZ = 'America/New_York';
    const march = monthWindow(Date.UTC(2026, 2, 15, 12), 'local');
    expect(march.start).toBe(Date.UTC(2026, 2, 1, 5)); // EST, UTC-5
    expect(march.end).toBe(Date.UTC(2026, 3, 1, 4)); // EDT, UTC-4
    expect(march.end - march.start).toBe(31 * 86_400_000 - 3_600_000);
    const november = monthWindow(Date.UTC(2026, 10, 15), 'local');
    expect(november.end - november.start).toBe(30 * 86_400_000 + 3_600_000);
  });

  it('a send counts under both month keys, so switching the mode keeps exact counts', () => {
    process.env.TZ = 'Asia/Tokyo';
    expect(monthKeys(Date.UTC(2026, 11, 31, 16))).toEqual(['utc:2026-12', 'local:2027-01']);
  });
});
