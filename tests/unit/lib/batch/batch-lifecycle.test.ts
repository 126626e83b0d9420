import { describe, expect, it } from 'vitest';
import type { MessageBatchIndividualResponse } from '@/lib/claude/batches';
import {
  BATCH_TRANSITIONS,
  DEFAULT_BATCH_TIMING,
  gatherDecision,
  gatheredHeads,
  nextBatchWake,
  nextPollAt,
  placementOf,
  resultsNotice,
} from '@/lib/batch/batch-lifecycle';
import { checkBatchPrefs, DEFAULT_BATCH_PREFS, batchTiming } from '@/lib/settings/batch-prefs';
import type { BatchRow, Job, JobState } from '@/lib/storage/db';

const job = (
  id: string,
  conversationId: string,
  state: JobState,
  createdAt: number,
  extra: Partial<Job> = {},
): Job => ({ id, conversationId, state, createdAt, attempts: 0, ...extra });
const MIN = 60_000;

describe('gathering', () => {
  it('waits the window from the oldest gathered question, then takes every one that may go', () => {
    const jobs = [
      job('a', 'c1', 'gathering', 0),
      job('b', 'c1', 'gathering', 30_000),
      job('c', 'c2', 'gathering', 90_000),
    ];
    expect(gatherDecision(jobs, 0, DEFAULT_BATCH_TIMING)).toEqual({ due: [], wakeAt: 2 * MIN });
    expect(gatherDecision(jobs, 2 * MIN - 1, DEFAULT_BATCH_TIMING)).toEqual({ due: [], wakeAt: 2 * MIN });
    expect(gatherDecision(jobs, 2 * MIN, DEFAULT_BATCH_TIMING).due.map((j) => j.id)).toEqual(['a', 'b', 'c']);
  });

  it('leaves a question behind a message still on its way in its conversation, and a conversation with nothing gathered', () => {
    const jobs = [
      job('q', 'c1', 'queued', 0),
      job('a', 'c1', 'gathering', 1),
      job('s', 'c2', 'batched', 0),
      job('b', 'c2', 'gathering', 2),
      job('d', 'c3', 'done', 0),
      job('c', 'c3', 'gathering', 3),
    ];
    expect(gatheredHeads(jobs).map((j) => j.id)).toEqual(['c']);
    expect(gatherDecision([job('q', 'c1', 'queued', 0)], 10 * MIN, DEFAULT_BATCH_TIMING)).toEqual({
      due: [],
      wakeAt: null,
    });
  });

  it('holds back questions whose create failed until the retry time, and sends them then', () => {
    const held = job('a', 'c1', 'gathering', 0, { waitReason: 'backoff', waitUntil: 5 * MIN });
    expect(gatherDecision([held], 3 * MIN, DEFAULT_BATCH_TIMING)).toEqual({ due: [], wakeAt: 5 * MIN });
    expect(gatherDecision([held], 5 * MIN, DEFAULT_BATCH_TIMING).due.map((j) => j.id)).toEqual(['a']);
    // A fresh question whose window has passed goes; the held one waits for its own time.
    const fresh = job('b', 'c2', 'gathering', 0);
    expect(gatherDecision([held, fresh], 3 * MIN, DEFAULT_BATCH_TIMING)).toEqual({ due: [fresh], wakeAt: 5 * MIN });
  });
});

describe('polling', () => {
  it('looks first after a minute, then backs off, doubling, to every ten minutes', () => {
    const gaps = [0, 1, 2, 3, 4, 5, 20].map((polls) => nextPollAt(0, polls, DEFAULT_BATCH_TIMING));
    expect(gaps).toEqual([1, 2, 4, 8, 10, 10, 10].map((m) => m * MIN));
  });

  it('wakes for the earliest batch that needs a call', () => {
    const row = (id: string, state: BatchRow['state'], nextPollAt?: number): BatchRow => ({
      id,
      state,
      createdAt: 0,
      requests: [],
      polls: 0,
      ...(nextPollAt === undefined ? {} : { nextPollAt }),
    });
    expect(
      nextBatchWake([row('a', 'running', 50), row('b', 'cancelling', 20), row('c', 'ended', 1), row('d', 'creating')]),
    ).toBe(20);
    expect(nextBatchWake([row('c', 'ended', 1)])).toBeNull();
  });

  it('lets an ended batch become nothing else, and a created one never go back to creating', () => {
    expect(BATCH_TRANSITIONS.ended).toEqual([]);
    for (const s of Object.keys(BATCH_TRANSITIONS) as BatchRow['state'][])
      expect(BATCH_TRANSITIONS[s].includes('creating')).toBe(false);
  });
});

