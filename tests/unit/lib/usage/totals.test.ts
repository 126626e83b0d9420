import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageMonth, UsageRow } from '@/lib/storage/db';
import {
  addMonthRow,
  addRow,
  bucketOf,
  dayKey,
  emptyMonth,
  emptyTotals,
  HISTOGRAM_SIZE,
  IN_FLIGHT,
  INTERRUPTED,
  LATENCY_BUCKETS_MS,
  percentile,
  removeMonthRow,
  removeRow,
} from '@/lib/usage/totals';
import { row } from './fixtures';

const originalTz = process.env.TZ;
afterEach(() => {
  process.env.TZ = originalTz;
});

describe('LATENCY_BUCKETS_MS', () => {
  it('rises from 50 ms to 10 min in about 40 log-spaced steps', () => {
    expect(LATENCY_BUCKETS_MS[0]).toBe(50);
    expect(LATENCY_BUCKETS_MS.at(-1)).toBe(600_000);
    expect(LATENCY_BUCKETS_MS.length).toBe(40);
    for (let i = 1; i < LATENCY_BUCKETS_MS.length; i++) {
      const ratio = LATENCY_BUCKETS_MS[i]! / LATENCY_BUCKETS_MS[i - 1]!;
      expect(ratio).toBeGreaterThan(1.15);
      expect(ratio).toBeLessThan(1.4);
    }
  });

  it('puts a duration in the bucket whose upper bound is the first at or above it', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(50)).toBe(0);
    expect(bucketOf(51)).toBe(1);
    expect(bucketOf(1000)).toBe(LATENCY_BUCKETS_MS.indexOf(1100));
    expect(bucketOf(600_000)).toBe(39);
    expect(bucketOf(600_001)).toBe(40);
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(Number.NaN)).toBe(0);
  });
});

