import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandlers, type HandlerDeps } from '@/lib/background/handlers';
import { checkContextSize } from '@/lib/claude/context-size';
import { estimateTokens } from '@/lib/claude/token-estimate';
import { contextWindow, DEFAULT_CONTEXT_WINDOW } from '@/lib/claude/models';
import type { Settings } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { failure, handlerDeps, snapshot } from './handler-deps';

let server: ClaudeServer;
let db: PaceDB;
useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`context-size-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

const WINDOW = 1000;
const make = (overrides: Omit<Partial<HandlerDeps>, 'settings'> & { settings?: Partial<Settings> } = {}) =>
  createHandlers(
    handlerDeps(db, server.url, { contextWindow: () => WINDOW, settings: { maxTokens: 100 }, ...overrides }),
  );

const countRequests = () => server.requests.filter((r) => r.path === '/v1/messages/count_tokens');

/** A conversation whose stored messages hold `chars` characters of text, answered. */
async function conversationOf(chars: number, parts = 4): Promise<string> {
  const h = make({ contextWindow: () => DEFAULT_CONTEXT_WINDOW });
  const piece = Math.floor(chars / parts / 2);
  let conversationId: string | null = null;
  for (let i = 0; i < parts; i++) {
    const r = await h['chat.send']({ conversationId, text: 'q'.repeat(piece) });
    conversationId = r.conversationId;
    await db.messages.update(r.assistantMessageId, { status: 'done', text: 'a'.repeat(piece) });
    await db.jobs.update(r.assistantMessageId, { state: 'done' });
  }
  server.reset();
  return conversationId!;
}

describe('context windows', () => {
  it('knows the current models (1,000,000 for the 5.x family) and assumes 200,000 for any other', () => {
    expect(contextWindow('claude-sonnet-5-5')).toBe(1_000_000);
    expect(contextWindow('claude-haiku-5-5')).toBe(1_000_000);
    expect(contextWindow('claude-sonnet-4-6')).toBe(200_000);
    expect(contextWindow('claude-haiku-4-5-20251001')).toBe(200_000);
    expect(contextWindow('some-gateway/model')).toBe(DEFAULT_CONTEXT_WINDOW);
    expect(contextWindow('toString')).toBe(DEFAULT_CONTEXT_WINDOW);
  });

  it('asks for the exact count only near the window, and trusts it over the estimate', async () => {
    const base = { model: 'm', system: '', maxTokens: 100, window: WINDOW, kind: 'send' as const };
    let asked = 0;
    const count = (n: number | null) => async () => {
      asked += 1;
      return n;
    };
    expect(
      await checkContextSize({ ...base, messages: [{ role: 'user', content: 'x'.repeat(400) }] }, count(5000)),
    ).toBeNull();
    expect(asked).toBe(0);
    // 2,100 characters look like 525 tokens: over half the window, so counted; the count says it fits.
    expect(
      await checkContextSize({ ...base, messages: [{ role: 'user', content: 'x'.repeat(2100) }] }, count(600)),
    ).toBeNull();
    expect(asked).toBe(1);
    // The count says it does not fit, though the estimate would.
    expect(
      (await checkContextSize({ ...base, messages: [{ role: 'user', content: 'x'.repeat(2100) }] }, count(950)))?.code,
    ).toBe('too_large');
    // No count: the estimate decides.
    expect(
      (await checkContextSize({ ...base, messages: [{ role: 'user', content: 'x'.repeat(3700) }] }, count(null)))?.code,
    ).toBe('too_large');
    expect(estimateTokens({ system: 'abcd', messages: [{ role: 'user', content: 'abcde' }] })).toBe(3);
  });
});

describe('chat.send refuses a conversation over the context window', () => {
  it('before anything reaches /v1/messages, storing nothing, with the size in the message', async () => {
    // 3,600 characters stored (~900 tokens) + the 100 reserved for the answer: over 1,000.
    const conversationId = await conversationOf(3600);
    const before = await snapshot(db);
    const error = await failure(
      make({ settings: { maxTokens: 100, model: 'claude-haiku-4-5' } })['chat.send']({
        conversationId,
        text: 'one more question',
      }),
    );
    expect(error).toMatchObject({ code: 'too_large', action: 'new_chat' });
    expect(error.message).toMatch(
      /^This conversation is about [\d,]+ tokens; claude-haiku-4-5 reads at most 1,000 \(including the 100 reserved for the answer\)\. Start a new chat or shorten the message\.$/,
    );
    expect(await snapshot(db)).toEqual(before);
    expect(server.messageRequests()).toHaveLength(0);
    // It asked the API for the exact count, with the real conversation.
    const [counted] = countRequests();
    expect((counted?.body as { messages: unknown[] }).messages).toHaveLength(9);
  });

  it('accepts one just under the window', async () => {
    // 3,200 characters + the new one: ~810 tokens, + 100 reserved: under 1,000.
    const conversationId = await conversationOf(3200);
    const r = await make()['chat.send']({ conversationId, text: 'one more question' });
    expect(await db.messages.get(r.userMessageId)).toMatchObject({ text: 'one more question' });
    expect(countRequests()).toHaveLength(1);
  });

  it('counts the system prompt and the reserved answer too', async () => {
    const conversationId = await conversationOf(2000);
    const h = make({ settings: { maxTokens: 400, systemPrompt: 's'.repeat(1000) } });
    expect((await failure(h['chat.send']({ conversationId, text: 'hi' }))).code).toBe('too_large');
    expect(
      (await make({ settings: { maxTokens: 100 } })['chat.send']({ conversationId, text: 'hi' })).conversationId,
    ).toBe(conversationId);
  });

  it('decides from the estimate when the count cannot be had', async () => {
    const conversationId = await conversationOf(3600);
    const before = await snapshot(db);
    const h = make({
      settings: { baseURL: 'http://127.0.0.1:9' },
      credentials: async () => ({ apiKey: 'sk-ant-test-key', baseURL: 'http://127.0.0.1:9', demo: false }),
    });
    expect((await failure(h['chat.send']({ conversationId, text: 'more' }))).code).toBe('too_large');
    expect(await snapshot(db)).toEqual(before);
    expect(countRequests()).toHaveLength(0);
  });

  it("logs a failed count's error redacted: a gateway that echoes the Authorization header and its own header puts neither in the console", async () => {
    const conversationId = await conversationOf(3200);
    const echo = createServer((req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          type: 'error',
          error: {
            type: 'api_error',
            message: `you sent authorization=${req.headers.authorization} x-team-token=${String(req.headers['x-team-token'])}`,
          },
        }),
      );
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    try {
      const h = make({
        settings: { maxTokens: 100, baseURL: url, extraHeaders: 'x-team-token: team-secret-0123' },
        credentials: async () => ({ apiKey: TEST_KEY, baseURL: url, demo: false }),
      });
      await h['chat.send']({ conversationId, text: 'one more question' });
    } finally {
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
    const logged = info.mock.calls.map((args) => args.map(String).join(' ')).join('\n');
    expect(logged).toContain('could not count tokens');
    expect(logged).toContain('API error 500');
    expect(logged).toContain('[redacted]');
    expect(logged).not.toContain(TEST_KEY);
    expect(logged).not.toContain('team-secret-0123');
  });

  it('refuses a first message over a small window, and sends small ones without counting', async () => {
    const h = make({ contextWindow: () => 200 });
    expect((await failure(h['chat.send']({ conversationId: null, text: 'x'.repeat(1000) }))).code).toBe('too_large');
    expect(await db.conversations.count()).toBe(0);
    const counted = countRequests().length;
    await h['chat.send']({ conversationId: null, text: 'short' });
    expect(countRequests()).toHaveLength(counted);
  });
});

describe('chat.retry', () => {
  it('refuses an answer whose conversation no longer fits, leaving it as it was', async () => {
    const conversationId = await conversationOf(3600);
    const answers = (
      await db.messages
        .where('[conversationId+createdAt]')
        .between([conversationId, -Infinity], [conversationId, Infinity])
        .toArray()
    ).filter((m) => m.role === 'assistant');
    const before = await snapshot(db);
    const error = await failure(
      make({ settings: { maxTokens: 300 } })['chat.retry']({ messageId: answers.at(-1)!.id }),
    );
    expect(error.code).toBe('too_large');
    expect(error.message).toContain('Start a new chat to ask it again.');
    expect(await snapshot(db)).toEqual(before);
    // An earlier answer has less before it, and may be asked again.
    await expect(make()['chat.retry']({ messageId: answers[0]!.id })).resolves.toEqual({ messageId: answers[0]!.id });
  });
});
