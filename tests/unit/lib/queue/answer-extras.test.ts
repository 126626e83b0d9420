/**
 * Issue 24, the answer's side: thinking, web searches and citations streamed by the local Claude
 * server (tests/support/claude-server.ts) through the real SDK and runner into the message, the
 * pushes to open pages, the checkpoints, the ledger and the cache.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeepAlive } from '@/lib/background/keep-alive';
import { addExchange } from '@/lib/chat/conversation-store';
import { createClaudeClient } from '@/lib/claude/client';
import type { MessageRequest } from '@/lib/claude/request';
import { admit } from '@/lib/limits/admit';
import { NO_BUDGET, worstCaseUsd } from '@/lib/limits/budget';
import { readBudgetView, saveBudget } from '@/lib/limits/budget-store';
import { createChatRunner, type RunnerDeps } from '@/lib/queue/chat-runner';
import * as jobStore from '@/lib/queue/job-store';
import type { AnswerProgress } from '@/lib/protocol';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { priceFor, WEB_SEARCH_USD } from '@/lib/usage/prices';
import { pdfBase64 } from '../../../support/claude-server-fixtures';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';

let server: ClaudeServer;
let db: PaceDB;
let events: AnswerProgress[];

useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`extras-${Math.random()}`);
  events = [];
});
afterEach(async () => {
  await db.delete();
});

const MODEL = 'claude-haiku-4-5';
const SEARCH_TOOL = { type: 'web_search_20250305', name: 'web_search', max_uses: 3 };

function runner(overrides: Partial<RunnerDeps> = {}) {
  return createChatRunner({
    db,
    credentials: async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false }),
    settings: async () => ({ ...DEFAULT_SETTINGS, model: MODEL, maxTokens: 4000, promptCache: 'off' }),
    createClient: createClaudeClient,
    publish: (e) => events.push(e),
    keepAlive: createKeepAlive(async () => undefined, 5),
    checkpointMs: 10,
    publishMs: 0,
    usagePrefs: async () => ({ cacheHours: 24 }),
    log: () => undefined,
    ...overrides,
  });
}

let ids = 0;
const ask = (text: string) =>
  addExchange(db, { conversationId: null, text, now: Date.now(), newId: () => `x${++ids}`, model: MODEL });

/** The request as the input side builds it (thinking on, the search tool offered), sent as admitted. */
function request(text: string, extra: Record<string, unknown>): MessageRequest {
  return {
    model: MODEL,
    max_tokens: 4000,
    messages: [{ role: 'user', content: text }],
    ...extra,
  };
}

/** Admits the answer's job through the real admission (its ledger row opens), then runs it with `req`. */
async function answer(r: ReturnType<typeof runner>, id: string, req: MessageRequest) {
  const admitted = await admit(db, Date.now(), id);
  if (!admitted.ok) throw new Error('not admitted');
  const job = (await db.jobs.get(id))!;
  await r.start(job, undefined, { request: req });
}

const THINKING = { thinking: { type: 'enabled', budget_tokens: 1024 } };

