// Bundled by bench/dashboard.ts and evaluated in the built extension's usage page: fills Pace's
// own database with a year of ledger rows and their day and month totals, as a year of use would.
import { monthKeys } from '../lib/limits/month-window';
import { PaceDB, type UsageDay, type UsageMonth, type UsageRow } from '../lib/storage/db';
import { estimateCost } from '../lib/usage/prices';
import { addMonthRow, addRow, dayKey, emptyMonth, emptyTotals } from '../lib/usage/totals';
import { seededRandom } from './stats';

async function seedUsage(count: number, now: number): Promise<{ rows: number; days: number; months: number }> {
  const db = new PaceDB();
  const year = 365 * 24 * 3_600_000;
  const models = ['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-7'];
  const random = seededRandom(42);
  const rows: UsageRow[] = [];
  const days = new Map<string, UsageDay>();
  const months = new Map<string, UsageMonth>();
  for (let i = 0; i < count; i++) {
    const at = now - year + Math.floor((i / count) * year);
    const r = random();
    const outcome = r < 0.94 ? 'ok' : r < 0.97 ? 'overloaded' : r < 0.99 ? 'rate_limited' : 'cache';
    const model = models[i % models.length]!;
    const usage =
      outcome === 'ok' || outcome === 'cache'
        ? {
            inputTokens: 200 + Math.floor(random() * 4000),
            outputTokens: 50 + Math.floor(random() * 900),
            cacheReadTokens: 0,
            cacheCreationTokens: 0,
          }
        : { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
    const fromCache = outcome === 'cache';
    const row: UsageRow = {
      at,
      model,
      conversationId: `c${i % 2000}`,
      messageId: `m${i}`,
      outcome,
      ...(outcome === 'overloaded'
        ? { status: 529, errorType: 'overloaded_error' }
        : outcome === 'rate_limited'
          ? { status: 429, errorType: 'rate_limit_error' }
          : outcome === 'ok'
            ? { status: 200 }
            : {}),
      usage,
      ttftMs: outcome === 'ok' ? 300 + Math.floor(random() * 1500) : null,
      totalMs: fromCache ? 2 : 500 + Math.floor(random() * 20_000),
      attempt: 1,
      fromCache,
      costUsd: fromCache ? 0 : estimateCost(model, usage),
      ...(fromCache ? { savedUsd: estimateCost(model, usage) } : {}),
    };
    rows.push(row);
    const d = dayKey(at);
    days.set(d, addRow(days.get(d) ?? { ...emptyTotals(), day: d }, row));
    for (const m of monthKeys(at)) months.set(m, addMonthRow(months.get(m) ?? emptyMonth(m), row));
  }
  const conversations = Array.from({ length: 2000 }, (_, i) => ({
    id: `c${i}`,
    title: `Conversation ${i}`,
    createdAt: now - year,
    updatedAt: now,
  }));
  for (let i = 0; i < rows.length; i += 10_000) await db.usage.bulkAdd(rows.slice(i, i + 10_000));
  await db.transaction('rw', db.usageDays, db.usageMonths, db.conversations, async () => {
    await db.usageDays.bulkPut([...days.values()]);
    await db.usageMonths.bulkPut([...months.values()]);
    await db.conversations.bulkPut(conversations);
  });
  const result = {
    rows: await db.usage.count(),
    days: await db.usageDays.count(),
    months: await db.usageMonths.count(),
  };
  db.close();
  return result;
}

Object.assign(globalThis, { seedUsage });
