import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, MINUTE_MS, WINDOW_MS } from '@/lib/limits/admission';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import type { Limits, TokenLog, TokenSpend } from '@/lib/storage/rows';
import {
  EMPTY_TOKEN_LOG,
  fitsAt,
  inputRoom,
  peakPerWindow,
  tokenDecision,
  tokensInWindow,
  withAdmitted,
  withInputCount,
  withOutputCount,
  withSpend,
} from '@/lib/limits/token-buckets';

const T = Date.UTC(2026, 10, 30, 12);
const log = (input: [number, number][], output: [number, number][] = []): TokenLog => ({
  input: input.map(([at, tokens]) => ({ at, tokens })),
  output: output.map(([at, tokens]) => ({ at, tokens })),
});
const tokenLimits = (input: number | null, output: number | null): Limits => ({
  ...DEFAULT_LIMITS,
  plan: 'custom',
  perMinute: 1_000,
  perMonth: 1_000_000,
  inputPerMinute: input,
  outputPerMinute: output,
});

describe('the rolling token minute', () => {
  it('lets a request in while its input fits, and names when it will fit when it does not', () => {
    const spent = log([
      [T, 6_000],
      [T + 10_000, 3_000],
    ]);
    expect(
      tokenDecision(
        T + 20_000,
        tokenLimits(10_000, null),
        spent,
        { inputTokens: 1_000, outputTokens: 0 },
        undefined,
        WINDOW_MS,
      ),
    ).toBe(null);
    // 9,000 spent: 2,000 more fit only once the first 6,000 leave the window.
    expect(
      tokenDecision(
        T + 20_000,
        tokenLimits(10_000, null),
        spent,
        { inputTokens: 2_000, outputTokens: 0 },
        undefined,
        WINDOW_MS,
      ),
    ).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: T + WINDOW_MS,
    });
    // 7,000 more need both spends gone.
    expect(fitsAt(spent.input, T + 20_000, 10_000, 7_500, WINDOW_MS)).toBe(T + 10_000 + WINDOW_MS);
  });

  it('holds the next request while the output minute has no room for a whole answer (max_tokens, at most the limit)', () => {
    const spent = log([], [[T, 7_000]]);
    const need = { inputTokens: 0, outputTokens: 4_096 };
    expect(tokenDecision(T + 1_000, tokenLimits(null, 8_000), spent, need, undefined, WINDOW_MS)).toEqual({
      ok: false,
      reason: 'outputTokens',
      retryAt: T + WINDOW_MS,
    });
    expect(tokenDecision(T + 1_000, tokenLimits(null, 12_000), spent, need, undefined, WINDOW_MS)).toBe(null);
    // An answer bigger than the whole limit waits for an empty minute, not for ever.
    expect(tokenDecision(T + 1_000, tokenLimits(null, 3_000), log([], [[T, 10]]), need, undefined, WINDOW_MS)).toEqual({
      ok: false,
      reason: 'outputTokens',
      retryAt: T + WINDOW_MS,
    });
    // Output produced past the limit (answers are not cut off) keeps the next one waiting until it has left.
    expect(
      tokenDecision(
        T + 1_000,
        tokenLimits(null, 5_000),
        spent,
        { inputTokens: 0, outputTokens: 0 },
        undefined,
        WINDOW_MS,
      )?.retryAt,
    ).toBe(T + WINDOW_MS);
  });

  it('counts a send stamped in the future (the clock went back) as now, and drops only what has left the window', () => {
    expect(tokensInWindow([{ at: T + 5_000, tokens: 9 }], T, WINDOW_MS)).toBe(9);
    const next = withSpend(
      log([
        [T - WINDOW_MS, 1],
        [T - 1, 2],
        [T + 9_000, 3],
      ]),
      'input',
      { at: T, tokens: 4, job: 'j' },
      T,
      WINDOW_MS,
    );
    expect(next.input.map((s) => s.tokens)).toEqual([2, 3, 4]);
  });

  it("puts a request's real input count in place of its estimate, and leaves the rest alone", () => {
    const before: TokenLog = {
      input: [
        { at: T, tokens: 500, job: 'a' },
        { at: T + 1, tokens: 800, job: 'b' },
      ],
      output: [],
    };
    expect(withInputCount(before, 'b', 120).input).toEqual([
      { at: T, tokens: 500, job: 'a' },
      { at: T + 1, tokens: 120, job: 'b' },
    ]);
    expect(withInputCount(before, 'zzz', 5)).toBe(before);
  });
});

