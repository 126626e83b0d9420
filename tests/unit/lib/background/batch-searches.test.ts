/**
 * Issue 24 in the batch runner: a result's thinking, web searches, their pages and citations are
 * placed on the answer as a streamed answer's are; its searches are priced at full price (the
 * Batch API halves tokens only) in the ledger, the totals and the budget; a search count that is
 * not one fails its line alone and counts nothing. The runner against the local Claude server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBatchRunner, type BatchRunnerDeps } from '@/lib/batch/batch-runner';
import { addExchange } from '@/lib/chat/conversation-store';
import { createClaudeClient, type ClaudeClient, type Credentials } from '@/lib/claude/client';
import { NO_BUDGET } from '@/lib/limits/budget';
import { readBudgetView, saveBudget } from '@/lib/limits/budget-store';
import { saveLimits } from '@/lib/limits/limiter-store';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { DEFAULT_BATCH_PREFS, type BatchPrefs } from '@/lib/settings/batch-prefs';
import { DEFAULT_SETTINGS, type Settings } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { batchCostBreakdown, costBreakdown } from '@/lib/usage/prices';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';

let server: ClaudeServer;
useClaudeServer((s) => (server = s), { batches: { inProgressPolls: 0 } });

const T0 = Date.UTC(2026, 10, 16, 12, 0, 0);
const GO = T0 + 1 + 120_000;
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

const searched = [
  { type: 'thinking', thinking: 'I should look this up.', signature: 'sig' },
  { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'pace release' } },
  {
    type: 'web_search_tool_result',
    tool_use_id: 'srvtoolu_1',
    content: [
      {
        type: 'web_search_result',
        url: 'https://example.com/a',
        title: 'A',
        page_age: 'May 1, 2026',
        encrypted_content: 'e',
      },
      { type: 'web_search_result', url: 'https://example.com/b', title: 'B', page_age: null, encrypted_content: 'e' },
    ],
  },
  {
    type: 'text',
    text: 'Pace 2 is out',
    citations: [
      {
        type: 'web_search_result_location',
        url: 'https://example.com/a',
        title: 'A',
        cited_text: 'Pace 2 released.',
        encrypted_index: 'x',
      },
    ],
  },
  { type: 'text', text: ' since May.', citations: null },
];

describe("a batch answer's thinking and searches", () => {
  it('places them on the answer and prices the searches at full price beside half-price tokens', async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 5 });
    const q = await askLater('what is new');
    const usage = {
      input_tokens: 3000,
      output_tokens: 400,
      server_tool_use: { web_search_requests: 2, web_fetch_requests: 0 },
    };
    const h = runner((c) => {
      c.messages.batches.results = async () => ({ text: line(q, { content: searched, usage }), cut: false });
    });
    clock = GO;
    await h.runner.tick();
    clock = h.wakes.at(-1)!;
    await h.runner.tick();

    expect(await message(q)).toMatchObject({
      status: 'done',
      batch: true,
      text: 'Pace 2 is out since May.',
      thinking: 'I should look this up.',
      webSearches: 2,
      sources: [
        { url: 'https://example.com/a', title: 'A', pageAge: 'May 1, 2026' },
        { url: 'https://example.com/b', title: 'B' },
      ],
      citations: [{ kind: 'web', url: 'https://example.com/a', title: 'A', citedText: 'Pace 2 released.' }],
    });
    const tokens = { inputTokens: 3000, outputTokens: 400, cacheReadTokens: 0, cacheCreationTokens: 0 };
    const half = batchCostBreakdown(MODEL, tokens)!.total;
    expect(half).toBeCloseTo(costBreakdown(MODEL, tokens)!.total / 2, 12);
    const [row] = await db.usage.toArray();
    expect(row).toMatchObject({ outcome: 'ok', batch: true, usage: { ...tokens, webSearches: 2 } });
    expect(row!.costUsd).toBeCloseTo(half + 0.02, 12);
    expect(row!.webSearchUsd).toBeCloseTo(0.02, 12);
    const month = (await db.usageMonths.get(monthWindow(clock, 'utc').key))!;
    expect(month).toMatchObject({ webSearches: 2, webSearchUsd: expect.closeTo(0.02, 12) as number });
    expect(month.costUsd).toBeCloseTo(half + 0.02, 12);
    expect((await readBudgetView(db, clock))!.periods[0]).toMatchObject({
      settled: expect.closeTo(half + 0.02, 12) as number,
      reserved: 0,
    });
  });

  it('fails a line whose search count is not one, alone, counting nothing of it: the month stays a sum of real costs', async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 5 });
    const good = await askLater('good');
    const bad = { negative: -3, text: 'x', fraction: 1.5, absurd: 5_000, list: [2] };
    const qs = Object.fromEntries(
      await Promise.all(Object.keys(bad).map(async (k) => [k, await askLater(k)] as const)),
    );
    const lines = [
      line(good, { usage: { input_tokens: 10, output_tokens: 20, server_tool_use: { web_search_requests: 1 } } }),
      ...Object.entries(bad).map(([k, n]) =>
        line(qs[k]!, { usage: { input_tokens: 10, output_tokens: 20, server_tool_use: { web_search_requests: n } } }),
      ),
    ].join('\n');
    const h = runner((c) => {
      c.messages.batches.results = async () => ({ text: lines, cut: false });
    });
    clock = GO;
    await h.runner.tick();
    clock = h.wakes.at(-1)!;
    await h.runner.tick();

    expect(await message(good)).toMatchObject({ status: 'done', webSearches: 1 });
    for (const k of Object.keys(bad))
      expect(await message(qs[k]!), k).toMatchObject({
        status: 'error',
        error: {
          code: 'bad_answer',
          message: expect.stringContaining('usage.server_tool_use.web_search_requests') as string,
        },
      });
    const goodCost = batchCostBreakdown(MODEL, {
      inputTokens: 10,
      outputTokens: 20,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      webSearches: 1,
    })!.total;
    const month = (await db.usageMonths.get(monthWindow(clock, 'utc').key))!;
    expect(month).toMatchObject({ webSearches: 1, webSearchUsd: expect.closeTo(0.01, 12) as number });
    expect(month.costUsd).toBeCloseTo(goodCost, 12);
    expect((await readBudgetView(db, clock))!.periods[0]!.settled).toBeCloseTo(goodCost, 12);
  });
});
