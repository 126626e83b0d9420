/**
 * One simulated trace (1,000 prompts in bursts over 30 simulated minutes, a limit of 10 a minute)
 * run through Pace's limiter, Bottleneck (reservoir refreshed every 60 s) and p-queue (intervalCap
 * N per 60 s), each on a fake clock. Prints the worst rolling-60-second count and the share of the
 * allowed capacity used while prompts were waiting.
 */
import FakeTimers from '@sinonjs/fake-timers';
import Bottleneck from 'bottleneck';
import PQueue from 'p-queue';
import { decide } from '../lib/limits/admission';
import { DEFAULT_LIMITS } from '../lib/limits/plans';
import type { Limits } from '../lib/storage/rows';
import { seededRandom } from './stats';

export const PER_MINUTE = 10;
const MINUTE = 60_000;
const START = Date.UTC(2026, 10, 2, 9); // early in a month: the month never interferes

/** Deterministic bursts: 1,000 prompts in 40 bursts of varying size over 30 minutes. */
export function trace(): number[] {
  const random = seededRandom(42);
  const arrivals: number[] = [];
  const bursts = 40;
  for (let b = 0; b < bursts; b++) {
    const at = START + Math.floor((b * 30 * MINUTE) / bursts + random() * 20_000);
    const size =
      b === bursts - 1 ? 1000 - arrivals.length : Math.min(1000 - arrivals.length, 5 + Math.floor(random() * 40));
    for (let i = 0; i < size; i++) arrivals.push(at + i * 10);
  }
  return arrivals.slice(0, 1000);
}

export function worstWindow(sends: number[]): number {
  const sorted = [...sends].sort((a, b) => a - b);
  let worst = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[lo]! <= sorted[hi]! - MINUTE) lo++;
    worst = Math.max(worst, hi - lo + 1);
  }
  return worst;
}

/** Sends made while something waited, over what N per 60 s allows in that time. */
export function capacityUsed(sends: number[]): number {
  const sorted = [...sends].sort((a, b) => a - b);
  const span = sorted.at(-1)! - sorted[0]!;
  return sorted.length / (PER_MINUTE * (span / MINUTE + 1));
}

export function runPace(arrivals: number[]): number[] {
  const limits: Limits = { ...DEFAULT_LIMITS, plan: 'custom', perMinute: PER_MINUTE, perMonth: 1_000_000 };
  const pending = [...arrivals].sort((a, b) => a - b);
  const queue: number[] = [];
  const sends: number[] = [];
  let t = pending[0]!;
  let retryAt = Infinity;
  while (pending.length || queue.length) {
    while (pending.length && pending[0]! <= t) queue.push(pending.shift()!);
    while (queue.length) {
      const d = decide(t, limits, { recentSends: sends.slice(-PER_MINUTE * 2), monthCount: sends.length });
      if (!d.ok) {
        retryAt = d.retryAt;
        break;
      }
      queue.shift();
      sends.push(t);
    }
    t = Math.min(pending[0] ?? Infinity, queue.length ? retryAt : Infinity);
  }
  return sends;
}

async function runOnFakeClock(arrivals: number[], submit: (record: () => void) => void): Promise<number[]> {
  const clock = FakeTimers.install({
    now: START - 1000,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
  try {
    const sends: number[] = [];
    const sorted = [...arrivals].sort((a, b) => a - b);
    for (const at of sorted) {
      await clock.tickAsync(Math.max(0, at - clock.now));
      submit(() => sends.push(clock.now));
    }
    for (let i = 0; i < 400 && sends.length < arrivals.length; i++) await clock.tickAsync(MINUTE / 2);
    return sends;
  } finally {
    clock.uninstall();
  }
}

export function runBottleneck(arrivals: number[]): Promise<number[]> {
  let limiter: Bottleneck | undefined;
  return runOnFakeClock(arrivals, (record) => {
    limiter ??= new Bottleneck({
      reservoir: PER_MINUTE,
      reservoirRefreshAmount: PER_MINUTE,
      reservoirRefreshInterval: MINUTE,
    });
    void limiter.schedule(() => Promise.resolve(record()));
  });
}

export function runPQueue(arrivals: number[]): Promise<number[]> {
  let queue: PQueue | undefined;
  return runOnFakeClock(arrivals, (record) => {
    queue ??= new PQueue({ intervalCap: PER_MINUTE, interval: MINUTE });
    void queue.add(() => Promise.resolve(record()));
  });
}
