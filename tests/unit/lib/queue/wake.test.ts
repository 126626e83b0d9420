import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addExchange } from '@/lib/chat/conversation-store';
import { pauseAll } from '@/lib/limits/limiter-store';
import { createScheduler } from '@/lib/queue/scheduler';
import { createWake, MAX_TIMER_MS, timerDelay } from '@/lib/queue/wake';
import { PaceDB } from '@/lib/storage/db';

const DAY = 24 * 60 * 60 * 1000;

describe('timerDelay', () => {
  const now = Date.UTC(2026, 10, 3);
  it('waits the time left, never less than nothing', () => {
    expect(timerDelay(now + 1500, now)).toBe(1500);
    expect(timerDelay(now - 5000, now)).toBe(0);
  });

  it('never asks a timer for more than MAX_TIMER_MS, far below the 2^31-1 ms where timers fire at once', () => {
    expect(MAX_TIMER_MS).toBeLessThan(2 ** 31 - 1);
    for (const at of [now + MAX_TIMER_MS + 1, now + 28 * DAY, now + 2 ** 31, now + 1e15, Infinity])
      expect(timerDelay(at, now)).toBe(MAX_TIMER_MS);
  });

  it('gives a wake that is not a number a look later, not a spin', () => {
    expect(timerDelay(NaN, now)).toBe(MAX_TIMER_MS);
  });
});

describe('createWake', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sets the alarm to the wake itself and keeps one timer, capped', () => {
    const alarms: (number | null)[] = [];
    const pump = vi.fn();
    const wake = createWake({ now: Date.now, pump, alarm: (at) => alarms.push(at) });
    const at = Date.now() + 28 * DAY;
    wake(at);
    wake(at);
    expect(alarms).toEqual([at, at]);
    vi.advanceTimersByTime(MAX_TIMER_MS - 1);
    expect(pump).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(pump).toHaveBeenCalledTimes(1);
    wake(null);
    expect(alarms.at(-1)).toBe(null);
    vi.advanceTimersByTime(2 * MAX_TIMER_MS);
    expect(pump).toHaveBeenCalledTimes(1);
  });

  it('a pause 28 days away runs the queue a handful of times, not thousands', async () => {
    vi.setSystemTime(Date.UTC(2026, 10, 3, 12));
    const db = new PaceDB(`wake-${Math.random()}`);
    try {
      await addExchange(db, {
        conversationId: null,
        text: 'hello',
        now: Date.now(),
        newId: () => crypto.randomUUID(),
        model: 'm',
      });
      // The spend cap was hit on the 3rd: nothing goes before the 1st of next month.
      await pauseAll(db, { until: Date.UTC(2026, 11, 1), reason: 'spend_limit', message: 'Spend limit reached.' });
      let runs = 0;
      let ran: () => void = () => undefined;
      const started: string[] = [];
      const alarms: (number | null)[] = [];
      const scheduler = createScheduler({
        db,
        now: Date.now,
        blocker: async () => null,
        startJob: async (job) => void started.push(job.id),
        failJob: async () => undefined,
        wakeAt: createWake({ now: Date.now, pump: () => void scheduler.pump(), alarm: (at) => alarms.push(at) }),
        changed: () => {
          runs++;
          ran();
        },
        log: () => undefined,
      });
      await scheduler.pump();
      expect(runs).toBe(1);
      // Three hours of the worker being alive: each wake timer fires, and the run it starts (on
      // IndexedDB's real tasks) is awaited before the clock moves on. A spinning queue is cut at 1,000 runs.
      const end = Date.now() + 3 * 60 * 60 * 1000;
      while (Date.now() < end && runs < 1000 && vi.getTimerCount() > 0) {
        const next = new Promise<void>((resolve) => (ran = resolve));
        await vi.advanceTimersToNextTimerAsync();
        if (Date.now() <= end) await next;
      }
      expect(runs).toBeLessThanOrEqual(4);
      expect(started).toEqual([]);
      expect(alarms.at(-1)).toBe(Date.UTC(2026, 11, 1));
    } finally {
      await db.delete();
    }
  });
});
