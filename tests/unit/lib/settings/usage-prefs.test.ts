import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkUsagePrefs,
  DEFAULT_USAGE_PREFS,
  MAX_CACHE_HOURS,
  MAX_RETENTION_DAYS,
  MIN_RETENTION_DAYS,
} from '@/lib/settings/usage-prefs';

const alerts = DEFAULT_USAGE_PREFS.alerts;

describe('checkUsagePrefs', () => {
  it('accepts the defaults and a cache turned off', () => {
    expect(checkUsagePrefs({ cacheHours: '24', retentionDays: '365', alerts })).toEqual({
      ok: true,
      value: DEFAULT_USAGE_PREFS,
    });
    expect(checkUsagePrefs({ cacheHours: ' 0 ', retentionDays: 31, alerts: { ...alerts, at95: false } })).toEqual({
      ok: true,
      value: { cacheHours: 0, retentionDays: 31, alerts: { ...alerts, at95: false } },
    });
  });

  it('refuses each bad field with its own message', () => {
    const r = checkUsagePrefs({ cacheHours: '-3', retentionDays: '2.5', alerts });
    expect(r).toEqual({
      ok: false,
      errors: {
        cacheHours: `The cache lifetime in hours (0 turns the cache off) must be between 0 and ${MAX_CACHE_HOURS} (got -3).`,
        retentionDays: 'How many days of usage detail to keep must be a whole number, not "2.5".',
      },
    });
    const empty = checkUsagePrefs({ cacheHours: '', retentionDays: '7', alerts });
    expect(empty).toMatchObject({
      ok: false,
      errors: { cacheHours: 'Enter the cache lifetime in hours (0 turns the cache off).' },
    });
    expect(empty.ok === false && empty.errors.retentionDays).toContain(`between ${MIN_RETENTION_DAYS}`);
  });

  it('never throws; an accepted value is in range and accepted again unchanged', () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer({ min: -1e6, max: 1e6 }).map(String),
      fc.double().map(String),
      fc.integer(),
    );
    fc.assert(
      fc.property(
        value,
        value,
        fc.record({ at80: fc.boolean(), at95: fc.boolean(), at100: fc.boolean(), refused: fc.boolean() }),
        (h, d, a) => {
          const r = checkUsagePrefs({ cacheHours: h, retentionDays: d, alerts: a });
          if (r.ok) {
            expect(r.value.cacheHours).toBeGreaterThanOrEqual(0);
            expect(r.value.cacheHours).toBeLessThanOrEqual(MAX_CACHE_HOURS);
            expect(r.value.retentionDays).toBeGreaterThanOrEqual(MIN_RETENTION_DAYS);
            expect(r.value.retentionDays).toBeLessThanOrEqual(MAX_RETENTION_DAYS);
            expect(checkUsagePrefs(r.value)).toEqual(r);
          } else {
            for (const m of Object.values(r.errors)) expect(m).toMatch(/cache lifetime|days of usage detail/i);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
