/** The one admission decision (lib/limits/admission-decision.ts): each limit, the pause, the queue's order, and which comes first. */
import { describe, expect, it } from 'vitest';
import { decideAdmission, type AdmissionInput } from '@/lib/limits/admission-decision';
import { WINDOW_MS } from '@/lib/limits/admission';
import { NO_BUDGET, NO_SPEND, UNMEASURED_RETRY_MS, type RequestCost } from '@/lib/limits/budget';
import { monthWindow } from '@/lib/limits/month-window';
import type { Job } from '@/lib/storage/db';
import type { Budget, Limits } from '@/lib/storage/rows';

const NOW = Date.UTC(2026, 4, 14, 12, 0, 0);
const LIMITS: Limits = { plan: 'custom', perMinute: 3, perMonth: 100, smooth: false, monthStart: 'utc' };
const MONTH_END = monthWindow(NOW, 'utc').end;
const COST: RequestCost = { model: 'claude-sonnet-4-5', inputTokens: 1_000, maxTokens: 1_000 };
const BUDGET: Budget = { ...NO_BUDGET, monthlyUsd: 1 };

const job = (id: string, over: Partial<Job> = {}): Job => ({
  id,
  conversationId: `c-${id}`,
  state: 'queued',
  createdAt: NOW - 1_000,
  attempts: 0,
  ...over,
});

/** Everything clear: a queued job, no sends, no pause, no token limits, no budget. */
function input(over: Partial<AdmissionInput> = {}): AdmissionInput {
  return {
    now: NOW,
    limits: LIMITS,
    window: { recentSends: [], monthCount: 0 },
    request: {},
    spend: { budget: null, state: NO_SPEND, ledger: { month: 0, day: 0 } },
    job: job('j'),
    ...over,
  };
}

