/**
 * This device's entry in browser sync under load: 1,000 sends counted by admission, the entry
 * written by lib/sync/device-sync.ts on a test clock, into a fake storage.sync that enforces
 * Chrome's quotas and records every write.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { admit } from '@/lib/limits/admit';
import { saveLimits } from '@/lib/limits/limiter-store';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { PaceDB } from '@/lib/storage/db';
import { DEVICE_PREFIX } from '@/lib/sync/device-entry';
import { readOtherDevices } from '@/lib/sync/devices-store';
import { createDeviceSync, URGENT_GAP_MS } from '@/lib/sync/device-sync';
import {
  createFakeSync,
  MAX_WRITE_OPERATIONS_PER_HOUR,
  MAX_WRITE_OPERATIONS_PER_MINUTE,
  type FakeSync,
} from '../../../support/fake-sync';

const START = Date.UTC(2026, 11, 8, 10, 0);
let clock = START;
let db: PaceDB;
let sync: FakeSync;
let timers: { at: number; run: () => void; cleared: boolean }[];
const warnings: string[] = [];

function makeDevice() {
  const edges = sync.device({ identity: { id: 'aaaa', name: 'Laptop' } });
  return createDeviceSync({
    db,
    area: edges.area,
    identity: edges.identity,
    now: () => clock,
    defaultName: () => 'Chrome on Linux',
    setTimer: (run, ms) => {
      const timer = { at: clock + ms, run, cleared: false };
      timers.push(timer);
      return timer;
    },
    clearTimer: (t) => void ((t as { cleared: boolean }).cleared = true),
    warn: (m, d) => void warnings.push(`${m} ${JSON.stringify(d ?? '')}`),
  });
}

/** Moves the clock to `to`, running each timer that falls due on the way, in order. */
async function advance(device: ReturnType<typeof makeDevice>, to: number) {
  for (;;) {
    const due = timers.filter((t) => !t.cleared && t.at <= to).sort((x, y) => x.at - y.at)[0];
    if (!due) break;
    due.cleared = true;
    clock = Math.max(clock, due.at);
    due.run();
    await device.settled();
  }
  clock = to;
}

function inWindow(writes: { at: number }[], ms: number): number {
  return Math.max(0, ...writes.map((w) => writes.filter((x) => x.at > w.at - ms && x.at <= w.at).length));
}

const entryRequests = () =>
  (sync.items.get(`${DEVICE_PREFIX}aaaa`) as { months: Record<string, { requests: number }> } | undefined)?.months[
    monthWindow(clock, 'utc').key
  ]?.requests;

beforeEach(async () => {
  clock = START;
  timers = [];
  warnings.length = 0;
  db = new PaceDB(`device-sync-${Math.random()}`);
  sync = createFakeSync(() => clock);
  await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 1000, perMonth: 1000, monthStart: 'utc' });
});
afterEach(async () => {
  db.close();
  await db.delete();
});

describe("this device's entry in storage.sync", () => {
  it('1,000 sends (the last tenth near the month limit) stay within the write quotas, and the entry ends at 1,000', async () => {
    const device = makeDevice();
    await device.start();
    for (let i = 0; i < 1000; i++) {
      await advance(device, START + i * 300);
      expect((await admit(db, clock, null)).ok).toBe(true);
      await device.changed();
    }
    await advance(device, clock + 60_000);
    const entryWrites = sync.writes.filter((w) => w.keys.includes(`${DEVICE_PREFIX}aaaa`));
    expect(sync.refused).toEqual([]);
    expect(inWindow(sync.writes, 60_000)).toBeLessThanOrEqual(MAX_WRITE_OPERATIONS_PER_MINUTE / 4);
    expect(inWindow(sync.writes, 3_600_000)).toBeLessThanOrEqual(MAX_WRITE_OPERATIONS_PER_HOUR);
    // Coalesced: 300 s of sends, a write every 5 s before the 90% mark and every 2.5 s after.
    expect(entryWrites.length).toBeGreaterThan(50);
    expect(entryWrites.length).toBeLessThan(120);
    const gaps = entryWrites.slice(1).map((w, i) => w.at - entryWrites[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(URGENT_GAP_MS);
    // Near the limit the writes come faster than the coalescing's 5 s.
    const near = entryWrites.filter((w) => w.at >= START + 900 * 300);
    expect(Math.max(...near.slice(1).map((w, i) => w.at - near[i]!.at))).toBeLessThan(5_000);
    expect(entryRequests()).toBe(1000);
  }, 60_000);

  it('a quota error is shown, tried again later with a growing wait, and loses no count', async () => {
    const device = makeDevice();
    await device.start();
    sync.failNext(3);
    for (let i = 0; i < 10; i++) {
      await admit(db, clock, null);
      await device.changed();
    }
    await advance(device, clock + 5_000);
    expect(sync.refused).toHaveLength(1);
    expect((await readOtherDevices(db))?.error?.message).toMatch(
      /^Browser sync refused this device's figures \(MAX_WRITE_OPERATIONS_PER_MINUTE quota exceeded\)/,
    );
    expect(warnings.join('\n')).toMatch(/could not write this device to browser sync/);
    // Retries after 30 s, then 60 s: still refused; then 120 s: written whole.
    await advance(device, clock + 30_000);
    expect(sync.refused).toHaveLength(2);
    await advance(device, clock + 59_000);
    expect(sync.refused).toHaveLength(2);
    await advance(device, clock + 1_000);
    expect(sync.refused).toHaveLength(3);
    await admit(db, clock, null);
    await device.changed();
    await advance(device, clock + 120_000);
    expect(entryRequests()).toBe(11);
    expect((await readOtherDevices(db))?.error).toBeNull();
  });
});
