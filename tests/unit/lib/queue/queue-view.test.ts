import { describe, expect, it } from 'vitest';
import { WINDOW_MS } from '@/lib/limits/admission';
import { formatReset, formatWait } from '@/lib/limits/format';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import type { Limits } from '@/lib/storage/rows';
import { queueView } from '@/lib/queue/queue-view';
import type { Job } from '@/lib/storage/db';

const NOW = Date.UTC(2026, 10, 27, 12);
const limits: Limits = { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 3, perMonth: 100 };
const job = (id: string, state: Job['state'], createdAt: number, extra: Partial<Job> = {}): Job => ({
  id,
  conversationId: 'c',
  state,
  createdAt,
  attempts: 0,
  ...extra,
});

describe('queueView', () => {
  it('gives each waiting job its place and an estimate from the windows', () => {
    const sends = [NOW - 50_000, NOW - 40_000, NOW - 30_000];
    const view = queueView(NOW, {
      limits,
      pause: null,
      server: null,
      counters: [
        { key: 'utc:2026-11', count: 3 },
        { key: 'recent', count: 3, times: sends },
      ],
      jobs: [
        job('a', 'streaming', 1),
        job('b', 'waiting', 2, { waitUntil: sends[0]! + WINDOW_MS, waitReason: 'minute' }),
        job('c', 'queued', 3),
      ],
    });
    expect(view.quota).toMatchObject({ minuteLeft: 0, monthLeft: 97 });
    expect(view.waiting).toBe(2);
    expect(view.inFlight).toBe(1);
    expect(view.jobs.get('a')).toMatchObject({ position: null });
    expect(view.jobs.get('b')).toMatchObject({ position: 1, eta: sends[0]! + WINDOW_MS, waitReason: 'minute' });
    expect(view.jobs.get('c')).toMatchObject({ position: 2, eta: sends[1]! + WINDOW_MS });
    expect(view.pausedUntil).toBeNull();
  });

  it('says sending is paused until the month turns when the month is used', () => {
    const view = queueView(NOW, {
      limits,
      pause: null,
      server: null,
      counters: [{ key: 'utc:2026-11', count: 120 }],
      jobs: [],
    });
    expect(view.pausedUntil).toBe(Date.UTC(2026, 11, 1));
    expect(formatReset(view.pausedUntil!, 'utc')).toBe('1 Dec, 00:00 UTC');
  });

  it("takes Anthropic's figures when they are stricter, and shows a pause while it lasts", () => {
    const view = queueView(NOW, {
      limits,
      pause: { until: NOW + 20_000, reason: 'rate_limited', message: 'Anthropic asked us to wait 20 s.' },
      server: { limit: 50, remaining: 2, reset: NOW + 30_000, observedAt: NOW - 5000 },
      counters: [{ key: 'recent', count: 1, times: [NOW - 1000] }],
      jobs: [job('a', 'queued', 1)],
    });
    expect(view.server).toEqual({ limit: 50, left: 1, reset: NOW + 30_000 });
    expect(view.serverPause?.until).toBe(NOW + 20_000);
    expect(view.jobs.get('a')?.eta).toBe(NOW + 20_000);
  });

  it("estimates Try now's probe to go now and the rest after the pause as it stands, not as it was", () => {
    const view = queueView(NOW, {
      limits: { ...limits, perMinute: 10 },
      pause: {
        until: NOW + 30_000,
        reason: 'rate_limited',
        message: 'Anthropic asked us to wait 30 s.',
        probe: 'allowed',
      },
      server: null,
      counters: [],
      // Marked with an older, longer pause that the probe's refusal replaced.
      jobs: [
        job('a', 'waiting', 1, { waitUntil: NOW + 3_600_000, waitReason: 'server' }),
        job('b', 'waiting', 2, { conversationId: 'd', waitUntil: NOW + 3_600_000, waitReason: 'server' }),
      ],
    });
    expect(view.jobs.get('a')?.eta).toBe(NOW);
    expect(view.jobs.get('b')?.eta).toBe(NOW + 30_000);
    expect(view.probe).toBe('allowed');
  });

  it('says the probe is on its way only while its job is', () => {
    const pause = {
      until: NOW + 30_000,
      reason: 'rate_limited' as const,
      message: 'Wait.',
      probe: 'used' as const,
      probeJob: 'a',
    };
    const records = { limits, pause, server: null, counters: [] };
    expect(queueView(NOW, { ...records, jobs: [job('a', 'streaming', 1)] }).probe).toBe('sending');
    // Cut off by a restart, the job is queued again: the pause stands, and Try now is offered again.
    expect(queueView(NOW, { ...records, jobs: [job('a', 'queued', 1, { resumed: true })] }).probe).toBe(null);
    expect(queueView(NOW + 30_000, { ...records, jobs: [job('a', 'streaming', 1)] }).probe).toBe(null);
  });

  it('formats waits', () => {
    expect([400, 23_000, 61_000, 3_600_000, 3 * 86_400_000].map(formatWait)).toEqual([
      '1 s',
      '23 s',
      '1 min 1 s',
      '1 h',
      '3 days',
    ]);
  });
});

describe('queueView with token limits', () => {
  it("shows the tokens left this minute and a job's wait for the token budget", () => {
    const view = queueView(NOW, {
      limits: { ...limits, inputPerMinute: 20_000, outputPerMinute: 8_000 },
      pause: null,
      server: null,
      counters: [],
      tokens: {
        input: [
          { at: NOW - 70_000, tokens: 5_000 },
          { at: NOW - 10_000, tokens: 12_000 },
        ],
        output: [{ at: NOW - 1_000, tokens: 8_500 }],
      },
      jobs: [job('a', 'waiting', 1, { waitUntil: NOW + 20_000, waitReason: 'outputTokens' })],
    });
    expect(view.tokens).toEqual({ input: { used: 12_000, limit: 20_000 }, output: { used: 8_500, limit: 8_000 } });
    // The output over the limit holds the job until it leaves the minute: later than the wait it was marked with.
    expect(view.jobs.get('a')).toMatchObject({ position: 1, eta: NOW - 1_000 + WINDOW_MS, waitReason: 'outputTokens' });
    expect(queueView(NOW, { limits, pause: null, server: null, counters: [], jobs: [] }).tokens).toEqual({
      input: null,
      output: null,
    });
  });
});