describe('thinking', () => {
  it('keeps the thinking on the answer, pushes it to pages before the text, and prices it as output', async () => {
    const thought = 'First I add two and two. That makes four, which I state plainly.';
    server.script({ kind: 'text', text: 'Four.', thinking: thought, chunkSize: 6, delayMs: 2 });
    const ex = await ask('What is 2 + 2?');
    await answer(runner(), ex.assistantMessageId, request('What is 2 + 2?', THINKING));

    const m = (await db.messages.get(ex.assistantMessageId))!;
    expect(m).toMatchObject({ status: 'done', text: 'Four.', thinking: thought });
    const mine = events.filter((e) => e.messageId === ex.assistantMessageId);
    // Thinking is shown live, before the first words of the text.
    expect(mine.some((e) => e.text === '' && (e.thinking ?? '').length > 0)).toBe(true);
    expect(mine.at(-1)).toEqual({
      type: 'answer.progress',
      messageId: ex.assistantMessageId,
      text: 'Four.',
      thinking: thought,
    });
    const figures = server.messageRequests()[0]!.answer!;
    expect(figures.thinkingTokens).toBeGreaterThan(0);
    const [row] = await db.usage.toArray();
    // The thinking tokens are in output_tokens: the ledger counts and prices them once, as output.
    expect(row!.usage.outputTokens).toBe(figures.outputTokens);
    expect(row!.usage.outputTokens).toBeGreaterThan(figures.thinkingTokens);
    expect(m.usage?.outputTokens).toBe(figures.outputTokens);
  });

  it('checkpoints the thinking while it streams, and a worker stopped mid-answer resumes with it kept until the new one', async () => {
    const thought = 'Long thoughts. '.repeat(40).trim();
    server.script({ kind: 'drop', textBefore: 'Half an ans' });
    const ex = await ask('Think hard');
    const id = ex.assistantMessageId;
    const seen: { text: string; thinking?: string }[] = [];
    const poll = setInterval(() => {
      void db.messages
        .get(id)
        .then((m) => m && m.status === 'streaming' && seen.push({ text: m.text, thinking: m.thinking }));
    }, 5);
    await answer(runner(), id, request('Think hard', THINKING));
    clearInterval(poll);
    // Dropped: the thinking and the text that came are kept with the checkpoint.
    const cut = (await db.messages.get(id))!;
    expect(cut.thinking?.length).toBeGreaterThan(0);
    expect(cut.text).toBe('Half an ans');
    expect(seen.some((s) => (s.thinking ?? '').length > 0)).toBe(true);

    // As if the worker stopped there: the job is recovered and sent again.
    await db.jobs.update(id, { state: 'streaming' });
    await db.messages.update(id, { status: 'streaming' });
    expect(await jobStore.recover(db)).toMatchObject({ resumed: [id] });
    server.script({ kind: 'text', text: 'The whole answer.', thinking: thought, chunkSize: 4, delayMs: 3 });
    const during: { text: string; thinking?: string }[] = [];
    const watch = setInterval(() => {
      void db.messages
        .get(id)
        .then((m) => m && m.status === 'streaming' && during.push({ text: m.text, thinking: m.thinking }));
    }, 3);
    await answer(runner(), id, request('Think hard', THINKING));
    clearInterval(watch);
    // While the new thinking streamed, the cut-off text stayed on screen.
    expect(during.some((s) => s.text === 'Half an ans' && s.thinking !== cut.thinking)).toBe(true);
    expect(await db.messages.get(id)).toMatchObject({ status: 'done', text: 'The whole answer.', thinking: thought });
  });

  it('keeps what a stopped answer thought', async () => {
    server.script({ kind: 'text', text: 'y'.repeat(3000), thinking: 'A short thought.', chunkSize: 5, delayMs: 5 });
    const ex = await ask('go on');
    // No checkpoint before the stop: what is kept is the stop's own write.
    const r = runner({ checkpointMs: 60_000 });
    const done = answer(r, ex.assistantMessageId, request('go on', THINKING));
    await expect.poll(() => events.some((e) => e.messageId === ex.assistantMessageId && e.text.length > 0)).toBe(true);
    r.stop(ex.assistantMessageId);
    await done;
    expect(await db.messages.get(ex.assistantMessageId)).toMatchObject({
      status: 'stopped',
      thinking: 'A short thought.',
    });
  });
});

describe('web search', () => {
  it('keeps the pages found, the citations, the searches and their cost; the text is one paragraph', async () => {
    server.script({
      kind: 'text',
      text: 'Pace two came out in November and added web search.',
      chunkSize: 7,
      delayMs: 1,
    });
    const asked = 'What is new in Pace? [searches:2]';
    const ex = await ask(asked);
    await answer(runner(), ex.assistantMessageId, request(asked, { tools: [SEARCH_TOOL] }));

    const m = (await db.messages.get(ex.assistantMessageId))!;
    expect(m.text).toBe('Pace two came out in November and added web search.');
    expect(m.webSearches).toBe(2);
    expect(m.sources).toHaveLength(6);
    expect(m.sources![0]).toEqual({
      url: 'https://example.com/search-1/what-is-new-in-pace/1',
      title: 'Result 1 for "What is new in Pace?"',
      pageAge: 'November 1, 2026',
    });
    expect(m.sources![2]).not.toHaveProperty('pageAge');
    expect(m.citations).toHaveLength(2);
    expect(m.citations![0]).toMatchObject({ kind: 'web', url: 'https://example.com/search-1/what-is-new-in-pace/1' });

    const figures = server.messageRequests()[0]!.answer!;
    expect(figures.webSearchRequests).toBe(2);
    const [row] = await db.usage.toArray();
    expect(row!.usage.webSearches).toBe(2);
    expect(row!.webSearchUsd).toBeCloseTo(2 * WEB_SEARCH_USD, 12);
    // Haiku 4.5: $1 / $5 per million tokens, plus the two searches.
    const tokens = (row!.usage.inputTokens * 1 + row!.usage.outputTokens * 5) / 1e6;
    expect(row!.costUsd).toBeCloseTo(tokens + 0.02, 12);
    // A searched answer is not kept in the response cache: its sources would be lost, and the web moves on.
    expect(await db.cache.count()).toBe(0);
  });

  it('a retry clears the thinking, sources, citations and searches of the answer it replaces', async () => {
    server.script({ kind: 'text', text: 'Found it.', thinking: 'Let me search.' });
    const asked = 'Find it [searches:1]';
    const ex = await ask(asked);
    await answer(runner(), ex.assistantMessageId, request(asked, { tools: [SEARCH_TOOL], ...THINKING }));
    expect(await db.messages.get(ex.assistantMessageId)).toMatchObject({
      thinking: 'Let me search.',
      webSearches: 1,
      sources: expect.any(Array) as unknown[],
      citations: expect.any(Array) as unknown[],
    });
    await jobStore.retry(db, ex.assistantMessageId, Date.now());
    const cleared = (await db.messages.get(ex.assistantMessageId))!;
    for (const field of ['thinking', 'sources', 'citations', 'webSearches'] as const)
      expect(cleared, field).not.toHaveProperty(field);
    // The new answer, without search or thinking, keeps none of them either.
    server.script({ kind: 'text', text: 'Plain.' });
    await answer(runner(), ex.assistantMessageId, request('Find it', {}));
    const plain = (await db.messages.get(ex.assistantMessageId))!;
    expect(plain.text).toBe('Plain.');
    for (const field of ['thinking', 'sources', 'citations', 'webSearches'] as const)
      expect(plain, field).not.toHaveProperty(field);
  });

  it('a complete answer keeps nothing of what a cut-off attempt before it thought or found', async () => {
    const ex = await ask('again');
    // What a cut-off attempt checkpointed before the worker stopped.
    await db.messages.update(ex.assistantMessageId, {
      text: 'Half',
      thinking: 'Old thought',
      sources: [{ url: 'https://old.example/', title: 'Old' }],
      citations: [{ kind: 'web', citedText: 'old', url: 'https://old.example/' }],
      webSearches: 1,
    });
    server.script({ kind: 'text', text: 'New.' });
    await answer(runner(), ex.assistantMessageId, request('again', {}));
    const m = (await db.messages.get(ex.assistantMessageId))!;
    expect(m.text).toBe('New.');
    for (const field of ['thinking', 'sources', 'citations', 'webSearches'] as const)
      expect(m, field).not.toHaveProperty(field);
  });
});

