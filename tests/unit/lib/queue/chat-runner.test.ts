import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChatRunner, type RunnerDeps } from '@/lib/queue/chat-runner';
import { createKeepAlive } from '@/lib/background/keep-alive';
import { addExchange, conversationMessages } from '@/lib/chat/conversation-store';
import { createClaudeClient } from '@/lib/claude/client';
import { admit } from '@/lib/limits/admit';
import { monthWindow } from '@/lib/limits/month-window';
import type { AnswerProgress } from '@/lib/protocol';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';

let server: ClaudeServer;
let db: PaceDB;
let events: AnswerProgress[];
let pings: number;

useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`runner-${Math.random()}`);
  events = [];
  pings = 0;
});
afterEach(async () => {
  await db.delete();
});

function runner(overrides: Partial<RunnerDeps> = {}) {
  return createChatRunner({
    db,
    credentials: async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false }),
    settings: async () => ({
      ...DEFAULT_SETTINGS,
      model: 'claude-haiku-4-5',
      maxTokens: 300,
      systemPrompt: 'Be brief.',
    }),
    createClient: createClaudeClient,
    publish: (e) => events.push(e),
    keepAlive: createKeepAlive(async () => pings++, 5),
    checkpointMs: 20,
    publishMs: 0,
    log: () => undefined,
    ...overrides,
  });
}

let ids = 0;
const ask = (text: string, conversationId: string | null = null) =>
  addExchange(db, { conversationId, text, now: Date.now(), newId: () => `m${++ids}`, model: 'claude-haiku-4-5' });

/** Runs the answer's job as the scheduler would once the limiter admitted it. */
async function answer(r: ReturnType<typeof runner>, ex: { assistantMessageId: string }) {
  const job = await db.jobs.get(ex.assistantMessageId);
  await db.jobs.update(job!.id, { state: 'sending', attempts: 1 });
  return r.start({ ...job!, state: 'sending', attempts: 1 });
}