describe("Anthropic's token figures", () => {
  const server = (remaining: number, extra = {}) => ({
    observedAt: T,
    inputTokens: { limit: 20_000, remaining, reset: T + 30_000 },
    ...extra,
  });

  it('waits until the bucket has refilled enough, reading the rounded figure at its least', () => {
    const need = { inputTokens: 6_000, outputTokens: 0 };
    // "7,000" may be 6,500: 6,000 fit.
    expect(tokenDecision(T, tokenLimits(null, null), EMPTY_TOKEN_LOG, need, server(7_000), WINDOW_MS)).toBe(null);
    // "6,000" may be 5,500: they do not yet. The bucket refills from 5,500 when read (T) to 20,000
    // a second past its reset (T + 31 s): 500 more take 500 / 14,500 of those 31 s.
    const refilled = (from: number, more: number) => Math.ceil(T + (more * 31_000) / (20_000 - from));
    expect(tokenDecision(T, tokenLimits(null, null), EMPTY_TOKEN_LOG, need, server(6_000), WINDOW_MS)).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: refilled(5_500, 500),
    });
    // And at that moment they do.
    expect(
      tokenDecision(refilled(5_500, 500), tokenLimits(null, null), EMPTY_TOKEN_LOG, need, server(6_000), WINDOW_MS),
    ).toBe(null);
    // What Pace sent after the figure was read is taken off it, and waited for too.
    const spent = log([[T + 1, 1_000]]);
    expect(tokenDecision(T + 2, tokenLimits(null, null), spent, need, server(7_000), WINDOW_MS)).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: refilled(6_500, 500),
    });
    // A figure read after it was dated (readAt) refills only from the read.
    const read = { ...server(6_000), readAt: T + 10_000 };
    expect(tokenDecision(T + 5_000, tokenLimits(null, null), EMPTY_TOKEN_LOG, need, read, WINDOW_MS)).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: Math.ceil(T + 10_000 + (500 * 21_000) / 14_500),
    });
    // After the reset the figure is over: the bucket is full again.
    expect(tokenDecision(T + 30_000, tokenLimits(null, null), EMPTY_TOKEN_LOG, need, server(0), WINDOW_MS)).toBe(null);
  });

  it("believes a gateway's figures only at their reset: its limit may come back all at once", () => {
    const gateway = { ...server(6_000), by: 'gateway.example' };
    const need = { inputTokens: 6_000, outputTokens: 0 };
    expect(tokenDecision(T + 29_999, tokenLimits(null, null), EMPTY_TOKEN_LOG, need, gateway, WINDOW_MS)).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: T + 30_000,
    });
    expect(tokenDecision(T + 30_000, tokenLimits(null, null), EMPTY_TOKEN_LOG, need, gateway, WINDOW_MS)).toBe(null);
  });

  it('after the reset, takes the bucket as full less what Pace spent since the figure was read, not as full', () => {
    const spent = log([
      [T + 1_000, 9_000],
      [T + 40_000, 5_000],
    ]);
    // 20,000 less 14,000: 7,000 fit only once the first spend has left the minute; 6,000 fit now.
    expect(
      tokenDecision(
        T + 45_000,
        tokenLimits(null, null),
        spent,
        { inputTokens: 7_000, outputTokens: 0 },
        server(0),
        WINDOW_MS,
      ),
    ).toEqual({ ok: false, reason: 'inputTokens', retryAt: T + 1_000 + WINDOW_MS });
    expect(
      tokenDecision(
        T + 45_000,
        tokenLimits(null, null),
        spent,
        { inputTokens: 6_000, outputTokens: 0 },
        server(0),
        WINDOW_MS,
      ),
    ).toBe(null);
  });

  it('reads the combined and the output figures too, refilled the same way', () => {
    // 3,000 may be 2,500 of 50,000, full 10 s later: 1,500 more come back in 1,500 / 47,500 of them.
    const both = { observedAt: T, tokens: { limit: 50_000, remaining: 3_000, reset: T + 9_000 } };
    expect(
      tokenDecision(
        T,
        tokenLimits(null, null),
        EMPTY_TOKEN_LOG,
        { inputTokens: 4_000, outputTokens: 0 },
        both,
        WINDOW_MS,
      ),
    ).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: Math.ceil(T + (1_500 * 10_000) / 47_500),
    });
    const output = { observedAt: T, outputTokens: { limit: 8_000, remaining: 1_000, reset: T + 7_000 } };
    expect(
      tokenDecision(
        T,
        tokenLimits(null, null),
        EMPTY_TOKEN_LOG,
        { inputTokens: 0, outputTokens: 1_024 },
        output,
        WINDOW_MS,
      ),
    ).toEqual({
      ok: false,
      reason: 'outputTokens',
      retryAt: Math.ceil(T + (524 * 8_000) / 7_500),
    });
  });

  it('a need the refill cannot meet before the reset waits for the reset, and then for what Pace spent to leave the minute', () => {
    // 1,000 may be 500 of 20,000; Pace spent 15,000 since: 6,000 more cannot fit before the reset (at most 20,000 - 15,000 there).
    const spent = log([[T + 1, 15_000]]);
    const need = { inputTokens: 6_000, outputTokens: 0 };
    expect(tokenDecision(T + 2, tokenLimits(null, null), spent, need, server(1_000), WINDOW_MS)).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: T + 30_000,
    });
    expect(tokenDecision(T + 30_000, tokenLimits(null, null), spent, need, server(1_000), WINDOW_MS)).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: T + 1 + WINDOW_MS,
    });
  });

  it("decide holds a request for tokens only after the request limits, and Try now's probe passes the figures but not Pace's own limits", () => {
    const state = {
      recentSends: [],
      monthCount: 0,
      server: { limit: 50, remaining: 40, reset: T + 30_000, ...server(1_000) },
      tokens: log([[T, 9_500]]),
    };
    // 500 at the least, less Pace's 9,500 since: 2,000 fit once 11,000 have come back, of the 19,500 due by T + 31 s.
    expect(decide(T + 1, tokenLimits(null, null), state, { inputTokens: 2_000, outputTokens: 0 })).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: Math.ceil(T + (11_000 * 31_000) / 19_500),
    });
    const probing = { ...state, pauseUntil: T + 60_000, probeAllowed: true };
    expect(decide(T + 1, tokenLimits(null, null), probing, { inputTokens: 2_000, outputTokens: 0 })).toEqual({
      ok: true,
    });
    expect(decide(T + 1, tokenLimits(10_000, null), probing, { inputTokens: 2_000, outputTokens: 0 })).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: T + WINDOW_MS,
    });
  });

  it('inputRoom gives the least room left and the tightest limit, or null with no input limit in force', () => {
    expect(inputRoom(T, tokenLimits(null, 9), EMPTY_TOKEN_LOG, null, WINDOW_MS)).toBe(null);
    expect(inputRoom(T, tokenLimits(30_000, null), log([[T, 1_000]]), server(10_000), WINDOW_MS)).toEqual({
      room: 8_500,
      limit: 20_000,
      by: 'server',
    });
    // A second on, a second's refill (10,500 of the 31 s to 20,000) has come back.
    expect(
      inputRoom(T + 1_000, tokenLimits(30_000, null), log([[T, 1_000]]), server(10_000), WINDOW_MS)?.room,
    ).toBeCloseTo(8_500 + 10_500 / 31, 6);
    expect(inputRoom(T + 1, tokenLimits(5_000, null), EMPTY_TOKEN_LOG, server(10_000), WINDOW_MS)).toEqual({
      room: 5_000,
      limit: 5_000,
      by: 'pace',
    });
  });
});

