import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUsageAlerts } from '@/lib/usage/usage-notifications';
import { saveLimits } from '@/lib/limits/limiter-store';
import { admit } from '@/lib/limits/admit';
import { addExchange } from '@/lib/chat/conversation-store';
import { DEFAULT_USAGE_PREFS, type UsagePrefs } from '@/lib/settings/usage-prefs';
import { PaceDB } from '@/lib/storage/db';
import { pruneUsage, recordUsage } from '@/lib/usage/ledger-store';

let db: PaceDB;
let shown: { id: string; title: string; body: string }[];
let clock: number;
let prefs: UsagePrefs;

beforeEach(() => {
  db = new PaceDB(`alerts-${Math.random()}`);
  shown = [];
  clock = Date.UTC(2026, 10, 10, 12);
  prefs = structuredClone(DEFAULT_USAGE_PREFS);
});
afterEach(async () => {
  await db.delete();
});

function alerts() {
  return createUsageAlerts({
    db,
    prefs: async () => prefs,
    notify: async (id, title, body) => void shown.push({ id, title, body }),
    now: () => clock,
    log: () => undefined,
  });
}

let n = 0;
/** One request through the real limiter, as the scheduler would count it. */
async function send() {
  const ex = await addExchange(db, { conversationId: null, text: 'q', now: clock, newId: () => `j${++n}`, model: 'm' });
  const d = await admit(db, clock, ex.assistantMessageId);
  expect(d.ok).toBe(true);
  clock += 61_000;
}

describe('usage alerts (fake browser notifications)', () => {
  it('fires 80%, 95% and 100% each exactly once, at its threshold, and again next month', async () => {
    await saveLimits(db, { plan: 'custom', perMinute: 10, perMonth: 20, smooth: false, monthStart: 'utc' });
    const a = alerts();
    const firedAt: Record<string, number> = {};
    for (let i = 1; i <= 20; i++) {
      await send();
      const before = shown.length;
      await a.checkUsage();
      await a.checkUsage();
      for (const s of shown.slice(before)) firedAt[s.id] = i;
    }
    expect(shown).toHaveLength(3);
    expect(firedAt).toEqual({
      'pace-usage-utc:2026-11-80': 16,
      'pace-usage-utc:2026-11-95': 19,
      'pace-usage-utc:2026-11-100': 20,
    });
    expect(shown[2]!.title).toMatch(/used up/);

    clock = Date.UTC(2026, 11, 1, 1);
    for (let i = 0; i < 16; i++) await send();
    await a.checkUsage();
    expect(shown.map((s) => s.id).at(-1)).toBe('pace-usage-utc:2026-12-80');
    expect(shown).toHaveLength(4);
  });

  it('shows nothing for a threshold turned off, and only the highest when several pass at once', async () => {
    await saveLimits(db, { plan: 'custom', perMinute: 10, perMonth: 10, smooth: false, monthStart: 'utc' });
    prefs.alerts.at100 = false;
    for (let i = 0; i < 10; i++) await send();
    await alerts().checkUsage();
    expect(shown.map((s) => s.id)).toEqual(['pace-usage-utc:2026-11-95']);
  });

  it('says when Anthropic starts refusing, at most once an hour, and not when turned off', async () => {
    const a = alerts();
    await a.refused('rate_limited', '4 s');
    await a.refused('rate_limited', '8 s');
    expect(shown).toHaveLength(1);
    expect(shown[0]!.body).toContain('4 s');
    clock += 61 * 60_000;
    await a.refused('spend_limit', '1 Dec, 00:00 UTC');
    expect(shown).toHaveLength(2);
    expect(shown[1]!.title).toBe("Pace: your organization's spend limit is reached");
    prefs.alerts.refused = false;
    clock += 61 * 60_000;
    await a.refused('rate_limited', '1 s');
    expect(shown).toHaveLength(2);
  });
});

describe('usage ledger retention', () => {
  it('prunes rows and day totals past the retention, keeping the month totals', async () => {
    const row = (at: number) => ({
      at,
      model: 'claude-haiku-4-5',
      conversationId: 'c',
      messageId: 'm',
      outcome: 'ok',
      usage: { inputTokens: 1000, outputTokens: 500, cacheReadTokens: 0, cacheCreationTokens: 0 },
      ttftMs: 300,
      totalMs: 900,
      attempt: 1,
      fromCache: false,
      costUsd: 0.0035,
    });
    const day = 86_400_000;
    const old = Date.UTC(2025, 0, 15, 12);
    await recordUsage(db, row(old));
    await recordUsage(db, row(old + day));
    await recordUsage(db, row(clock));
    expect(await db.usage.count()).toBe(3);
    expect(await db.usageMonths.get('utc:2025-01')).toMatchObject({ requests: 2 });

    expect(await pruneUsage(db, clock, 365)).toBe(2);
    expect(await db.usage.count()).toBe(1);
    expect(await db.usageDays.count()).toBe(1);
    const jan = await db.usageMonths.get('utc:2025-01');
    expect(jan).toMatchObject({ requests: 2, ok: 2, inputTokens: 2000, outputTokens: 1000 });
    expect(jan!.costUsd).toBeCloseTo(0.007, 10);
  });
});