describe('addRow', () => {
  it('counts a sent row: request, outcome, tokens, cost and times', () => {
    const t = addRow(
      emptyTotals(),
      row({ usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 7, cacheCreationTokens: 3 }, costUsd: 0.25 }),
    );
    expect(t).toMatchObject({
      requests: 1,
      ok: 1,
      errors: 0,
      rateLimited: 0,
      cacheHits: 0,
      inputTokens: 100,
      outputTokens: 50,
      cacheTokens: 10,
      costUsd: 0.25,
      unknownCost: 0,
      savedUsd: 0,
    });
    expect(t.latency[bucketOf(2000)]).toBe(1);
    expect(t.ttft[bucketOf(400)]).toBe(1);
    expect(t.latency.reduce((a, b) => a + b)).toBe(1);
  });

  it('splits errors from successes and spots rate limiting by outcome or by status', () => {
    let t = emptyTotals();
    t = addRow(t, row({ outcome: 'overloaded', status: 529, ttftMs: null }));
    t = addRow(t, row({ outcome: 'rate_limited', status: undefined, ttftMs: null }));
    t = addRow(t, row({ outcome: 'spend_limit', status: 429, ttftMs: null }));
    t = addRow(t, row());
    expect(t).toMatchObject({ requests: 4, ok: 1, errors: 3, rateLimited: 2 });
    expect(t.ttft.reduce((a, b) => a + b)).toBe(1);
    expect(t.latency.reduce((a, b) => a + b)).toBe(4);
  });

  it('counts an unknown cost as such, not as zero dollars silently', () => {
    const t = addRow(addRow(emptyTotals(), row({ costUsd: null, model: 'claude-mythos-5' })), row({ costUsd: 0.5 }));
    expect(t.costUsd).toBe(0.5);
    expect(t.unknownCost).toBe(1);
  });

  it('counts a cache hit as a hit and what it saved, not as a request, tokens or latency', () => {
    const t = addRow(emptyTotals(), row({ fromCache: true, outcome: 'cache', costUsd: 0, savedUsd: 0.04 }));
    expect(t).toMatchObject({
      requests: 0,
      ok: 0,
      errors: 0,
      cacheHits: 1,
      savedUsd: 0.04,
      inputTokens: 0,
      costUsd: 0,
      unknownCost: 0,
    });
    expect(t.latency.every((n) => n === 0)).toBe(true);
    expect(t.ttft.every((n) => n === 0)).toBe(true);
  });

  it('leaves its input as it was', () => {
    const t = emptyTotals();
    addRow(t, row());
    expect(t).toEqual(emptyTotals());
  });

  it('reads a histogram stored shorter than the current table', () => {
    const t = addRow({ ...emptyTotals(), latency: [2], ttft: [] }, row({ totalMs: 10, ttftMs: 700_000 }));
    expect(t.latency.length).toBe(HISTOGRAM_SIZE);
    expect(t.latency[0]).toBe(3);
    expect(t.ttft[HISTOGRAM_SIZE - 1]).toBe(1);
  });

  const arbRow: fc.Arbitrary<UsageRow> = fc
    .record({
      outcome: fc.constantFrom('ok', 'ok', 'rate_limited', 'overloaded', 'timeout'),
      status: fc.option(fc.constantFrom(200, 429, 529), { nil: undefined }),
      fromCache: fc.boolean(),
      inputTokens: fc.nat(100_000),
      outputTokens: fc.nat(10_000),
      cacheReadTokens: fc.nat(10_000),
      cacheCreationTokens: fc.nat(10_000),
      // Multiples of 1/1024 add exactly in floating point, so any order gives the very same sum.
      cost: fc.option(
        fc.nat(10_000).map((n) => n / 1024),
        { nil: null },
      ),
      saved: fc.nat(1000).map((n) => n / 1024),
      ttftMs: fc.option(fc.nat(700_000), { nil: null }),
      totalMs: fc.nat(700_000),
      conversationId: fc.constantFrom('a', 'b', 'c'),
    })
    .map((r) =>
      row({
        outcome: r.fromCache ? 'cache' : r.outcome,
        status: r.status,
        fromCache: r.fromCache,
        usage: {
          inputTokens: r.inputTokens,
          outputTokens: r.outputTokens,
          cacheReadTokens: r.cacheReadTokens,
          cacheCreationTokens: r.cacheCreationTokens,
        },
        costUsd: r.fromCache ? 0 : r.cost,
        savedUsd: r.fromCache ? r.saved : undefined,
        ttftMs: r.ttftMs,
        totalMs: r.totalMs,
        conversationId: r.conversationId,
      }),
    );

  it('gives the same totals in any order, and every row lands in exactly one place', () => {
    fc.assert(
      fc.property(fc.array(arbRow, { maxLength: 60 }), fc.infiniteStream(fc.nat()), (rows, seeds) => {
        const shuffled = rows
          .map((r) => ({ r, k: seeds.next().value as number }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.r);
        const a = rows.reduce((t, r) => addMonthRow(t, r), emptyMonth('utc:2026-11'));
        const b = shuffled.reduce((t, r) => addMonthRow(t, r), emptyMonth('utc:2026-11'));
        expect(b).toEqual(a);
        const sent = rows.filter((r) => !r.fromCache).length;
        expect(a.requests).toBe(sent);
        expect(a.ok + a.errors).toBe(sent);
        expect(a.cacheHits).toBe(rows.length - sent);
        expect(a.latency.reduce((x, y) => x + y, 0)).toBe(sent);
        const perConversation = Object.values(a.conversations).reduce((x, y) => x + y, 0);
        expect(perConversation).toBe(a.costUsd);
      }),
    );
  });
});

describe('a send in flight, then ended in place', () => {
  const inFlight = row({
    outcome: IN_FLIGHT,
    status: undefined,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
    ttftMs: null,
    totalMs: 0,
    costUsd: 0,
  });

  it('counts a send in flight as a request, not as an error, and measures no time', () => {
    const t = addRow(emptyTotals(), inFlight);
    expect(t).toMatchObject({ requests: 1, ok: 0, errors: 0 });
    expect([t.latency, t.ttft]).toEqual([emptyTotals().latency, emptyTotals().ttft]);
  });

  it('counts an interrupted send as a request and an error, with no time measured', () => {
    const t = addRow(emptyTotals(), { ...inFlight, outcome: INTERRUPTED, totalMs: 90_000 });
    expect(t).toMatchObject({ requests: 1, ok: 0, errors: 1 });
    expect(t.latency).toEqual(emptyTotals().latency);
  });

  it('replacing the row in flight by the ended one counts the send once, as if only the ended one were added', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('ok', 'overloaded', 'rate_limited', INTERRUPTED),
        fc.nat(700_000),
        fc.option(fc.nat(700_000)),
        fc.nat(5000),
        fc.option(fc.double({ min: 0, max: 5, noNaN: true })),
        (outcome, totalMs, ttftMs, tokens, costUsd) => {
          const ended = row({ outcome, totalMs, ttftMs, costUsd, usage: { ...inFlight.usage, outputTokens: tokens } });
          const base = addMonthRow(emptyMonth('utc:2026-11'), row());
          expect(addMonthRow(removeMonthRow(addMonthRow(base, inFlight), inFlight), ended)).toEqual(
            addMonthRow(base, ended),
          );
          expect(addRow(removeRow(addRow(emptyTotals(), inFlight), inFlight), ended)).toEqual(
            addRow(emptyTotals(), ended),
          );
        },
      ),
    );
  });
});