/**
 * Requests arrive with their input tokens and wait in FIFO order, as the queue runs them: whenever
 * the limiter refuses, the next try is at its `retryAt` (or the next arrival).
 */
function simulate(arrivals: { at: number; tokens: number }[], limit: number) {
  const pending = [...arrivals].sort((a, b) => a.at - b.at);
  const queue: number[] = [];
  let spends: TokenSpend[] = [];
  const admitted: TokenSpend[] = [];
  let t = 0;
  let retryAt = Infinity;
  for (let steps = 0; steps < 100_000; steps++) {
    while (pending.length && pending[0]!.at <= t) queue.push(pending.shift()!.tokens);
    while (queue.length) {
      const d = tokenDecision(
        t,
        tokenLimits(limit, null),
        { input: spends, output: [] },
        { inputTokens: queue[0]!, outputTokens: 0 },
        undefined,
        WINDOW_MS,
      );
      if (d) {
        expect(d.retryAt).toBeGreaterThan(t);
        retryAt = d.retryAt;
        break;
      }
      const spend = { at: t, tokens: queue.shift()! };
      spends = withSpend({ input: spends, output: [] }, 'input', spend, t, WINDOW_MS).input;
      admitted.push(spend);
      retryAt = Infinity;
    }
    const next = Math.min(pending[0]?.at ?? Infinity, queue.length ? retryAt : Infinity);
    if (next === Infinity) break;
    t = next;
  }
  return { admitted, waiting: queue.length + pending.length };
}

