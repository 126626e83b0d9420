/** The token limits end to end inside the background: measuring, admitting, counting from the stream. */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentBadge } from '@/lib/badge/badge-updater';
import { createChatRunner } from '@/lib/queue/chat-runner';
import { createKeepAlive } from '@/lib/background/keep-alive';
import { createMeasureRequest } from '@/lib/limits/measure-job';
import { addExchange } from '@/lib/chat/conversation-store';
import { createClaudeClient } from '@/lib/claude/client';
import { WINDOW_MS } from '@/lib/limits/admission';
import { NO_BUDGET } from '@/lib/limits/budget';
import { saveBudget } from '@/lib/limits/budget-store';
import { readQuotaState, readServerLimits, saveLimits, saveServerLimits } from '@/lib/limits/limiter-store';
import { admit } from '@/lib/limits/admit';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import type { Limits, PaceError } from '@/lib/storage/rows';
import { countInput, countOutput, readTokenLog, saveServerLimitsFor } from '@/lib/limits/token-store';
import { createScheduler, MEASURE_RETRY_MS } from '@/lib/queue/scheduler';
import { wait } from '@/lib/queue/job-store';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB, type Job } from '@/lib/storage/db';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';

let server: ClaudeServer;
let db: PaceDB;
useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`tokens-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

const T = Date.UTC(2026, 10, 30, 12);
const limits = (input: number | null, output: number | null = null): Limits => ({
  ...DEFAULT_LIMITS,
  plan: 'custom',
  perMinute: 100,
  perMonth: 10_000,
  inputPerMinute: input,
  outputPerMinute: output,
});
const settings = async () => ({ ...DEFAULT_SETTINGS, model: 'claude-haiku-4-5', maxTokens: 300, systemPrompt: '' });
let ids = 0;
const ask = (text: string, now = T) =>
  addExchange(db, { conversationId: null, text, now, newId: () => `t${++ids}`, model: 'claude-haiku-4-5' });
const jobOf = async (id: string) => (await db.jobs.get(id))!;

/**
 * The measurement as the scheduler gets it, less the request it measured (checked here: the one the
 * runner will send, built from the job's conversation), so the cases below compare the figures.
 */
function need(overrides: Partial<Parameters<typeof createMeasureRequest>[0]> = {}) {
  const measure = createMeasureRequest({
    db,
    now: () => T,
    settings,
    credentials: async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false }),
    createClient: createClaudeClient,
    log: () => undefined,
    ...overrides,
  });
  return async (job: Job) => {
    const measured = await measure(job);
    if (!measured.ok) return measured;
    const { request, ...figures } = measured;
    const question = (await db.messages.where({ conversationId: job.conversationId }).sortBy('createdAt')).at(-2);
    expect(request?.messages.at(-1)).toEqual({ role: 'user', content: question?.text });
    return figures;
  };
}
const counts = () => server.requests.filter((r) => r.path === '/v1/messages/count_tokens').length;

describe('admission with token limits', () => {
  it('records the input a request was admitted with, and holds the next one until enough has left the minute', async () => {
    await saveLimits(db, limits(1_000));
    const [a, b] = [await ask('a'), await ask('b')];
    expect(await admit(db, T, a.assistantMessageId, { need: { inputTokens: 700, outputTokens: 0 } })).toMatchObject({
      ok: true,
    });
    expect(await admit(db, T + 5, b.assistantMessageId, { need: { inputTokens: 400, outputTokens: 0 } })).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: T + WINDOW_MS,
    });
    expect((await readTokenLog(db)).input).toEqual([{ at: T, tokens: 700, job: a.assistantMessageId }]);
    // The answer's usage said 500 (a prompt-cache read does not count): 400 more fit now.
    await countInput(db, a.assistantMessageId, 500);
    expect(await admit(db, T + 6, b.assistantMessageId, { need: { inputTokens: 400, outputTokens: 0 } })).toMatchObject(
      { ok: true },
    );
  });

  it('holds the next request while the output produced this minute leaves no room for its answer', async () => {
    await saveLimits(db, limits(null, 1_000));
    const a = await ask('a');
    await countOutput(db, 'earlier', 800, T);
    expect(await admit(db, T + 1, a.assistantMessageId, { need: { inputTokens: 10, outputTokens: 300 } })).toEqual({
      ok: false,
      reason: 'outputTokens',
      retryAt: T + WINDOW_MS,
    });
    expect(
      await admit(db, T + WINDOW_MS, a.assistantMessageId, { need: { inputTokens: 10, outputTokens: 300 } }),
    ).toMatchObject({ ok: true });
  });

  it('counts the output room of an answer on its way: a second answer at once waits, even when max_tokens is above the limit', async () => {
    await saveLimits(db, limits(null, 8_000));
    const [a, b] = [await ask('a'), await ask('b')];
    expect(await admit(db, T, a.assistantMessageId, { need: { inputTokens: 10, outputTokens: 8_000 } })).toMatchObject({
      ok: true,
    });
    expect((await readTokenLog(db)).output).toEqual([{ at: T, tokens: 8_000, job: a.assistantMessageId }]);
    expect(await admit(db, T + 1, b.assistantMessageId, { need: { inputTokens: 10, outputTokens: 8_000 } })).toEqual({
      ok: false,
      reason: 'outputTokens',
      retryAt: T + WINDOW_MS,
    });
    // A limit below max_tokens: the room is the whole limit, so the answer goes alone.
    await saveLimits(db, limits(null, 5_000));
    const c = await ask('c');
    expect(
      await admit(db, T + WINDOW_MS, c.assistantMessageId, { need: { inputTokens: 10, outputTokens: 8_000 } }),
    ).toMatchObject({ ok: true });
    expect((await readTokenLog(db)).output.at(-1)).toEqual({
      at: T + WINDOW_MS,
      tokens: 5_000,
      job: c.assistantMessageId,
    });
    expect(
      await admit(db, T + WINDOW_MS + 1, b.assistantMessageId, { need: { inputTokens: 10, outputTokens: 1 } }),
    ).toEqual({ ok: false, reason: 'outputTokens', retryAt: T + 2 * WINDOW_MS });
  });

  it('only lib/limits/token-store.ts writes the tokens row', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    const writers = files('lib').filter((f) => /\.put\(\{\s*key:\s*'tokens'/.test(readFileSync(f, 'utf8')));
    expect(writers).toEqual([join('lib', 'limits', 'token-store.ts')]);
  });

  it("dates Anthropic's figures from just after the request that brought them, so what was sent meanwhile is taken off them", async () => {
    const [a, b, c] = [await ask('a'), await ask('b'), await ask('c')];
    await admit(db, T, a.assistantMessageId, { need: { inputTokens: 3_000, outputTokens: 0 } });
    // b goes while a's answer is on its way: the figures a's answer brings may not count it.
    await admit(db, T + 100, b.assistantMessageId, { need: { inputTokens: 3_000, outputTokens: 0 } });
    await saveServerLimitsFor(
      db,
      {
        limit: 50,
        remaining: 48,
        reset: T + 20_000,
        observedAt: T + 500,
        inputTokens: { limit: 10_000, remaining: 7_000, reset: T + 20_000 },
      },
      a.assistantMessageId,
    );
    expect(await readServerLimits(db)).toMatchObject({ observedAt: T + 1, readAt: T + 500 });
    // 7,000 at the least 6,500, less b's 3,000: c's 3,000 fit, 4,000 would not until the bucket,
    // refilling from the read towards 10,000 a second past the reset, has 500 more.
    const refilledBy = (tokens: number) => Math.ceil(T + 500 + (tokens * 20_500) / 3_500);
    expect(await admit(db, T + 600, c.assistantMessageId, { need: { inputTokens: 4_000, outputTokens: 0 } })).toEqual({
      ok: false,
      reason: 'inputTokens',
      retryAt: refilledBy(500),
    });
    expect(
      await admit(db, T + 600, c.assistantMessageId, { need: { inputTokens: 3_000, outputTokens: 0 } }),
    ).toMatchObject({ ok: true });
  });

  it('ignores a damaged token row or rate-limit row instead of stopping the queue', async () => {
    await saveLimits(db, limits(1_000));
    await db.meta.put({ key: 'tokens', value: { input: 'lots', output: [] } as never });
    await db.meta.put({
      key: 'server',
      value: {
        limit: 5,
        remaining: 5,
        reset: T + 9,
        observedAt: T,
        inputTokens: { limit: -1, remaining: 0, reset: T },
      },
    });
    const a = await ask('a');
    expect(await admit(db, T, a.assistantMessageId, { need: { inputTokens: 900, outputTokens: 0 } })).toMatchObject({
      ok: true,
    });
    expect(await readServerLimits(db)).toBe(null);
  });
});

describe('measuring a request before admission', () => {
  it('estimates far from the limit, asks count_tokens close to it, and refuses one that can never fit', async () => {
    const long = 'x'.repeat(4_000); // about 1,000 tokens
    const ex = await ask(long);
    await saveLimits(db, limits(100_000));
    expect(await need()(await jobOf(ex.assistantMessageId))).toEqual({
      ok: true,
      need: { inputTokens: 1_000, outputTokens: 300 },
      cost: null,
    });
    expect(counts()).toBe(0);
    await saveLimits(db, limits(1_500));
    expect(await need()(await jobOf(ex.assistantMessageId))).toEqual({
      ok: true,
      need: { inputTokens: 1_000, outputTokens: 300 },
      cost: null,
    });
    expect(counts()).toBe(1);
    await saveLimits(db, limits(900));
    const refused = await need()(await jobOf(ex.assistantMessageId));
    expect(refused).toEqual({
      ok: false,
      error: {
        code: 'too_large',
        message:
          'This request is about 1,000 input tokens; your limit is 900 input tokens a minute, so it can never be sent. Start a new chat, or raise the input-token limit on the options page.',
        action: 'new_chat',
      },
    });
  });

  it("counts the estimate with no input limit in force too (the runner's real count replaces it), and Anthropic's figure as a limit", async () => {
    const ex = await ask('hello there');
    expect(await need()(await jobOf(ex.assistantMessageId))).toEqual({
      ok: true,
      need: { inputTokens: 3, outputTokens: 300 },
      cost: null,
    });
    await saveServerLimits(db, {
      limit: 50,
      remaining: 50,
      reset: T + 30_000,
      observedAt: T,
      inputTokens: { limit: 20_000, remaining: 20_000, reset: T + 30_000 },
    });
    expect(await need()(await jobOf(ex.assistantMessageId))).toEqual({
      ok: true,
      need: { inputTokens: 3, outputTokens: 300 },
      cost: null,
    });
  });

  it('with a budget set, reserves for the same input figure the token minute counts: the exact count when it was asked', async () => {
    await saveLimits(db, limits(1_500));
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 50 });
    const ex = await ask('x'.repeat(4_000)); // 1,000 by the estimate
    // The API counts 1,200.
    const createClient: typeof createClaudeClient = (c, h) => {
      const client = createClaudeClient(c, h);
      client.messages.countTokens = async () => ({ input_tokens: 1_200 });
      return client;
    };
    const started: string[] = [];
    const scheduler = createScheduler({
      db,
      now: () => T,
      blocker: async () => null,
      startJob: async (job: Job) => void started.push(job.id),
      failJob: async () => undefined,
      wakeAt: () => undefined,
      changed: () => undefined,
      measure: need({ createClient }),
      log: () => undefined,
    });
    await scheduler.pump();
    expect(started).toEqual([ex.assistantMessageId]);
    expect((await readTokenLog(db)).input).toEqual([{ at: T, tokens: 1_200, job: ex.assistantMessageId }]);
    const spend = await db.meta.get('spend');
    // Haiku 4.5, the prompt cache on: 1,200 in at the $1.25 write price, 300 out at $5 a million.
    expect(spend?.key === 'spend' && Object.values(spend.value.reserved).map((r) => r.usd)).toEqual([
      (1_200 * 1.25 + 300 * 5) / 1e6,
    ]);
  });

  it('holds a job whose request could not be measured, and admits nothing unmeasured', async () => {
    await saveLimits(db, limits(1_000));
    const ex = await ask('hello');
    const started: string[] = [];
    const scheduler = createScheduler({
      db,
      now: () => T,
      blocker: async () => null,
      startJob: async (job: Job) => void started.push(job.id),
      failJob: async () => undefined,
      wakeAt: () => undefined,
      changed: () => undefined,
      measure: async () => Promise.reject(new Error('the conversation could not be read')),
      log: () => undefined,
    });
    await scheduler.pump();
    expect(started).toEqual([]);
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({
      state: 'waiting',
      waitReason: 'backoff',
      waitUntil: T + MEASURE_RETRY_MS,
    });
    expect((await readQuotaState(db, T)).state.monthCount).toBe(0);
    expect((await readTokenLog(db)).input).toEqual([]);
  });

  it('the scheduler fails a request that can never fit, with the figures, and counts nothing', async () => {
    await saveLimits(db, limits(10));
    await ask('y'.repeat(400));
    const failed: PaceError[] = [];
    const started: string[] = [];
    const scheduler = createScheduler({
      db,
      now: () => T,
      blocker: async () => null,
      startJob: async (job: Job) => void started.push(job.id),
      failJob: async (_job, error) => void failed.push(error),
      wakeAt: () => undefined,
      changed: () => undefined,
      measure: need(),
      log: () => undefined,
    });
    await scheduler.pump();
    expect(started).toEqual([]);
    expect(failed.map((e) => e.code)).toEqual(['too_large']);
    expect((await readQuotaState(db, T)).state.monthCount).toBe(0);
  });
});

describe('the console when measuring fails', () => {
  it("logs only the kind and status of a failed count_tokens, never a gateway's text echoing the key or a header", async () => {
    const secretHeader = 'header-secret-value-12345';
    const gateway = createServer((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          type: 'error',
          error: {
            type: 'authentication_error',
            message: `bad key ${String(req.headers['x-api-key'])} with ${String(req.headers['x-team'])}`,
          },
        }),
      );
    });
    await new Promise<void>((done) => gateway.listen(0, '127.0.0.1', done));
    const { port } = gateway.address() as AddressInfo;
    try {
      await saveLimits(db, limits(1_500));
      const ex = await ask('x'.repeat(4_000));
      const lines: string[] = [];
      const measured = await need({
        credentials: async () => ({ apiKey: TEST_KEY, baseURL: `http://127.0.0.1:${port}`, demo: false }),
        settings: async () => ({ ...(await settings()), extraHeaders: `x-team: ${secretHeader}` }),
        log: (m, d) => void lines.push(`${m} ${typeof d === 'string' ? d : JSON.stringify(d)}`),
      })(await jobOf(ex.assistantMessageId));
      expect(measured).toEqual({ ok: true, need: { inputTokens: 1_000, outputTokens: 300 }, cost: null });
      expect(lines).toEqual(['could not count tokens; deciding from the estimate API error 401']);
    } finally {
      await new Promise((done) => gateway.close(done));
    }
  });

  it('the scheduler logs only the kind of a measurement that threw, not its text', async () => {
    await ask('hello');
    const lines: string[] = [];
    const scheduler = createScheduler({
      db,
      now: () => T,
      blocker: async () => null,
      startJob: async () => undefined,
      failJob: async () => undefined,
      wakeAt: () => undefined,
      changed: () => undefined,
      measure: async () => {
        throw new TypeError(`failed with key ${TEST_KEY}`);
      },
      log: (m, d) => void lines.push(`${m} ${typeof d === 'string' ? d : JSON.stringify(d)}`),
    });
    await scheduler.pump();
    expect(lines.some((l) => l.includes(TEST_KEY))).toBe(false);
    expect(lines).toContain('could not measure the request; it waits TypeError');
  });
});

