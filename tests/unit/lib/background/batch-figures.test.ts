/**
 * Issue 21 in the batch runner: each result line is checked as the stream is and a bad one fails
 * alone, counting nothing; no figure of a batch can make the month's spend NaN; a batch is not
 * given up while Anthropic still holds its results, and is read only with the key and at the
 * address it was sent with. The runner against the local Claude server, on a clock the test moves.
 */
import { InternalServerError, NotFoundError } from '@anthropic-ai/sdk/core/error';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBatchRunner, type BatchRunnerDeps } from '@/lib/batch/batch-runner';
import { addExchange } from '@/lib/chat/conversation-store';
import { createClaudeClient, type ClaudeClient, type Credentials } from '@/lib/claude/client';
import { admit } from '@/lib/limits/admit';
import { NO_BUDGET } from '@/lib/limits/budget';
import { readBudgetView, reservedIds, saveBudget } from '@/lib/limits/budget-store';
import { saveLimits } from '@/lib/limits/limiter-store';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { DEFAULT_BATCH_PREFS, type BatchPrefs } from '@/lib/settings/batch-prefs';
import { DEFAULT_SETTINGS, type Settings } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { batchCostBreakdown } from '@/lib/usage/prices';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';

let server: ClaudeServer;
useClaudeServer((s) => (server = s), { batches: { inProgressPolls: 0 } });

const T0 = Date.UTC(2026, 10, 16, 12, 0, 0);
const GO = T0 + 1 + 120_000;
const HOUR = 60 * 60_000;
const MODEL = 'claude-haiku-4-5';
const SETTINGS: Settings = { ...DEFAULT_SETTINGS, model: MODEL, maxTokens: 100 };
const PREFS: BatchPrefs = { ...DEFAULT_BATCH_PREFS, gatherSeconds: 120, firstPollSeconds: 60, maxPollSeconds: 600 };

let db: PaceDB;
let clock: number;
let ids: number;
let creds: Credentials & { demo: boolean };
beforeEach(async () => {
  db = new PaceDB(`batch-figures-${Math.random()}`);
  clock = T0;
  ids = 0;
  creds = { apiKey: TEST_KEY, baseURL: server.url, demo: false };
  await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 100_000, perMonth: 1_000_000 });
});
afterEach(() => db.close());

function runner(client: (c: ClaudeClient) => void = () => undefined, overrides: Partial<BatchRunnerDeps> = {}) {
  const wakes: (number | null)[] = [];
  const r = createBatchRunner({
    db,
    now: () => clock,
    credentials: async () => creds,
    settings: async () => SETTINGS,
    prefs: async () => PREFS,
    createClient: (c, headers) => {
      const made = createClaudeClient(c, headers);
      client(made);
      return made;
    },
    answerFromCache: async () => 0,
    notify: async () => undefined,
    wakeAt: (at) => void wakes.push(at),
    changed: () => undefined,
    newId: () => `b${++ids}`,
    random: () => 0.5,
    log: () => undefined,
    ...overrides,
  });
  return { runner: r, wakes };
}

async function askLater(text: string) {
  const e = await addExchange(db, {
    conversationId: null,
    text,
    now: clock,
    newId: () => `id${++ids}`,
    model: MODEL,
    later: true,
  });
  return e.assistantMessageId;
}

const batchCalls = () => server.requests.filter((r) => r.path.startsWith('/v1/messages/batches')).length;
const message = (id: string) => db.messages.get(id);

/** A result line for question `id` whose message is `patch` over a well-formed one. */
function line(id: string, patch: Record<string, unknown>): string {
  const m = {
    id: `msg_${id}`,
    type: 'message',
    role: 'assistant',
    model: MODEL,
    content: [{ type: 'text', text: `answer ${id}` }],
    stop_reason: 'end_turn',
    usage: { input_tokens: 10, output_tokens: 20 },
    ...patch,
  };
  return JSON.stringify({ custom_id: id, result: { type: 'succeeded', message: m } });
}