describe('properties of the input bucket', () => {
  const arrivals = (limit: number) =>
    fc.array(
      fc.record({ at: fc.integer({ min: 0, max: 5 * MINUTE_MS }), tokens: fc.integer({ min: 0, max: limit }) }),
      { minLength: 1, maxLength: 60 },
    );
  const runs = fc.integer({ min: 1, max: 50_000 }).chain((limit) => fc.tuple(fc.constant(limit), arrivals(limit)));

  it('never admits more than the limit in any 60 s window, and admits every request in the end', () => {
    fc.assert(
      fc.property(runs, ([limit, reqs]) => {
        const { admitted, waiting } = simulate(reqs, limit);
        expect(waiting).toBe(0);
        expect(admitted).toHaveLength(reqs.length);
        // Every 60 s window's sum is largest when it ends at a spend: check each such window.
        for (const end of admitted) {
          const inWindow = admitted
            .filter((s) => s.at > end.at - MINUTE_MS && s.at <= end.at)
            .reduce((sum, s) => sum + s.tokens, 0);
          expect(inWindow).toBeLessThanOrEqual(limit);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("never empties Anthropic's bucket of the same limit (capacity the limit, refilled continuously at the limit a minute): no 429", () => {
    fc.assert(
      fc.property(runs, ([limit, reqs]) => {
        const { admitted } = simulate(reqs, limit);
        // The server's bucket, exactly: full at the start, refilled at limit/60 s, capped at the limit.
        let level = limit;
        let at = 0;
        for (const s of admitted) {
          level = Math.min(limit, level + ((s.at - at) * limit) / MINUTE_MS);
          at = s.at;
          level -= s.tokens;
          expect(level).toBeGreaterThanOrEqual(-1e-6);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a request above the whole limit goes alone, once the window is empty', () => {
    const { admitted } = simulate(
      [
        { at: 0, tokens: 10 },
        { at: 1, tokens: 500 },
        { at: 2, tokens: 10 },
      ],
      100,
    );
    expect(admitted).toEqual([
      { at: 0, tokens: 10 },
      { at: WINDOW_MS, tokens: 500 },
      { at: 2 * WINDOW_MS, tokens: 10 },
    ]);
  });
});

/** A request as the queue meets it: its estimate and max_tokens at admission, what its answer really read and wrote, and whether it was cut off before its usage arrived. */
interface Answer {
  at: number;
  estimate: number;
  realInput: number;
  maxTokens: number;
  realOutput: number;
  takesMs: number;
  cutOff: boolean;
}

/** One admitted answer, with the figures the token log ends with for it (stamped at its admission). */
interface Admitted {
  at: number;
  endsAt: number;
  estimate: number;
  input: number;
  output: number;
}

/**
 * The queue with both token limits and up to `maxActive` answers on their way at once: admission
 * logs the estimate and the output room (withAdmitted); when an answer ends, its real input replaces
 * the estimate and, unless it was cut off, its real output replaces the room.
 */
function simulateAnswers(answers: Answer[], limits: { input: number; output: number }, maxActive = 2) {
  const pending = answers.map((a, i) => ({ ...a, job: `j${i}` })).sort((a, b) => a.at - b.at);
  const queue: typeof pending = [];
  const active: { answer: (typeof pending)[number]; endsAt: number }[] = [];
  const admitted: Admitted[] = [];
  let tokenLog: TokenLog = EMPTY_TOKEN_LOG;
  let t = 0;
  let retryAt = Infinity;
  for (let steps = 0; steps < 100_000; steps++) {
    while (pending.length && pending[0]!.at <= t) queue.push(pending.shift()!);
    retryAt = Infinity;
    // Answers that have ended by now (even one admitted just now that took no time) say their real counts first.
    for (;;) {
      for (const done of active.filter((a) => a.endsAt <= t)) {
        active.splice(active.indexOf(done), 1);
        tokenLog = withInputCount(tokenLog, done.answer.job, done.answer.realInput);
        if (!done.answer.cutOff)
          tokenLog = withOutputCount(tokenLog, done.answer.job, done.answer.realOutput, t, WINDOW_MS);
      }
      if (!queue.length || active.length >= maxActive) break;
      const next = queue[0]!;
      const need = { inputTokens: next.estimate, outputTokens: next.maxTokens };
      const d = tokenDecision(t, tokenLimits(limits.input, limits.output), tokenLog, need, undefined, WINDOW_MS);
      if (d) {
        expect(d.retryAt).toBeGreaterThan(t);
        retryAt = d.retryAt;
        break;
      }
      queue.shift();
      tokenLog = withAdmitted(tokenLog, need, [limits.output], next.job, t, WINDOW_MS);
      active.push({ answer: next, endsAt: t + next.takesMs });
      admitted.push({
        at: t,
        endsAt: t + next.takesMs,
        estimate: next.estimate,
        input: next.realInput,
        output: next.cutOff ? next.maxTokens : next.realOutput,
      });
    }
    const next = Math.min(
      pending[0]?.at ?? Infinity,
      ...active.map((a) => a.endsAt),
      queue.length && active.length < maxActive ? retryAt : Infinity,
    );
    if (next === Infinity) break;
    t = next;
  }
  return { admitted, waiting: queue.length + pending.length + active.length };
}

describe('properties of both buckets, two answers at once', () => {
  const runs = fc
    .record({ input: fc.integer({ min: 1, max: 50_000 }), output: fc.integer({ min: 1, max: 16_000 }) })
    .chain((limits) =>
      fc.tuple(
        fc.constant(limits),
        fc.array(
          fc
            .record({
              at: fc.integer({ min: 0, max: 5 * MINUTE_MS }),
              estimate: fc.integer({ min: 0, max: limits.input }),
              more: fc.integer({ min: 0, max: limits.input }),
              maxTokens: fc.integer({ min: 1, max: limits.output }),
              written: fc.double({ min: 0, max: 1, noNaN: true }),
              takesMs: fc.integer({ min: 0, max: 90_000 }),
              cutOff: fc.boolean(),
            })
            .map(({ estimate, more, maxTokens, written, ...rest }): Answer => ({
              ...rest,
              estimate,
              realInput: estimate + more,
              maxTokens,
              realOutput: Math.floor(maxTokens * written),
            })),
          { minLength: 1, maxLength: 40 },
        ),
      ),
    );
  const window = (admitted: Admitted[], k: number) =>
    admitted.slice(0, k + 1).filter((s) => s.at > admitted[k]!.at - MINUTE_MS);

  it('never lets the output in any 60 s window pass the limit, and admits every answer in the end', () => {
    fc.assert(
      fc.property(runs, ([limits, answers]) => {
        const { admitted, waiting } = simulateAnswers(answers, limits);
        expect(waiting).toBe(0);
        expect(admitted).toHaveLength(answers.length);
        // Spends are stamped at admission: every window's sum is largest when it ends at one.
        admitted.forEach((_, k) =>
          expect(window(admitted, k).reduce((sum, s) => sum + s.output, 0)).toBeLessThanOrEqual(limits.output),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('lets input pass the limit only by what the answers on their way read beyond their estimates; a larger real count is respected once known', () => {
    fc.assert(
      fc.property(runs, ([limits, answers]) => {
        const { admitted } = simulateAnswers(answers, limits);
        admitted.forEach((s, k) => {
          const inWindow = window(admitted, k);
          // Unknown at this admission: its own real count, and those of the answers still on their way.
          const onTheirWay = inWindow.filter((w) => w === s || w.endsAt > s.at);
          expect(onTheirWay.length).toBeLessThanOrEqual(2);
          const unknown = onTheirWay.reduce((sum, w) => sum + w.input - w.estimate, 0);
          expect(inWindow.reduce((sum, w) => sum + w.input, 0)).toBeLessThanOrEqual(limits.input + unknown);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('two answers admitted at once with max_tokens the whole output limit: the second waits for the first to leave the window', () => {
    const answer = {
      at: 0,
      estimate: 10,
      realInput: 10,
      maxTokens: 8_000,
      realOutput: 8_000,
      takesMs: 30_000,
      cutOff: false,
    };
    const { admitted } = simulateAnswers([answer, answer], { input: 100_000, output: 8_000 });
    expect(admitted.map((s) => s.at)).toEqual([0, WINDOW_MS]);
  });
});

describe('peakPerWindow', () => {
  it('finds the most tokens in any window, by brute force over every window that ends at a spend', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 600_000 }), tokens: fc.integer({ min: 0, max: 10_000 }) }), {
          maxLength: 80,
        }),
        (spends) => {
          const brute = Math.max(
            0,
            ...spends.map((e) =>
              spends.filter((s) => s.at > e.at - MINUTE_MS && s.at <= e.at).reduce((sum, s) => sum + s.tokens, 0),
            ),
          );
          expect(peakPerWindow(spends, MINUTE_MS).tokens).toBe(brute);
        },
      ),
    );
  });
});