describe('results', () => {
  const entry = (result: unknown) => ({ custom_id: 'a', result }) as MessageBatchIndividualResponse;

  it('an answer keeps its text, model, stop reason and every token count', () => {
    const placed = placementOf(
      entry({
        type: 'succeeded',
        message: {
          model: 'claude-haiku-4-5',
          stop_reason: 'end_turn',
          content: [
            { type: 'text', text: 'Hi ' },
            { type: 'text', text: 'there' },
          ],
          usage: { input_tokens: 10, output_tokens: 4, cache_read_input_tokens: 2, cache_creation_input_tokens: null },
        },
      }),
      false,
    );
    expect(placed).toEqual({
      kind: 'answer',
      text: 'Hi there',
      model: 'claude-haiku-4-5',
      stopReason: 'end_turn',
      usage: { inputTokens: 10, outputTokens: 4, cacheReadTokens: 2, cacheCreationTokens: 0 },
    });
  });

  it('an errored request says what the API said; expired and cancelled ones are released, each saying why, with Send now', () => {
    const failed = placementOf(
      entry({ type: 'errored', error: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }),
      false,
    );
    expect(failed).toMatchObject({
      kind: 'failed',
      error: { action: 'retry', message: expect.stringContaining('overloaded_error: Overloaded') as string },
    });
    expect(placementOf(entry({ type: 'expired' }), false)).toMatchObject({
      kind: 'released',
      why: 'expired',
      error: { message: expect.stringContaining('expired') as string },
    });
    expect(placementOf(entry({ type: 'canceled' }), true)).toMatchObject({
      kind: 'released',
      why: 'canceled',
      error: { message: 'Cancelled with its batch before it ran: not billed, and not counted.' },
    });
  });

  it('one notification: how many answers arrived and what the half price saved', () => {
    expect(resultsNotice(3, 0, 0.0123)).toEqual({
      title: '3 answers arrived from your batch',
      message: 'Sent later at half price: saved $0.01.',
    });
    expect(resultsNotice(1, 2, 0.00042)).toEqual({
      title: '1 answer arrived from your batch',
      message: 'Sent later at half price: saved $0.00042. 2 questions did not get an answer: open Pace to see why.',
    });
    expect(resultsNotice(2, 0, null).message).toBe('Sent later at half price.');
  });
});

describe('the batch options', () => {
  it('takes whole seconds in range, and names the field that is wrong', () => {
    expect(
      checkBatchPrefs({ sendLater: true, gatherSeconds: ' 5 ', firstPollSeconds: '1', maxPollSeconds: 2 }),
    ).toEqual({ ok: true, value: { sendLater: true, gatherSeconds: 5, firstPollSeconds: 1, maxPollSeconds: 2 } });
    expect(
      checkBatchPrefs({ sendLater: false, gatherSeconds: 'soon', firstPollSeconds: '0', maxPollSeconds: '1' }),
    ).toEqual({
      ok: false,
      errors: {
        gatherSeconds: 'The gathering window must be a whole number, not "soon".',
        firstPollSeconds: 'The first look at a batch must be between 1 and 86,400 seconds (got 0).',
      },
    });
    expect(
      checkBatchPrefs({ sendLater: false, gatherSeconds: '1', firstPollSeconds: '60', maxPollSeconds: '30' }),
    ).toEqual({
      ok: false,
      errors: { maxPollSeconds: 'The longest wait between looks (30 s) cannot be shorter than the first look (60 s).' },
    });
  });

  it('defaults to two minutes of gathering, a first look after a minute and every ten minutes at most', () => {
    expect(batchTiming(DEFAULT_BATCH_PREFS)).toEqual(DEFAULT_BATCH_TIMING);
    expect(DEFAULT_BATCH_TIMING).toEqual({ gatherMs: 2 * MIN, firstPollMs: MIN, maxPollMs: 10 * MIN });
  });
});