describe('decideAdmission', () => {
  const cases: [string, Partial<AdmissionInput>, ReturnType<typeof decideAdmission>][] = [
    ['everything clear: it goes', {}, { ok: true, probe: false, reserve: null }],
    ['a request that is no job’s is only counted', { job: null }, { ok: true, probe: false, reserve: null }],
    [
      'the minute is full: it waits for the oldest send to leave it',
      { window: { recentSends: [NOW - 3_000, NOW - 2_000, NOW - 1_000], monthCount: 3 } },
      { ok: false, reason: 'minute', retryAt: NOW - 3_000 + WINDOW_MS },
    ],
    [
      'the month is used up: it waits for the next month',
      { window: { recentSends: [], monthCount: 100 } },
      { ok: false, reason: 'month', retryAt: MONTH_END },
    ],
    [
      'smooth sending: it waits its share of the minute',
      { limits: { ...LIMITS, smooth: true }, window: { recentSends: [NOW - 1_000], monthCount: 1 } },
      { ok: false, reason: 'smooth', retryAt: Math.ceil(NOW - 1_000 + WINDOW_MS / 3) },
    ],
    [
      'Anthropic asked to wait: it waits for the pause',
      { window: { recentSends: [], monthCount: 0, pauseUntil: NOW + 60_000 } },
      { ok: false, reason: 'server', retryAt: NOW + 60_000 },
    ],
    [
      'the pause lets one probe through (Try now): it goes as the probe',
      { window: { recentSends: [], monthCount: 0, pauseUntil: NOW + 60_000, probeAllowed: true } },
      { ok: true, probe: true, reserve: null },
    ],
    [
      'a pause that has passed holds nothing',
      { window: { recentSends: [], monthCount: 0, pauseUntil: NOW - 1 } },
      { ok: true, probe: false, reserve: null },
    ],
    [
      'Anthropic’s count for the key is used up: it waits for its reset',
      { window: { recentSends: [], monthCount: 0, server: { remaining: 0, reset: NOW + 5_000, observedAt: NOW - 1 } } },
      { ok: false, reason: 'server', retryAt: NOW + 5_000 },
    ],
    [
      'the input-token minute has no room: it waits for the spend to leave it',
      {
        limits: { ...LIMITS, inputPerMinute: 1_000 },
        window: { recentSends: [], monthCount: 0, tokens: { input: [{ at: NOW - 1_000, tokens: 900 }], output: [] } },
        request: { need: { inputTokens: 200, outputTokens: 0 } },
      },
      { ok: false, reason: 'inputTokens', retryAt: NOW - 1_000 + WINDOW_MS },
    ],
    [
      'the output-token minute has no room: it waits for the spend to leave it',
      {
        limits: { ...LIMITS, outputPerMinute: 1_000 },
        window: { recentSends: [], monthCount: 0, tokens: { input: [], output: [{ at: NOW - 2_000, tokens: 1_000 }] } },
        request: { need: { inputTokens: 0, outputTokens: 500 } },
      },
      { ok: false, reason: 'outputTokens', retryAt: NOW - 2_000 + WINDOW_MS },
    ],
    [
      'a budget is set and the request is not priced: it waits to be measured',
      { spend: { budget: BUDGET, state: NO_SPEND, ledger: { month: 0, day: 0 } } },
      { ok: false, reason: 'budget', retryAt: NOW + UNMEASURED_RETRY_MS },
    ],
    [
      'the budget’s room is held by requests on their way: it waits for the month',
      {
        request: { cost: COST },
        spend: {
          budget: BUDGET,
          state: { reserved: { 1: { usd: 0.999, at: NOW - 1 } }, extra: {} },
          ledger: { month: 0, day: 0 },
        },
      },
      { ok: false, reason: 'budget', retryAt: MONTH_END },
    ],
    [
      'the job is no longer waiting (another context sent it): gone',
      { job: job('j', { state: 'sending' }) },
      { ok: false, reason: 'gone' },
    ],
    ['the job was deleted: gone', { job: undefined }, { ok: false, reason: 'gone' }],
  ];
  it.each(cases)('%s', (_name, over, expected) => {
    expect(decideAdmission(input(over))).toEqual(expected);
  });

  it('a budget the request fits reserves its worst case; one it can never fit refuses it with why', () => {
    const fits = decideAdmission(
      input({ request: { cost: COST }, spend: { budget: BUDGET, state: NO_SPEND, ledger: { month: 0, day: 0 } } }),
    );
    expect(fits).toMatchObject({ ok: true, probe: false, reserve: { at: NOW } });
    const usd = fits.ok ? fits.reserve!.usd : NaN;
    expect(usd).toBeGreaterThan(0);
    const over = decideAdmission(
      input({ request: { cost: COST }, spend: { budget: BUDGET, state: NO_SPEND, ledger: { month: 1, day: 0 } } }),
    );
    expect(over).toMatchObject({ ok: false, reason: 'refused', error: { code: 'budget' } });
    // 'warn' sends anyway, and still reserves.
    const warned = decideAdmission(
      input({
        request: { cost: COST },
        spend: { budget: { ...BUDGET, whenReached: 'warn' }, state: NO_SPEND, ledger: { month: 1, day: 0 } },
      }),
    );
    expect(warned).toEqual({ ok: true, probe: false, reserve: { usd, at: NOW } });
  });

  describe('order', () => {
    const older = job('older', { createdAt: NOW - 5_000 });
    const mine = job('j');
    it('given the queue, it goes only as the first job the queue would offer', () => {
      expect(decideAdmission(input({ queue: [mine] }))).toEqual({ ok: true, probe: false, reserve: null });
      expect(decideAdmission(input({ queue: [mine, older] }))).toEqual({ ok: false, reason: 'turn' });
      // Not in the queue at all (a damaged row, left out of it): not its turn either.
      expect(decideAdmission(input({ queue: [older] }))).toEqual({ ok: false, reason: 'turn' });
    });
    it('one at a time per conversation, and no more in flight than the cap', () => {
      const sameConversation = job('earlier', { conversationId: mine.conversationId, createdAt: NOW - 5_000 });
      expect(decideAdmission(input({ queue: [sameConversation, mine] }))).toEqual({ ok: false, reason: 'turn' });
      const streaming = [job('a', { state: 'streaming' }), job('b', { state: 'sending' })];
      expect(decideAdmission(input({ queue: [...streaming, mine] }))).toEqual({ ok: false, reason: 'turn' });
      expect(decideAdmission(input({ queue: [streaming[0]!, mine] }))).toMatchObject({ ok: true });
    });
    it('without the queue (the scheduler offers in order itself), order is not checked', () => {
      expect(decideAdmission(input({ job: mine }))).toMatchObject({ ok: true });
    });
  });

  describe('which reason comes first', () => {
    const fullMinute = { recentSends: [NOW - 3_000, NOW - 2_000, NOW - 1_000], monthCount: 3 };
    it('its turn before the limits', () => {
      expect(decideAdmission(input({ window: fullMinute, queue: [job('older', { createdAt: 0 }), job('j')] }))).toEqual(
        { ok: false, reason: 'turn' },
      );
    });
    it('the pause before the month, the month before the minute', () => {
      const month = { ...fullMinute, monthCount: 100 };
      expect(decideAdmission(input({ window: { ...month, pauseUntil: NOW + 1 } }))).toMatchObject({ reason: 'server' });
      expect(decideAdmission(input({ window: month }))).toMatchObject({ reason: 'month' });
    });
    it('the limits before the job’s state (the scheduler marks it waiting), and the job before the budget', () => {
      const gone = job('j', { state: 'done' });
      expect(decideAdmission(input({ window: fullMinute, job: gone }))).toMatchObject({ reason: 'minute' });
      const noRoom = { budget: BUDGET, state: NO_SPEND, ledger: { month: 1, day: 0 } };
      expect(decideAdmission(input({ job: gone, request: { cost: COST }, spend: noRoom }))).toEqual({
        ok: false,
        reason: 'gone',
      });
      expect(decideAdmission(input({ window: fullMinute, request: { cost: COST }, spend: noRoom }))).toMatchObject({
        reason: 'minute',
      });
    });
  });
});
