/**
 * One plan on two devices: two background apps (createBackgroundApp, as the worker wires it), each
 * with its own database and device id, sharing one fake `storage.sync` (tests/support/fake-sync.ts)
 * that delivers each write to both, as browser sync would. Sends go from each app's popup port to
 * the local Claude server.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NO_BUDGET } from '@/lib/limits/budget';
import { saveBudget, readBudget } from '@/lib/limits/budget-store';
import { readLimits, readQuotaState, saveLimits } from '@/lib/limits/limiter-store';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { settingsItem } from '@/lib/settings/settings-items';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB, type Job } from '@/lib/storage/db';
import { DEVICE_PREFIX, FORGOTTEN_KEY } from '@/lib/sync/device-entry';
import { readOtherDevices, readOwnMonths } from '@/lib/sync/devices-store';
import { SETTINGS_KEY } from '@/lib/sync/settings-file';
import type { ClaudeServer } from '../../../support/claude-server';
import { createFakeSync, type FakeSync } from '../../../support/fake-sync';
import { useClaudeServer } from '../../../support/use-claude-server';
import { testBackground, type TestBackground } from '../background/background-app';

let claude: ClaudeServer;
useClaudeServer((s) => (claude = s));

const KEY = 'sk-ant-api03-test-key-0000000000000000000000000000';
let dbA: PaceDB;
let dbB: PaceDB;
let sync: FakeSync;
let a: TestBackground;
let b: TestBackground;
const warnings: string[] = [];

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const end = performance.now() + 3_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (performance.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    if (process.env.DEBUG_SYNC) console.log(what, JSON.stringify(v));
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function send(bg: TestBackground, text: string): Promise<string> {
  const sent = await bg.client.request('chat.send', { conversationId: null, text });
  if (!sent.ok) throw new Error(sent.error.message);
  return sent.data.assistantMessageId;
}

const jobOf = (db: PaceDB, id: string) => () => db.jobs.get(id);
const done = (j: Job | undefined) => j === undefined || j.state === 'done';

function device(id: string) {
  return sync.device({ identity: { id, name: `Device ${id}` } });
}

beforeEach(async () => {
  warnings.length = 0;
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.map(String).join(' ')));
  dbA = new PaceDB(`sync-a-${Math.random()}`);
  dbB = new PaceDB(`sync-b-${Math.random()}`);
  sync = createFakeSync();
  await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: claude.url, model: 'claude-haiku-4-5', maxTokens: 100 });
  for (const db of [dbA, dbB])
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 50, perMonth: 5, monthStart: 'utc' });
  a = testBackground(dbA, claude.url, { sync: device('aaaa') });
  b = testBackground(dbB, claude.url, { sync: device('bbbb') });
  await Promise.all([a.app.sync!.devices.start(), b.app.sync!.devices.start()]);
});
afterEach(async () => {
  for (const bg of [a, b]) {
    bg.app.sync?.devices.stop();
    bg.app.sync?.settings.stop();
  }
  vi.restoreAllMocks();
  for (const db of [dbA, dbB]) {
    db.close();
    await db.delete();
  }
});

const monthKey = () => monthWindow(Date.now(), 'utc').key;
const othersRequests = (db: PaceDB) => async () => (await readOtherDevices(db))?.months[monthKey()]?.requests ?? 0;

describe('the month on two devices', () => {
  it("each device's count reaches the other, and the month's limit holds for the sum", async () => {
    for (const text of ['one', 'two', 'three']) await until('A sent', jobOf(dbA, await send(a, text)), done);
    await a.app.sync!.devices.flush();
    await until("A's sends on B", othersRequests(dbB), (n) => n === 3);
    // B's month is A's 3 plus its own 0: the quota line, the badge and admission all read this.
    const { state } = await readQuotaState(dbB, Date.now());
    expect(state).toMatchObject({ monthCount: 3, othersMonth: 3 });
    const listed = await b.client.request('sync.devices', {});
    expect(listed.ok && listed.data.others).toEqual([
      expect.objectContaining({ id: 'aaaa', name: 'Device aaaa', requests: 3 }),
    ]);

    // B sends 2 (3 + 2 = the month's 5); its third waits for the month to turn.
    for (const text of ['four', 'five']) await until('B sent', jobOf(dbB, await send(b, text)), done);
    await expect(send(b, 'six')).rejects.toThrow("This month's 5 requests are used.");
    expect(claude.messageRequests()).toHaveLength(5);

    // And back: A hears B's 2 and is held too.
    await b.app.sync!.devices.flush();
    await until("B's sends on A", othersRequests(dbA), (n) => n === 2);
    await expect(send(a, 'seven')).rejects.toThrow("This month's 5 requests are used.");
    expect(claude.messageRequests()).toHaveLength(5);
  });

  it('the budget refuses on device B what device A already spent', async () => {
    for (const db of [dbA, dbB]) await saveLimits(db, { ...(await readLimits(db)), perMonth: 1000 });
    // A long answer on A: a few thousandths of a dollar.
    claude.script({ kind: 'text', text: 'word '.repeat(2000), chunkSize: 2000 });
    await until('A sent', jobOf(dbA, await send(a, 'one')), done);
    const spentA = (await readOwnMonths(dbA, Date.now()))[monthKey()]!.usd;
    expect(spentA).toBeGreaterThan(0.002);
    await a.app.sync!.devices.flush();
    await until(
      "A's spend on B",
      async () => (await readOtherDevices(dbB))?.months[monthKey()]?.usd ?? 0,
      (usd) => usd === spentA,
    );
    // $0.002 would hold B's own request (at most $0.0005): A's spend leaves it nothing.
    await saveBudget(dbB, { ...NO_BUDGET, monthlyUsd: 0.002, whenReached: 'pause' });
    const held = await send(b, 'from B');
    await until('B refused', jobOf(dbB, held), (j) => j?.state === 'failed');
    const error = (await dbB.messages.get(held))?.error;
    expect(error?.code).toBe('budget');
    expect(error?.message).toMatch(/could cost up to \$0\.0005; \$0\.00 of your \$0\.0020 monthly budget is left/);
    expect(claude.messageRequests()).toHaveLength(1);
  });

  it("a forgotten device's month still counts, and it is no longer listed", async () => {
    for (const text of ['one', 'two']) await until('A sent', jobOf(dbA, await send(a, text)), done);
    await a.app.sync!.devices.flush();
    await until("A's sends on B", othersRequests(dbB), (n) => n === 2);
    const forgot = await b.client.request('sync.forget', { id: 'aaaa' });
    expect(forgot.ok).toBe(true);
    // Forget only hides: A's entry stays until its months are pruned.
    expect(sync.items.has(`${DEVICE_PREFIX}aaaa`)).toBe(true);
    expect(sync.items.get(FORGOTTEN_KEY)).toMatchObject({ aaaa: { name: 'Device aaaa' } });
    const listed = await b.client.request('sync.devices', {});
    expect(listed.ok && listed.data.others).toEqual([]);
    // Forgetting frees nothing: B's month still holds A's 2.
    expect((await readQuotaState(dbB, Date.now())).state.monthCount).toBe(2);
  });

  it("a stale forgotten list written by a third device does not make a forgotten device's month vanish", async () => {
    for (const text of ['one', 'two']) await until('A sent', jobOf(dbA, await send(a, text)), done);
    await a.app.sync!.devices.flush();
    await until("A's sends on B", othersRequests(dbB), (n) => n === 2);
    expect((await b.client.request('sync.forget', { id: 'aaaa' })).ok).toBe(true);
    // Device C, which had not seen the forgetting, writes its own copy of the list (last writer wins).
    await sync.deliver({ [FORGOTTEN_KEY]: {} });
    await b.app.sync!.devices.syncChanged();
    expect(await othersRequests(dbB)()).toBe(2);
    expect((await readQuotaState(dbB, Date.now())).state.monthCount).toBe(2);
  });

  it('the month alarm reads the other devices again, so figures they wrote under the new month count without a new write', async () => {
    const read = vi.spyOn(b.app.sync!.devices, 'syncChanged');
    b.app.onAlarm({ name: 'pace-month', scheduledTime: Date.now() });
    expect(read).toHaveBeenCalledTimes(1);
    await read.mock.results[0]!.value;
  });

  it('corrupt or foreign entries are ignored with a warning, and the worker goes on', async () => {
    await sync.deliver({
      [`${DEVICE_PREFIX}cccc`]: {
        v: 1,
        name: 'Good',
        updatedAt: Date.now(),
        months: { [monthKey()]: { requests: 4, usd: 0.5, inputTokens: 1, outputTokens: 1 } },
      },
      [`${DEVICE_PREFIX}dddd`]: {
        v: 1,
        name: 'Bad',
        updatedAt: Date.now(),
        months: { [monthKey()]: { requests: -3, usd: 'lots' } },
      },
      [`${DEVICE_PREFIX}eeee`]: 'not an entry',
      [`${DEVICE_PREFIX}ffff`]: { v: 99, name: 'From the future' },
      [FORGOTTEN_KEY]: [1, 2, 3],
      'other.extension.key': { anything: true },
      [SETTINGS_KEY]: { kind: 'pace-settings', version: 1, updatedAt: Date.now() + 1, settings: null },
    });
    await until('the good entry on B', othersRequests(dbB), (n) => n === 4);
    expect(warnings.join('\n')).toMatch(
      /skipped in browser sync: device entry pace\.device\.dddd: month utc:\d{4}-\d{2} requests is not a count/,
    );
    expect(warnings.join('\n')).toMatch(/device entry pace\.device\.eeee: not an object/);
    expect(warnings.join('\n')).toMatch(/pace\.device\.ffff: version 99/);
    expect(warnings.join('\n')).toMatch(/skipped the settings in browser sync: settings/);
    // The worker still sends, counted against the good entry's 4 of the month's 5.
    await until('B sent', jobOf(dbB, await send(b, 'still works')), done);
    expect((await readQuotaState(dbB, Date.now())).state.monthCount).toBe(5);
  });
});

describe('settings that follow the user', () => {
  it('limits and the budget saved on A appear on B; the key and message text never reach storage.sync', async () => {
    const savedLimits = await a.client.request('limits.save', {
      plan: 'custom',
      perMinute: 7,
      perMonth: 321,
      smooth: false,
      monthStart: 'utc',
    });
    expect(savedLimits.ok).toBe(true);
    const savedBudget = await a.client.request('budget.save', {
      monthlyUsd: '12.5',
      dailyUsd: '',
      whenReached: 'pause',
      unknownPriceUsd: '',
      badge: 'requests',
    });
    expect(savedBudget.ok).toBe(true);
    await a.app.sync!.settings.flush();
    await until(
      'the limits on B',
      () => readLimits(dbB),
      (l) => l.perMonth === 321 && l.perMinute === 7,
    );
    expect(await readBudget(dbB)).toMatchObject({ monthlyUsd: 12.5 });

    // A send on each, and the gateway headers' secret: none of it is ever written to sync.
    await settingsItem.setValue({ ...(await settingsItem.getValue()), extraHeaders: 'x-team-secret: hush-hush-42' });
    await until('A sent', jobOf(dbA, await send(a, 'the secret plan is tangerine')), done);
    await a.app.sync!.devices.flush();
    await a.client.request('chatPrefs.save', { keepDays: 30, theme: 'dark' });
    await a.app.sync!.settings.flush();
    const written = JSON.stringify(sync.writes.map((w) => w.items)) + JSON.stringify([...sync.items]);
    expect(sync.writes.some((w) => w.keys.includes(SETTINGS_KEY))).toBe(true);
    expect(written).not.toContain(KEY);
    expect(written).not.toContain('sk-ant');
    expect(written).not.toContain('tangerine');
    expect(written).not.toContain('hush-hush-42');
    expect(written).not.toContain(claude.url);
  });

  it('settings over the 8 KB an item are not written, the sync warning says why, and shorter ones sync and clear it', async () => {
    const before = sync.writes.length;
    // 3,000 characters of Japanese: 9,000 bytes in UTF-8, though only 3,000 characters.
    await settingsItem.setValue({ ...(await settingsItem.getValue()), systemPrompt: '日本語'.repeat(1000) });
    await a.app.sync!.settings.flush();
    expect(sync.writes.slice(before).some((w) => w.keys.includes(SETTINGS_KEY))).toBe(false);
    expect(sync.refused).toEqual([]);
    expect((await readOtherDevices(dbA))?.error?.message).toMatch(
      /^Settings are too large to sync \(\d+(\.\d)? KB of 8 KB\): shorten the system prompt or the templates\.$/,
    );
    // A refresh of the others' figures keeps the warning.
    await a.app.sync!.devices.syncChanged();
    expect((await readOtherDevices(dbA))?.error?.message).toMatch(/too large to sync/);

    await settingsItem.setValue({ ...(await settingsItem.getValue()), systemPrompt: '日本語'.repeat(100) });
    await a.app.sync!.settings.flush();
    expect(sync.items.get(SETTINGS_KEY)).toMatchObject({ settings: { systemPrompt: '日本語'.repeat(100) } });
    expect((await readOtherDevices(dbA))?.error).toBeNull();
  });

  it("stop clears a pending settings write, so none runs after a test's databases are gone", async () => {
    const before = sync.writes.length;
    await settingsItem.setValue({ ...(await settingsItem.getValue()), systemPrompt: 'pending' });
    a.app.sync!.settings.changed();
    a.app.sync!.settings.stop();
    await new Promise((r) => setTimeout(r, 1_200));
    expect(sync.writes.slice(before).some((w) => w.keys.includes(SETTINGS_KEY))).toBe(false);
  });

  it('"Keep settings on this device only" stops both ways', async () => {
    await b.client.request('sync.settings', { enabled: false });
    await a.client.request('limits.save', {
      plan: 'custom',
      perMinute: 9,
      perMonth: 999,
      smooth: false,
      monthStart: 'utc',
    });
    await a.app.sync!.settings.flush();
    const written = sync.items.get(SETTINGS_KEY);
    expect(written).toMatchObject({ limits: { perMonth: 999 } });
    // Delivered to B again, and awaited: B keeps its own.
    await b.app.sync!.settings.syncChanged({ [SETTINGS_KEY]: { newValue: written } });
    expect((await readLimits(dbB)).perMonth).toBe(5);
    // Back on, B takes what is there next.
    await b.client.request('sync.settings', { enabled: true });
    await a.client.request('limits.save', {
      plan: 'custom',
      perMinute: 9,
      perMonth: 998,
      smooth: false,
      monthStart: 'utc',
    });
    await a.app.sync!.settings.flush();
    await until(
      'the limits on B',
      () => readLimits(dbB),
      (l) => l.perMonth === 998,
    );
  });
});

describe('the settings file', () => {
  it('exports without the key or header values, and an import with one bad field changes nothing and names it', async () => {
    await b.client.request('sync.settings', { enabled: false });
    await settingsItem.setValue({ ...(await settingsItem.getValue()), extraHeaders: 'x-team-secret: hush-hush-42' });
    await a.client.request('limits.save', {
      plan: 'custom',
      perMinute: 11,
      perMonth: 777,
      smooth: true,
      monthStart: 'local',
    });
    const exported = await a.client.request('settings.export', {});
    if (!exported.ok) throw new Error(exported.error.message);
    expect(exported.data.fileName).toMatch(/^pace-settings-\d{4}-\d{2}-\d{2}\.json$/);
    const text = exported.data.text;
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('hush-hush-42');
    expect(text).not.toContain(claude.url);
    const file = JSON.parse(text) as { limits: Record<string, unknown>; budget: unknown };

    const before = await readLimits(dbB);
    const bad = await b.client.request('settings.import', {
      text: JSON.stringify({
        ...file,
        limits: { ...file.limits, perMinute: 0 },
        budget: { ...NO_BUDGET, monthlyUsd: 3 },
      }),
    });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatchObject({
      code: 'invalid_input',
      field: 'limits.perMinute',
      message: expect.stringMatching(/^Nothing was changed: limits\.perMinute is wrong\. .*at least 1/) as unknown,
    });
    expect(await readLimits(dbB)).toEqual(before);
    expect(await readBudget(dbB)).toBeNull();
    const notJson = await b.client.request('settings.import', { text: '{"kind": "pace-settings",' });
    expect(!notJson.ok && notJson.error.message).toMatch(/not JSON/);

    const good = await b.client.request('settings.import', { text });
    expect(good.ok).toBe(true);
    expect(await readLimits(dbB)).toMatchObject({ perMinute: 11, perMonth: 777, smooth: true, monthStart: 'local' });
  });
});
