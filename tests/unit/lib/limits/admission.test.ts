import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, estimateStarts, WINDOW_MS, quota } from '@/lib/limits/admission';
import { monthWindow } from '@/lib/limits/month-window';
import type { Limits } from '@/lib/storage/rows';

const limits = (perMinute: number, perMonth: number, smooth = false): Limits => ({
  plan: 'custom',
  perMinute,
  perMonth,
  smooth,
  monthStart: 'utc',
});

/**
 * Runs the limiter the way the queue does: requests arrive at the given times and wait in FIFO
 * order; whenever the limiter refuses, the next try is at its `retryAt` (or the next arrival).
 */
function simulate(arrivals: number[], l: Limits, start = 0) {
  const pending = [...arrivals].sort((a, b) => a - b);
  const sends: { at: number; arrived: number }[] = [];
  const queue: number[] = [];
  const monthCounts = new Map<string, number>();
  let t = start;
  let retryAt = Infinity;
  for (let steps = 0; steps < 100_000; steps++) {
    while (pending.length && pending[0]! <= t) queue.push(pending.shift()!);
    while (queue.length) {
      const key = monthWindow(t, l.monthStart).key;
      const d = decide(t, l, { recentSends: sends.map((s) => s.at), monthCount: monthCounts.get(key) ?? 0 });
      if (!d.ok) {
        retryAt = d.retryAt;
        break;
      }
      sends.push({ at: t, arrived: queue.shift()! });
      monthCounts.set(key, (monthCounts.get(key) ?? 0) + 1);
      retryAt = Infinity;
    }
    const next = Math.min(pending[0] ?? Infinity, queue.length ? retryAt : Infinity);
    if (next === Infinity) break;
    t = next;
  }
  return { sends, waiting: queue.length + pending.length };
}

const arrivalsArb = fc.array(fc.integer({ min: 0, max: 10 * WINDOW_MS }), { minLength: 1, maxLength: 120 });

