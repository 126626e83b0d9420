import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alertText,
  dueAlerts,
  refusalAlertDue,
  refusalAlertText,
  REFUSAL_ALERT_INTERVAL_MS,
  type AlertState,
  type Threshold,
} from '@/lib/usage/alerts';

const ALL = { at80: true, at95: true, at100: true };
const NOV = 'utc:2026-11';
const DEC = 'utc:2026-12';

/** Feeds usage counts one by one, as the ledger would after each request; returns what fired at each. */
function run(counts: number[], limit: number, enabled = ALL, start: AlertState | null = null, month = NOV) {
  let state: AlertState = start ?? { month, fired: [] };
  const fired: { used: number; fire: Threshold[] }[] = [];
  for (const [i, used] of counts.entries()) {
    const r = dueAlerts(i === 0 ? start : state, month, used, limit, enabled);
    state = r.state;
    if (r.fire.length) fired.push({ used, fire: r.fire });
  }
  return { fired, state };
}

const upTo = (n: number) => Array.from({ length: n + 1 }, (_, i) => i);

describe('dueAlerts', () => {
  it('fires each threshold once, at the request that first reaches it', () => {
    const { fired, state } = run([...upTo(5000), 5000, 5001, 4000], 5000);
    expect(fired).toEqual([
      { used: 4000, fire: [80] },
      { used: 4750, fire: [95] },
      { used: 5000, fire: [100] },
    ]);
    expect(state).toEqual({ month: NOV, fired: [80, 95, 100] });
  });

  it('fires again in the next month', () => {
    const nov = run(upTo(5000), 5000);
    const dec = run([1000, 3999, 4000, 4001, 4750, 5000, 5000], 5000, ALL, nov.state, DEC);
    expect(dec.fired).toEqual([
      { used: 4000, fire: [80] },
      { used: 4750, fire: [95] },
      { used: 5000, fire: [100] },
    ]);
    expect(dec.state.month).toBe(DEC);
  });

  it('does not fire a disabled threshold, nor mark it', () => {
    const off80 = { at80: false, at95: true, at100: true };
    const { fired, state } = run(upTo(4800), 5000, off80);
    expect(fired).toEqual([{ used: 4750, fire: [95] }]);
    expect(state.fired).toEqual([95]);
    // Turned on later in the month: it warns once, at the next check.
    const later = run([4801, 4802], 5000, ALL, state);
    expect(later.fired).toEqual([{ used: 4801, fire: [80] }]);
  });

  it('fires only the highest of several thresholds passed at once, and marks the rest', () => {
    const r = dueAlerts({ month: NOV, fired: [] }, NOV, 5000, 5000, ALL);
    expect(r.fire).toEqual([100]);
    expect(r.state.fired).toEqual([80, 95, 100]);
    expect(dueAlerts(r.state, NOV, 5000, 5000, ALL).fire).toEqual([]);
  });

  it('never fires with no limit', () => {
    expect(dueAlerts(null, NOV, 10, 0, ALL).fire).toEqual([]);
  });

  it('fires each threshold at most once a month, whatever the order of the counts', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(6000), { maxLength: 80 }), fc.integer({ min: 1, max: 5000 }), (counts, limit) => {
        const { fired } = run(counts, limit);
        const all = fired.flatMap((f) => f.fire);
        expect(new Set(all).size).toBe(all.length);
        for (const f of fired) for (const t of f.fire) expect(f.used * 100).toBeGreaterThanOrEqual(t * limit);
        const max = Math.max(0, ...counts);
        // The highest threshold reached always fires.
        const top = ([100, 95, 80] as const).find((t) => max * 100 >= t * limit);
        if (top) expect(all).toContain(top);
        else expect(all).toEqual([]);
      }),
    );
  });
});

describe('refusalAlertDue', () => {
  const now = Date.UTC(2026, 10, 16, 12);
  it('fires at the first refusal, then at most once an hour', () => {
    expect(refusalAlertDue(null, now)).toBe(true);
    expect(refusalAlertDue(now - 1000, now)).toBe(false);
    expect(refusalAlertDue(now - REFUSAL_ALERT_INTERVAL_MS + 1, now)).toBe(false);
    expect(refusalAlertDue(now - REFUSAL_ALERT_INTERVAL_MS, now)).toBe(true);
    expect(REFUSAL_ALERT_INTERVAL_MS).toBe(3_600_000);
  });

  it('is not silenced by a clock set back', () => {
    expect(refusalAlertDue(now + 5 * REFUSAL_ALERT_INTERVAL_MS, now)).toBe(true);
  });
});

describe('alertText', () => {
  it('says how much is used and when it resets', () => {
    expect(alertText(80, 4000, 5000, '1 Dec, 00:00 UTC')).toEqual({
      title: "Pace: 80% of this month's requests used",
      body: '4,000 of 5,000 requests used; 1,000 left until 1 Dec, 00:00 UTC.',
    });
    expect(alertText(95, 4750, 5000, '1 Dec, 00:00 UTC').title).toBe("Pace: 95% of this month's requests used");
    expect(alertText(100, 5000, 5000, '1 Dec, 00:00 UTC')).toEqual({
      title: "Pace: this month's requests are used up",
      body: 'All 5,000 requests of this month are used. Pace refuses new questions until 1 Dec, 00:00 UTC, so nothing goes over; raise the monthly limit in the options if your plan allows more.',
    });
  });

  it('says Anthropic refuses, and for how long when it said', () => {
    expect(refusalAlertText('rate_limited', '23 s').body).toContain('asked to wait 23 s');
    expect(refusalAlertText('rate_limited', null).body).not.toContain('asked to wait');
    const spend = refusalAlertText('spend_limit', '1 Dec, 00:00 UTC');
    expect(spend.title).toBe("Pace: your organization's spend limit is reached");
    expect(spend.body).toContain('refuses requests until 1 Dec, 00:00 UTC');
    expect(spend.body).not.toContain('429');
  });

  it('names a gateway that refuses by its host, not as Anthropic', () => {
    const limited = refusalAlertText('rate_limited', '23 s', 'litellm.example.com');
    expect(limited).toEqual({
      title: 'Pace: litellm.example.com is refusing requests',
      body: 'litellm.example.com answered "rate limited" (429) and asked to wait 23 s. Queued questions are sent when it allows again.',
    });
    expect(refusalAlertText('spend_limit', '1 Dec, 00:00 UTC', 'litellm.example.com').body).toMatch(
      /^litellm\.example\.com refuses requests until 1 Dec/,
    );
    expect(refusalAlertText('rate_limited', '23 s').title).toBe('Pace: Anthropic is refusing requests');
  });
});