describe('chat runner against the local Claude server, with the real SDK', () => {
  it("a gateway's error that echoes the key or a gateway header keeps neither, in the message or IndexedDB", async () => {
    const header = 'team-secret-0123456789';
    server.script({
      kind: 'error',
      status: 400,
      type: 'invalid_request_error',
      message: `bad key ${TEST_KEY} for header ${header}`,
    });
    const ex = await ask('Will you echo it?');
    await answer(
      runner({
        settings: async () => ({ ...DEFAULT_SETTINGS, model: 'claude-haiku-4-5', extraHeaders: `x-team: ${header}` }),
      }),
      ex,
    );
    const stored = JSON.stringify(await db.messages.get(ex.assistantMessageId));
    expect(stored).toContain('bad key [redacted] for header [redacted]');
    expect(stored).not.toContain(TEST_KEY);
    expect(stored).not.toContain(header);
    // The server did get the header: it is the request's own, not lost on the way.
    expect(server.requests.at(-1)?.headers['x-team']).toBe(header);
  });

  it('pushes the first text delta at once: the events before it do not use up the publish interval', async () => {
    server.script({ kind: 'text', text: 'First words, then more.', chunkSize: 6, delayMs: 5 });
    const ex = await ask('What comes first?');
    await answer(runner({ publishMs: 60_000 }), ex);

    const progress = events.filter((e) => e.messageId === ex.assistantMessageId).map((e) => e.text);
    // No empty push for message_start; the first words go out as they arrive, the rest at the end.
    expect(progress).toEqual(['First ', 'First words, then more.']);
  });

  it("shows the first words without waiting for the job's start to be written", async () => {
    server.script({ kind: 'text', text: 'First words, then more.', chunkSize: 6, delayMs: 5 });
    const ex = await ask('What comes first?');
    const job = await db.jobs.get(ex.assistantMessageId);
    // Another transaction holds the jobs table until the first words have been pushed.
    let firstWords!: () => void;
    const pushed = new Promise<void>((resolve) => (firstWords = resolve));
    const held = db.transaction('rw', db.jobs, () => Dexie.waitFor(pushed));
    const run = runner({ publish: (e) => (events.push(e), e.text !== '' && firstWords()) }).start({
      ...job!,
      state: 'sending',
      attempts: 1,
    });
    await held;
    expect(events[0]?.text).toBe('First ');
    await run;
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'done' });
  });

  it('streams an answer into the database and pushes progress to pages', async () => {
    const text = 'Here is **bold** and a list:\n\n- one\n- two';
    server.script({ kind: 'text', text, chunkSize: 4, delayMs: 10 });
    const ex = await ask('Show me Markdown');
    const r = runner();
    await answer(r, ex);

    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'done' });
    expect(await db.messages.get(ex.assistantMessageId)).toMatchObject({
      status: 'done',
      text,
      stopReason: 'end_turn',
      usage: { inputTokens: expect.any(Number) as number, outputTokens: expect.any(Number) as number },
    });
    const progress = events.filter((e) => e.messageId === ex.assistantMessageId).map((e) => e.text);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)).toBe(text);

    const [request] = server.messageRequests();
    expect(server.messageRequests()).toHaveLength(1);
    expect(request!.headers['authorization']).toBe(`Bearer ${TEST_KEY}`);
    expect(request!.headers['anthropic-dangerous-direct-browser-access']).toBe('true');
    expect(request!.body).toMatchObject({
      model: 'claude-haiku-4-5',
      max_tokens: 300,
      system: 'Be brief.',
      stream: true,
      messages: [{ role: 'user', content: 'Show me Markdown' }],
    });
  });

  it('checkpoints the answer while it streams, not only at the end', async () => {
    server.script({ kind: 'text', text: 'x'.repeat(400), chunkSize: 10, delayMs: 10 });
    const ex = await ask('long one');
    const seen: string[] = [];
    const poll = setInterval(() => {
      void db.messages.get(ex.assistantMessageId).then((m) => m && m.status === 'streaming' && seen.push(m.text));
    }, 15);
    await answer(runner(), ex);
    clearInterval(poll);
    const partial = seen.filter((t) => t.length > 0 && t.length < 400);
    expect(partial.length).toBeGreaterThan(0);
  });

  it('sends the second question with the first answer as context, in order', async () => {
    server.script({ kind: 'text', text: 'First answer.', delayMs: 5 }, { kind: 'text', text: 'Second answer.' });
    const r = runner();
    const a = await ask('Q1');
    const b = await ask('Q2', a.conversationId);
    await answer(r, a);
    await answer(r, b);
    const second = server.messageRequests()[1]!.body as { messages: unknown[] };
    expect(second.messages).toEqual([
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'First answer.' },
      { role: 'user', content: 'Q2' },
    ]);
  });

  it('sends the request the queue measured as it is, without building it again', async () => {
    server.script({ kind: 'text', text: 'Answer.' });
    const r = runner();
    const ex = await ask('Q as typed');
    const job = (await db.jobs.get(ex.assistantMessageId))!;
    await db.jobs.update(job.id, { state: 'sending', attempts: 1 });
    const measured = {
      model: 'claude-haiku-4-5',
      max_tokens: 300,
      system: 'Be brief.',
      messages: [{ role: 'user' as const, content: 'Q as measured' }],
    };
    await r.start({ ...job, state: 'sending', attempts: 1 }, undefined, { request: measured });
    const sent = server.messageRequests()[0]!.body as { messages: unknown[] };
    expect(sent.messages).toEqual([{ role: 'user', content: 'Q as measured' }]);
  });

  it('stops an answer mid-stream and keeps what arrived', async () => {
    server.script({ kind: 'text', text: 'y'.repeat(2000), chunkSize: 5, delayMs: 10 });
    const ex = await ask('go on forever');
    const r = runner();
    const done = answer(r, ex);
    // Stop once some text has arrived, however slow the machine.
    await expect.poll(() => events.some((e) => e.messageId === ex.assistantMessageId && e.text.length > 0)).toBe(true);
    expect(r.stop(ex.assistantMessageId)).toBe(true);
    await done;
    const m = await db.messages.get(ex.assistantMessageId);
    expect(m?.status).toBe('stopped');
    expect((await db.jobs.get(ex.assistantMessageId))?.state).toBe('cancelled');
    expect(m?.text.length).toBeGreaterThan(0);
    expect(m?.text.length).toBeLessThan(2000);
    expect(r.isActive(ex.assistantMessageId)).toBe(false);
  });

  it.each([
    [{ kind: 'error', status: 401, type: 'authentication_error' } as const, 'wrong_key', 'open_options'],
    [
      { kind: 'error', status: 404, type: 'not_found_error', message: 'model: x' } as const,
      'not_found',
      'open_options',
    ],
    [{ kind: 'error', status: 413, type: 'request_too_large' } as const, 'too_large', 'new_chat'],
    [{ kind: 'error', status: 402, type: 'billing_error' } as const, 'billing', undefined],
  ])('records %o as %s, sent once (no SDK retries)', async (behaviour, code, action) => {
    server.script(behaviour);
    const ex = await ask('hello');
    await answer(runner(), ex);
    const m = await db.messages.get(ex.assistantMessageId);
    expect(m?.status).toBe('error');
    expect((await db.jobs.get(ex.assistantMessageId))?.state).toBe('failed');
    expect(m?.text).toBe('');
    expect(m?.error?.code).toBe(code);
    expect(m?.error?.action).toBe(action);
    expect(server.messageRequests()).toHaveLength(1);
  });

  it.each([
    [{ kind: 'error', status: 529, type: 'overloaded_error' } as const, 'overloaded', 'backoff'],
    [{ kind: 'error', status: 500, type: 'api_error' } as const, 'server_error', 'backoff'],
    [{ kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: 20 } as const, 'rate_limited', 'server'],
    [
      { kind: 'error', status: 429, type: 'rate_limit_error', errorCode: 'enforced_spend_limit_reached' } as const,
      'spend_limit',
      'server',
    ],
  ])('puts %o back in the queue (%s, waiting for %s), sent once by the SDK', async (behaviour, code, reason) => {
    server.script(behaviour);
    const ex = await ask('hello');
    await answer(runner(), ex);
    expect(await db.messages.get(ex.assistantMessageId)).toMatchObject({ status: 'pending', error: { code } });
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'waiting', waitReason: reason });
    expect(server.messageRequests()).toHaveLength(1);
  });

  it('keeps the partial text of an answer that fails midway, until the retry replaces it', async () => {
    server.script({ kind: 'midStreamError', textBefore: 'Partial answer' });
    const ex = await ask('hello');
    await answer(runner(), ex);
    expect(await db.messages.get(ex.assistantMessageId)).toMatchObject({
      status: 'pending',
      text: 'Partial answer',
      error: { code: 'overloaded' },
    });
  });

  it('reports a dropped connection as such, keeping the text', async () => {
    server.script({ kind: 'drop', textBefore: 'Half' });
    const ex = await ask('hello');
    await answer(runner(), ex);
    expect(await db.messages.get(ex.assistantMessageId)).toMatchObject({
      status: 'pending',
      text: 'Half',
      error: { code: 'unreachable' },
    });
  });

  it('says no key is set and sends nothing when there are no credentials', async () => {
    const ex = await ask('hello');
    await answer(runner({ credentials: async () => null }), ex);
    expect(await db.messages.get(ex.assistantMessageId)).toMatchObject({
      status: 'error',
      error: { code: 'no_key', action: 'open_options' },
    });
    expect(server.messageRequests()).toHaveLength(0);
  });

  it.each<[string, Partial<RunnerDeps>, string]>([
    ['no key', { credentials: async () => null }, 'no_key'],
    ['Pace itself failing', { settings: async () => Promise.reject(new Error('settings unreadable')) }, 'internal'],
  ])(
    'an admitted send that ends before it goes (%s) still ends its ledger row, counted once',
    async (_, deps, outcome) => {
      const ex = await ask('hello');
      expect(await admit(db, Date.now(), ex.assistantMessageId)).toMatchObject({ ok: true });
      await runner(deps).start((await db.jobs.get(ex.assistantMessageId))!);
      expect((await db.usage.toArray()).map((r) => r.outcome)).toEqual([outcome]);
      const month = await db.usageMonths.get(monthWindow(Date.now(), 'utc').key);
      expect(month).toMatchObject({ requests: 1, errors: 1 });
    },
  );

  it('keeps the worker alive only while a request is in flight', async () => {
    server.script({ kind: 'text', text: 'z'.repeat(100), chunkSize: 5, delayMs: 5 });
    const keepAlive = createKeepAlive(async () => pings++, 5);
    const ex = await ask('hello');
    const r = runner({ keepAlive });
    const done = answer(r, ex);
    await expect.poll(() => keepAlive.active).toBe(1);
    await done;
    expect(keepAlive.active).toBe(0);
    const after = pings;
    expect(after).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 30));
    expect(pings).toBe(after);
  });

  it('leaves other messages of the conversation untouched', async () => {
    const ex = await ask('hello');
    await answer(runner(), ex);
    const msgs = await conversationMessages(db, ex.conversationId);
    expect(msgs[0]).toMatchObject({ role: 'user', text: 'hello', status: 'done' });
  });
});

describe('the model chosen for a conversation', () => {
  it('the queue sends with the conversation model, not the options model, and records it on the answer', async () => {
    server.script({ kind: 'text', text: 'From the chosen model.' });
    const ex = await addExchange(db, {
      conversationId: null,
      text: 'Which model?',
      now: Date.now(),
      newId: () => `m${++ids}`,
      model: 'claude-opus-4-1',
      chosenModel: 'claude-opus-4-1',
    });
    await answer(runner(), ex);
    expect(server.messageRequests().map((r) => (r.body as { model: string }).model)).toEqual(['claude-opus-4-1']);
    expect((await db.messages.get(ex.assistantMessageId))?.model).toBe('claude-opus-4-1');
  });
});
