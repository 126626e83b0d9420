/** The chat runner against a broken or hostile endpoint's stream: it fails or stops cleanly, and never freezes. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChatRunner } from '@/lib/queue/chat-runner';
import { createKeepAlive } from '@/lib/background/keep-alive';
import { addExchange } from '@/lib/chat/conversation-store';
import { createClaudeClient } from '@/lib/claude/client';
import { MAX_ANSWER_CHARS, SIZE_CAP_STOP } from '@/lib/claude/stream';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';

let server: ClaudeServer;
let db: PaceDB;

useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`hostile-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

const runner = () =>
  createChatRunner({
    db,
    credentials: async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false }),
    settings: async () => ({ ...DEFAULT_SETTINGS, model: 'claude-haiku-4-5', maxTokens: 300 }),
    createClient: createClaudeClient,
    publish: () => undefined,
    keepAlive: createKeepAlive(async () => undefined, 1000),
    log: () => undefined,
  });

async function answer(text: string) {
  const ex = await addExchange(db, {
    conversationId: null,
    text,
    now: Date.now(),
    newId: () => crypto.randomUUID(),
    model: 'claude-haiku-4-5',
  });
  await db.jobs.update(ex.assistantMessageId, { state: 'sending', attempts: 1 });
  const job = (await db.jobs.get(ex.assistantMessageId))!;
  await runner().start(job);
  return ex.assistantMessageId;
}

const messageStart = {
  type: 'message_start',
  message: {
    id: 'msg_x',
    type: 'message',
    role: 'assistant',
    model: 'claude-haiku-4-5',
    content: [],
    usage: { input_tokens: 5, output_tokens: 1 },
  },
};

describe('a hostile stream', () => {
  it('an absurd block index fails the attempt with a clear error, once, without a retry', async () => {
    server.script({
      kind: 'events',
      events: [
        messageStart,
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Fine so far. ' } },
        { type: 'content_block_delta', index: 1e9, delta: { type: 'text_delta', text: 'boom' } },
        { type: 'message_stop' },
      ],
    });
    const id = await answer('index');
    expect(await db.jobs.get(id)).toMatchObject({ state: 'failed' });
    expect(await db.messages.get(id)).toMatchObject({
      status: 'error',
      text: 'Fine so far. ',
      error: {
        code: 'bad_answer',
        message: expect.stringContaining(
          'content block index 1000000000 is not a whole number from 0 to 9999',
        ) as string,
      },
    });
    expect(server.messageRequests()).toHaveLength(1);
    expect((await db.usage.toArray()).map((r) => r.outcome)).toEqual(['bad_answer']);
  });

  it('garbage usage figures do not reach the ledger', async () => {
    server.script({
      kind: 'events',
      events: [
        {
          ...messageStart,
          message: {
            ...messageStart.message,
            usage: {
              input_tokens: '12',
              output_tokens: -5,
              cache_read_input_tokens: 1e308,
              cache_creation_input_tokens: 3.7,
            },
          },
        },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi.' } },
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 'lots' } },
        { type: 'message_stop' },
      ],
    });
    const id = await answer('usage');
    expect(await db.messages.get(id)).toMatchObject({ status: 'done', text: 'Hi.' });
    const [row] = await db.usage.toArray();
    expect(row?.usage).toEqual({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 });
  });

  it('an endless answer is cut at the size cap: the text so far is kept and the answer ends with a note', async () => {
    server.script({
      kind: 'text',
      text: 'x'.repeat(MAX_ANSWER_CHARS + 300_000),
      chunkSize: 64 * 1024,
      delayMs: 0,
      pingEvery: 0,
    });
    const id = await answer('endless');
    const message = await db.messages.get(id);
    expect(message).toMatchObject({ status: 'done', stopReason: SIZE_CAP_STOP });
    expect(message?.text.length).toBe(MAX_ANSWER_CHARS);
    expect(await db.jobs.get(id)).toMatchObject({ state: 'done' });
    expect((await db.usage.toArray()).map((r) => r.outcome)).toEqual([SIZE_CAP_STOP]);
  });
});