describe('the rolling minute', () => {
  it('never lets more than N sends into any 60.25-second window (60 s and a safety margin), for any arrivals and limits', () => {
    fc.assert(
      fc.property(arrivalsArb, fc.integer({ min: 1, max: 15 }), fc.boolean(), (arrivals, n, smooth) => {
        const { sends } = simulate(arrivals, limits(n, 1_000_000, smooth));
        const times = sends.map((s) => s.at);
        for (const t of times) expect(times.filter((u) => u > t - WINDOW_MS && u <= t).length).toBeLessThanOrEqual(n);
        expect(sends).toHaveLength(arrivals.length);
      }),
      { numRuns: 300 },
    );
  });

  it('sends as soon as a slot frees: a request that waited went the moment the window was full no more', () => {
    fc.assert(
      fc.property(arrivalsArb, fc.integer({ min: 1, max: 15 }), (arrivals, n) => {
        const { sends } = simulate(arrivals, limits(n, 1_000_000));
        const times = sends.map((s) => s.at);
        for (const s of sends) {
          if (s.at === s.arrived) continue;
          // It waited, so just before it went the window held N sends, and one of them left exactly then.
          const justBefore = times.filter((u) => u > s.at - 1 - WINDOW_MS && u < s.at);
          expect(justBefore.length).toBeGreaterThanOrEqual(n);
          expect(times.some((u) => u + WINDOW_MS === s.at)).toBe(true);
        }
        // FIFO: sends follow arrival order.
        const order = sends.map((s) => s.arrived);
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });

  it('in smooth mode spaces sends at least 60/N seconds apart, and a waiting one goes at the next even slot', () => {
    fc.assert(
      fc.property(arrivalsArb, fc.integer({ min: 1, max: 12 }), (arrivals, n) => {
        const { sends } = simulate(arrivals, limits(n, 1_000_000, true));
        const gap = WINDOW_MS / n;
        for (let i = 1; i < sends.length; i++) {
          expect(sends[i]!.at - sends[i - 1]!.at).toBeGreaterThanOrEqual(Math.floor(gap));
          if (sends[i]!.at !== sends[i]!.arrived) expect(sends[i]!.at).toBe(Math.ceil(sends[i - 1]!.at + gap));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a fixed clock minute would let 2N through across its boundary; the rolling window does not', () => {
    const arrivals = [...Array<number>(10).fill(59_000), ...Array<number>(10).fill(60_500)];
    const { sends } = simulate(arrivals, limits(10, 1000));
    expect(sends.filter((s) => s.at < 119_000)).toHaveLength(10);
    // The second ten wait a full minute (plus the safety margin) after the first ten.
    expect(sends.filter((s) => s.at === 59_000 + WINDOW_MS)).toHaveLength(10);
  });
});

describe('the month', () => {
  it('never lets more than M sends into one month, and refuses until the month turns', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 20 * WINDOW_MS }), { maxLength: 60 }),
        (m, offsets) => {
          const start = Date.UTC(2026, 10, 30, 23, 50); // ten minutes before December
          const { sends } = simulate(
            offsets.map((o) => start + o),
            limits(100, m),
            start,
          );
          const byMonth = new Map<string, number>();
          for (const s of sends) {
            const key = monthWindow(s.at, 'utc').key;
            byMonth.set(key, (byMonth.get(key) ?? 0) + 1);
          }
          for (const count of byMonth.values()) expect(count).toBeLessThanOrEqual(m);
          // Whoever waited (never for the minute here) went exactly at 00:00 UTC on a 1st.
          for (const s of sends) if (s.at !== s.arrived) expect(s.at).toBe(monthWindow(s.at, 'utc').start);
        },
      ),
    );
  });

  it('refuses with the reset at 00:00 UTC on the 1st, December to January included', () => {
    const now = Date.UTC(2026, 11, 31, 23, 59, 59);
    expect(decide(now, limits(10, 5), { recentSends: [], monthCount: 5 })).toEqual({
      ok: false,
      reason: 'month',
      retryAt: Date.UTC(2027, 0, 1),
    });
    expect(monthWindow(now, 'utc').key).toBe('utc:2026-12');
    expect(monthWindow(now + 1000, 'utc').key).toBe('utc:2027-01');
  });
});

describe('a clock that jumps back', () => {
  it('counts sends stamped in the future as just sent, so the window still holds', () => {
    const now = 1_000_000;
    const future = [now + 3_600_000, now + 3_600_000, now + 3_600_000];
    expect(decide(now, limits(3, 100), { recentSends: future, monthCount: 3 })).toEqual({
      ok: false,
      reason: 'minute',
      retryAt: now + WINDOW_MS,
    });
    expect(decide(now + WINDOW_MS, limits(3, 100), { recentSends: future, monthCount: 3 }).ok).toBe(false);
  });
});

describe('quota and estimates', () => {
  it('reports what is left and when each window resets', () => {
    const now = Date.UTC(2026, 10, 27, 12, 0, 30);
    const q = quota(now, limits(10, 5000), {
      recentSends: [now - 50_000, now - 10_000, now - 70_000],
      monthCount: 188,
    });
    expect(q).toEqual({
      minuteUsed: 2,
      minuteLeft: 8,
      minuteResetAt: now - 50_000 + WINDOW_MS,
      monthUsed: 188,
      monthLeft: 4812,
      monthResetAt: Date.UTC(2026, 11, 1),
    });
  });

  it('estimates when queued requests will go', () => {
    const now = 100_000;
    const starts = estimateStarts(
      now,
      limits(3, 1000),
      { recentSends: [now - 50_000, now - 40_000], monthCount: 2 },
      4,
    );
    expect(starts).toEqual([now, now - 50_000 + WINDOW_MS, now - 40_000 + WINDOW_MS, now + WINDOW_MS]);
  });
});

describe("Try now's probe through Anthropic's pause", () => {
  const now = 100_000;
  const paused = {
    recentSends: [],
    monthCount: 0,
    pauseUntil: now + 3_600_000,
    server: { remaining: 0, reset: now + 3_600_000, observedAt: now - 1000 },
  };

  it("lets one request past the pause and Anthropic's figures, and no further", () => {
    expect(decide(now, limits(10, 1000), paused)).toEqual({ ok: false, reason: 'server', retryAt: now + 3_600_000 });
    expect(decide(now, limits(10, 1000), { ...paused, probeAllowed: true })).toEqual({ ok: true });
    // Once the pause is over, there is nothing to probe: the usual checks apply.
    expect(decide(now + 3_600_000, limits(10, 1000), { ...paused, probeAllowed: true })).toEqual({ ok: true });
  });

  it("is held by the user's own minute and month limits as usual", () => {
    expect(decide(now, limits(1, 1000), { ...paused, probeAllowed: true, recentSends: [now - 1000] })).toEqual({
      ok: false,
      reason: 'minute',
      retryAt: now - 1000 + WINDOW_MS,
    });
    expect(decide(now, limits(10, 5), { ...paused, probeAllowed: true, monthCount: 5 })).toMatchObject({
      ok: false,
      reason: 'month',
    });
  });

  it('is estimated to take one request now, the rest after the pause', () => {
    const starts = estimateStarts(now, limits(10, 1000, false), { ...paused, probeAllowed: true }, 3);
    expect(starts).toEqual([now, now + 3_600_000, now + 3_600_000]);
  });
});