describe("a batch's result lines are checked as the stream is", () => {
  it('fails each malformed line alone, counting nothing of it, prices a cheaper model at the one asked for, and the month stays a number admission can refuse by', async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 0.05 });
    const good = await askLater('good');
    const empty = await askLater('empty usage');
    const negative = await askLater('negative');
    const notList = await askLater('content x');
    const cheap = await askLater('cheap');
    const lines = [
      line(good, {}),
      line(empty, { usage: {} }),
      line(negative, { usage: { input_tokens: -50, output_tokens: 10 } }),
      line(notList, { content: 'x' }),
      line(cheap, { model: 'claude-3-haiku', usage: { input_tokens: 1000, output_tokens: 100 } }),
    ].join('\n');
    const h = runner((c) => {
      c.messages.batches.results = async () => ({ text: lines, cut: false });
    });
    clock = GO;
    await h.runner.tick();
    expect(await reservedIds(db)).toHaveLength(5);
    clock = h.wakes.at(-1)!;
    await h.runner.tick();
    expect(await db.batches.toArray()).toMatchObject([{ state: 'ended' }]);

    expect(await message(good)).toMatchObject({ status: 'done', text: `answer ${good}` });
    expect(await message(cheap)).toMatchObject({ status: 'done', text: `answer ${cheap}` });
    const malformed = (why: string) => ({
      status: 'error',
      batch: true,
      error: {
        code: 'bad_answer',
        action: 'retry',
        message: `Anthropic's batch result for this question was malformed (${why}); nothing was counted. Send now to ask again.`,
      },
    });
    expect(await message(empty)).toMatchObject(malformed('usage.input_tokens is not a whole number'));
    expect(await message(negative)).toMatchObject(malformed('usage.input_tokens is negative'));
    expect(await message(notList)).toMatchObject(malformed('content is not a list'));

    const rows = await db.usage.toArray();
    for (const r of rows) expect(r.costUsd === null || Number.isFinite(r.costUsd)).toBe(true);
    const byMessage = Object.fromEntries(rows.map((r) => [r.messageId, r]));
    for (const id of [empty, negative, notList])
      expect(byMessage[id]).toMatchObject({
        outcome: 'batch_errored',
        costUsd: 0,
        usage: { inputTokens: 0, outputTokens: 0 },
      });
    const cheapUsage = { inputTokens: 1000, outputTokens: 100, cacheReadTokens: 0, cacheCreationTokens: 0 };
    expect(byMessage[cheap]!.costUsd).toBeCloseTo(batchCostBreakdown(MODEL, cheapUsage)!.total, 12);
    expect(byMessage[cheap]!.costUsd).toBeGreaterThan(batchCostBreakdown('claude-3-haiku', cheapUsage)!.total);
    const spent =
      batchCostBreakdown(MODEL, { inputTokens: 10, outputTokens: 20, cacheReadTokens: 0, cacheCreationTokens: 0 })!
        .total + batchCostBreakdown(MODEL, cheapUsage)!.total;

    const month = (await db.usageMonths.get(monthWindow(clock, 'utc').key))!;
    expect(month.costUsd).toBeCloseTo(spent, 12);
    expect(await reservedIds(db)).toEqual([]);
    const view = (await readBudgetView(db, clock))!.periods[0]!;
    expect(view.settled).toBeCloseTo(spent, 12);
    expect(view.reserved).toBe(0);

    // What fits in what is left goes; what does not is refused.
    expect(await admit(db, clock, null, { cost: { model: MODEL, inputTokens: 1000, maxTokens: 1000 } })).toMatchObject({
      ok: true,
    });
    expect(
      await admit(db, clock, null, { cost: { model: MODEL, inputTokens: 1000, maxTokens: 100_000 } }),
    ).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('fails every question of a results file too large to read, saying so, and the budget keeps their worst case', async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 5 });
    const q = await askLater('huge');
    const h = runner((c) => {
      c.messages.batches.results = async () => ({ text: '', cut: true });
    });
    clock = GO;
    await h.runner.tick();
    const reserved = (await readBudgetView(db, clock))!.periods[0]!.reserved;
    expect(reserved).toBeGreaterThan(0);
    clock = h.wakes.at(-1)!;
    await h.runner.tick();
    expect(await message(q)).toMatchObject({
      status: 'error',
      error: { action: 'retry', message: expect.stringContaining('larger than Pace reads (64 MB)') as string },
    });
    expect(await db.usage.toArray()).toMatchObject([{ outcome: 'batch_errored', costUsd: null, usageUnknown: true }]);
    expect((await readBudgetView(db, clock))!.periods[0]).toMatchObject({
      settled: expect.closeTo(reserved, 12) as number,
      reserved: 0,
    });
  });
});