describe('a search count that is not one', () => {
  it('leaves the cost of the answer unknown, and the budget keeps its worst case with the searches', async () => {
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 5 });
    const ex = await ask('hello');
    const cost = { model: MODEL, inputTokens: 100, maxTokens: 4000, webSearches: 3 };
    server.script({
      kind: 'events',
      events: [
        { type: 'message_start', message: { id: 'm', model: MODEL, usage: { input_tokens: 100, output_tokens: 1 } } },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: 'Hi.' } },
        { type: 'content_block_stop', index: 0 },
        {
          type: 'message_delta',
          delta: { stop_reason: 'end_turn' },
          usage: { output_tokens: 5, server_tool_use: { web_search_requests: 'x' } },
        },
        { type: 'message_stop' },
      ],
    });
    const admitted = await admit(db, Date.now(), ex.assistantMessageId, { cost });
    if (!admitted.ok) throw new Error('not admitted');
    await runner().start((await db.jobs.get(ex.assistantMessageId))!, undefined, {
      request: request('hello', { tools: [SEARCH_TOOL] }),
    });
    expect(await db.messages.get(ex.assistantMessageId)).toMatchObject({ status: 'done', text: 'Hi.' });
    const [row] = await db.usage.toArray();
    expect(row).toMatchObject({ costUsd: null, usageUnknown: true, webSearchUsd: null });
    const worst = worstCaseUsd(priceFor(MODEL)!, cost)!;
    expect((await readBudgetView(db, Date.now()))!.periods[0]).toMatchObject({
      settled: expect.closeTo(worst, 12) as number,
      reserved: 0,
    });
    expect((await db.usageMonths.toArray())[0]).toMatchObject({ webSearches: 0, webSearchUsd: 0, costUsd: 0 });
  });
});

describe('document citations', () => {
  it("keeps a PDF's cited pages with its title, the cited text joined back into one answer", async () => {
    server.script({
      kind: 'text',
      text: 'The report says sales grew twelve percent this year.',
      chunkSize: 5,
      delayMs: 1,
    });
    const ex = await ask('What does the report say?');
    const content = [
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: pdfBase64(['', 'Sales grew 12% this year.']) },
        title: 'Report.pdf',
        citations: { enabled: true },
      },
      { type: 'text', text: 'What does the report say?' },
    ];
    await answer(runner(), ex.assistantMessageId, {
      model: MODEL,
      max_tokens: 4000,
      messages: [{ role: 'user', content }],
    } as unknown as MessageRequest);
    const m = (await db.messages.get(ex.assistantMessageId))!;
    expect(m.text).toBe('The report says sales grew twelve percent this year.');
    expect(m.citations).toEqual([
      { kind: 'document', citedText: expect.any(String) as string, title: 'Report.pdf', pages: [2, 2] },
    ]);
    expect(m.sources).toBeUndefined();
  });
});