describe('addMonthRow', () => {
  it("adds each sent row's cost to its conversation", () => {
    let m = emptyMonth('utc:2026-11');
    m = addMonthRow(m, row({ conversationId: 'a', costUsd: 0.5 }));
    m = addMonthRow(m, row({ conversationId: 'b', costUsd: 0.25 }));
    m = addMonthRow(m, row({ conversationId: 'a', costUsd: 0.125 }));
    m = addMonthRow(m, row({ conversationId: 'c', costUsd: null }));
    m = addMonthRow(m, row({ conversationId: 'd', fromCache: true, outcome: 'cache', costUsd: 0, savedUsd: 1 }));
    expect(m.conversations).toEqual({ a: 0.625, b: 0.25 });
    expect(m).toMatchObject({
      month: 'utc:2026-11',
      requests: 4,
      costUsd: 0.875,
      unknownCost: 1,
      cacheHits: 1,
      savedUsd: 1,
    });
  });

  it("keeps each conversation's prompt cost and what Anthropic's prompt cache saved, also on totals written before them", () => {
    // A month stored before these were counted has neither field.
    let m: UsageMonth = addMonthRow(emptyMonth('utc:2026-11'), row({ conversationId: 'a', costUsd: 0.5 }));
    delete m.conversationsInput;
    delete m.promptCacheSavedUsd;
    m = addMonthRow(m, row({ conversationId: 'a', costUsd: 0.5, inputCostUsd: 0.125, promptCacheSavedUsd: 0.25 }));
    m = addMonthRow(m, row({ conversationId: 'b', costUsd: 0.25, inputCostUsd: 0.0625, promptCacheSavedUsd: -0.0625 }));
    m = addMonthRow(
      m,
      row({
        conversationId: 'a',
        fromCache: true,
        outcome: 'cache',
        costUsd: 0,
        savedUsd: 0.5,
        promptCacheSavedUsd: 9,
      }),
    );
    expect(m.conversationsInput).toEqual({ a: 0.125, b: 0.0625 });
    expect(m.promptCacheSavedUsd).toBe(0.1875);
    expect(m.savedUsd).toBe(0.5);
  });
});

describe('percentile', () => {
  const hist = (values: number[]) => values.reduce((t, ms) => addRow(t, row({ totalMs: ms })), emptyTotals()).latency;

  it("reports the upper bound of the nearest-rank value's bucket", () => {
    // 100 values: 90 of 300 ms, 9 of 2 s, 1 of 20 s.
    const h = hist([...Array<number>(90).fill(300), ...Array<number>(9).fill(2000), 20_000]);
    expect(percentile(h, 50)).toBe(340);
    expect(percentile(h, 90)).toBe(340);
    expect(percentile(h, 91)).toBe(2400);
    expect(percentile(h, 99)).toBe(2400);
    expect(percentile(h, 100)).toBe(21_000);
    expect(percentile(h, 0)).toBe(340);
  });

  it('is null for an empty histogram, and 10 min for values beyond it', () => {
    expect(percentile(emptyTotals().latency, 50)).toBeNull();
    expect(percentile([], 95)).toBeNull();
    expect(percentile(hist([900_000]), 50)).toBe(600_000);
  });

  it('never falls below the true value, nor above the next bucket bound', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 599_999 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 100 }),
        (values, p) => {
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
          const got = percentile(hist(values), p)!;
          expect(got).toBeGreaterThanOrEqual(exact);
          expect(got).toBe(LATENCY_BUCKETS_MS[bucketOf(exact)]);
        },
      ),
    );
  });
});

describe('dayKey', () => {
  it('is the local date', () => {
    process.env.TZ = 'Asia/Tokyo';
    expect(dayKey(Date.UTC(2026, 10, 30, 15, 30))).toBe('2026-12-01');
    process.env.TZ = 'America/Los_Angeles';
    expect(dayKey(Date.UTC(2026, 10, 30, 15, 30))).toBe('2026-11-30');
    expect(dayKey(Date.UTC(2027, 0, 1, 7, 59))).toBe('2026-12-31');
  });
});