describe('a batch is not given up while Anthropic still holds its results', () => {
  it('polls on through failures past 24 hours, backing off to an hour, and gives up only on a 404', async () => {
    let answer: 'error' | 'gone' = 'error';
    const polls: number[] = [];
    const h = runner((c) => {
      c.messages.batches.retrieve = async () => {
        polls.push(clock);
        if (answer === 'gone')
          throw new NotFoundError(
            404,
            { type: 'error', error: { type: 'not_found_error', message: 'no such batch' } },
            'no such batch',
            new Headers(),
          );
        throw new InternalServerError(
          500,
          { type: 'error', error: { type: 'api_error', message: 'down' } },
          'down',
          new Headers(),
        );
      };
    });
    const q = await askLater('patient');
    clock = GO;
    await h.runner.tick();
    while (clock < GO + 30 * HOUR) {
      clock = h.wakes.at(-1)!;
      await h.runner.tick();
      expect((await db.batches.toArray())[0]?.state).toBe('running');
    }
    expect(await db.jobs.get(q)).toMatchObject({ state: 'batched' });
    const gaps = polls.slice(1).map((t, i) => t - polls[i]!);
    expect(Math.max(...gaps)).toBe(HOUR);
    expect(gaps.slice(-3)).toEqual([HOUR, HOUR, HOUR]);
    // Backing off: a minute, two, four... then hourly, far fewer polls than one every ten minutes.
    expect(gaps.slice(0, 3)).toEqual([60_000, 2 * 60_000, 4 * 60_000]);
    expect(polls.length).toBeLessThan(40);

    answer = 'gone';
    const polled = polls.length;
    while (polls.length === polled) {
      clock = h.wakes.at(-1)!;
      await h.runner.tick();
    }
    expect((await db.batches.toArray())[0]?.state).toBe('ended');
    expect(await message(q)).toMatchObject({
      status: 'error',
      error: { action: 'retry', message: expect.stringContaining('Send now') as string },
    });
  });
});

describe('a batch is read only with the key and at the address it was sent with', () => {
  it('keeps a fingerprint of the key, never the key; waits, saying why, while another key or address is saved; and reads its results once switched back', async () => {
    const q = await askLater('whose key?');
    const h = runner();
    clock = GO;
    await h.runner.tick();
    const [batch] = await db.batches.toArray();
    expect(batch).toMatchObject({
      state: 'running',
      baseURL: server.url,
      keyId: expect.stringMatching(/^[0-9a-f]{16}$/) as string,
    });
    const dump = JSON.stringify(await Promise.all(db.tables.map((t) => t.toArray())));
    expect(dump).not.toContain(TEST_KEY);

    const callsBefore = batchCalls();
    const waiting = 'Waiting: this batch was sent with another key/address; switch back to read its results.';
    creds = { ...creds, apiKey: 'sk-ant-another-key-000000000000' };
    clock = h.wakes.at(-1)!;
    await h.runner.tick();
    expect(await message(q)).toMatchObject({ status: 'pending', error: { message: waiting } });
    creds = { apiKey: TEST_KEY, baseURL: 'http://127.0.0.1:9', demo: false };
    clock = h.wakes.at(-1)!;
    await h.runner.tick();
    expect(batchCalls()).toBe(callsBefore);
    expect(await db.jobs.get(q)).toMatchObject({ state: 'batched' });
    await expect(h.runner.cancel(q)).rejects.toMatchObject({ error: { code: 'wrong_key' } });

    creds = { apiKey: TEST_KEY, baseURL: server.url, demo: false };
    for (let i = 0; i < 5 && (await message(q))?.status !== 'done'; i++) {
      clock = h.wakes.at(-1)!;
      await h.runner.tick();
    }
    expect(await message(q)).toMatchObject({ status: 'done', text: 'You said: "whose key?"' });
    expect(batchCalls()).toBeGreaterThan(callsBefore);
  });
});