/** The runner alone, against the local Claude server: each test admits its job itself and starts it, with no queue. */
const localRunner = () =>
  createChatRunner({
    db,
    credentials: async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false }),
    settings,
    createClient: createClaudeClient,
    publish: () => undefined,
    keepAlive: createKeepAlive(async () => undefined, 5),
    log: () => undefined,
  });

describe('the runner counts tokens from the stream', () => {
  it("puts the answer's real input in place of the estimate and adds its output", async () => {
    server.script({ kind: 'text', text: 'z'.repeat(400) });
    const ex = await ask('q'.repeat(2_000));
    await saveLimits(db, limits(50_000, 50_000));
    const now = Date.now();
    expect(
      await admit(db, now, ex.assistantMessageId, { need: { inputTokens: 9_999, outputTokens: 300 } }),
    ).toMatchObject({ ok: true });
    const job = await jobOf(ex.assistantMessageId);
    const runner = localRunner();
    await runner.start(job);
    const log = await readTokenLog(db);
    const reported = server.messageRequests().at(-1)!.usage!;
    expect(log.input.map((s) => s.tokens)).toEqual([reported.input_tokens + reported.cache_creation_input_tokens]);
    expect(log.input[0]!.tokens).toBe(500);
    // The room reserved at admission (300) became the real output, still dated from admission.
    expect(log.output).toEqual([{ at: now, tokens: 100, job: ex.assistantMessageId }]);
  });

  it('an answer cut off before its usage arrived keeps the output room admission reserved', async () => {
    server.script({ kind: 'drop', textBefore: 'partial answer' });
    const ex = await ask('cut off');
    await saveLimits(db, limits(50_000, 50_000));
    const now = Date.now();
    await admit(db, now, ex.assistantMessageId, { need: { inputTokens: 100, outputTokens: 300 } });
    const runner = localRunner();
    await runner.start(await jobOf(ex.assistantMessageId));
    expect((await jobOf(ex.assistantMessageId)).log?.at(-1)?.outcome).toBe('unreachable');
    expect((await readTokenLog(db)).output).toEqual([{ at: now, tokens: 300, job: ex.assistantMessageId }]);
  });

  it('gives back the input of a request the API refused before reading it', async () => {
    server.script({ kind: 'error', status: 529, type: 'overloaded_error' });
    const ex = await ask('refused');
    const now = Date.now();
    await admit(db, now, ex.assistantMessageId, { need: { inputTokens: 2_000, outputTokens: 300 } });
    const runner = localRunner();
    await runner.start(await jobOf(ex.assistantMessageId));
    expect((await readTokenLog(db)).input.map((s) => s.tokens)).toEqual([0]);
    expect((await readTokenLog(db)).output.map((s) => s.tokens)).toEqual([0]);
  });
});

describe('the badge', () => {
  it('counts down while the next message waits for the token budget, as for the minute', async () => {
    await saveLimits(db, limits(1_000));
    const ex = await ask('waiting');
    await wait(db, [ex.assistantMessageId], { waitReason: 'outputTokens', waitUntil: T + 20_000 });
    expect((await currentBadge(db, T)).view.text).toBe('20s');
  });
});
