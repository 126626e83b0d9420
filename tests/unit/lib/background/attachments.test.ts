/**
 * Images, PDFs, thinking and web search through the background as the entrypoint wires it (the
 * real queue, the real SDK) and the local Claude server: what reaches the wire, what is stored, and
 * what is refused with nothing stored.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlers } from '@/lib/background/handlers';
import { attachmentStorage } from '@/lib/attachments/attachment-store';
import { checkAttachments, PDF_TOKENS_PER_PAGE } from '@/lib/attachments/attachment-check';
import { addExchange } from '@/lib/chat/conversation-store';
import { createClaudeClient } from '@/lib/claude/client';
import { createMeasureRequest } from '@/lib/limits/measure-job';
import { DEFAULT_SETTINGS, type Settings } from '@/lib/settings/validate';
import { settingsItem } from '@/lib/settings/settings-items';
import { PaceDB } from '@/lib/storage/db';
import { NO_BUDGET } from '@/lib/limits/budget';
import { saveBudget } from '@/lib/limits/budget-store';
import { priceFor } from '@/lib/usage/prices';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { pdfBase64, pngBase64 } from '../../../support/claude-server-fixtures';
import { testBackground } from './background-app';
import { failure, handlerDeps, snapshot } from './handler-deps';

let server: ClaudeServer;
let db: PaceDB;
useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`attachments-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

async function background(settings: Partial<Settings> = {}) {
  await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: server.url, model: 'claude-sonnet-5-5', ...settings });
  return testBackground(db, server.url);
}

async function answered(id: string) {
  for (let i = 0; i < 500; i++) {
    const job = await db.jobs.get(id);
    if (job && (job.state === 'done' || job.state === 'failed')) return (await db.messages.get(id))!;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the answer did not end');
}

type Block = { type: string; [k: string]: unknown };
const lastBody = () =>
  server.messageRequests().at(-1)!.body as { messages: { role: string; content: Block[] | string }[] } & Record<
    string,
    unknown
  >;

describe('chat.send with attachments', () => {
  it('stores the image beside the message and sends it before the text; a follow-up sends it again from storage', async () => {
    const { client } = await background();
    const png = pngBase64(40, 30);
    const sent = await client.request('chat.send', {
      conversationId: null,
      text: 'What is in this picture?',
      attachments: [{ name: 'pic.png', mediaType: 'image/png', data: png }],
    });
    if (!sent.ok) throw new Error(sent.error.message);
    expect((await answered(sent.data.assistantMessageId)).status).toBe('done');
    const question = (await db.messages.get(sent.data.userMessageId))!;
    expect(question.attachments).toEqual([
      expect.objectContaining({ kind: 'image', name: 'pic.png', width: 40, height: 30, tokens: 2 }),
    ]);
    expect(await db.attachments.count()).toBe(1);
    expect((await db.attachments.toArray())[0]).toMatchObject({
      messageId: sent.data.userMessageId,
      conversationId: sent.data.conversationId,
    });
    const first = lastBody().messages[0]!.content as Block[];
    expect(first.map((b) => b.type)).toEqual(['image', 'text']);
    expect(first[0]).toEqual({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } });
    expect(server.messageRequests().at(-1)!.parsed!.messages[0]!.blocks[0]).toMatchObject({ width: 40, height: 30 });

    const next = await client.request('chat.send', {
      conversationId: sent.data.conversationId,
      text: 'And its colour?',
    });
    if (!next.ok) throw new Error(next.error.message);
    await answered(next.data.assistantMessageId);
    const again = lastBody().messages;
    expect(again.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect((again[0]!.content as Block[])[0]).toMatchObject({ type: 'image', source: { data: png } });
    expect(typeof again[1]!.content).toBe('string');
    expect(await attachmentStorage(db)).toEqual({ bytes: question.attachments![0]!.bytes, count: 1 });
  });

  it('measures a PDF with count_tokens before admission, and sends it as a cited document', async () => {
    const { client } = await background();
    const sent = await client.request('chat.send', {
      conversationId: null,
      text: 'Summarise it.',
      attachments: [{ name: 'report.pdf', mediaType: 'application/pdf', data: pdfBase64(['Page one.', 'Page two.']) }],
    });
    if (!sent.ok) throw new Error(sent.error.message);
    await answered(sent.data.assistantMessageId);
    const paths = server.requests.filter((r) => r.method === 'POST').map((r) => r.path);
    expect(paths).toEqual(['/v1/messages/count_tokens', '/v1/messages']);
    const doc = (lastBody().messages[0]!.content as Block[])[0]!;
    expect(doc).toMatchObject({ type: 'document', title: 'report.pdf', citations: { enabled: true } });
    // The API's count is below the per-page estimate used when it cannot be had.
    const counted = server.requests.find((r) => r.path === '/v1/messages/count_tokens')!.parsed!.inputTokens;
    expect(counted).toBeLessThan(2 * PDF_TOKENS_PER_PAGE);
  });

  it("refuses a PDF that takes the chat's PDFs over 100 pages a request, earlier turns' included", async () => {
    const { client } = await background();
    const pages = (n: number) => Array.from({ length: n }, (_, i) => `Page ${i + 1}.`);
    const sent = await client.request('chat.send', {
      conversationId: null,
      text: 'Read this.',
      attachments: [{ name: 'eighty.pdf', mediaType: 'application/pdf', data: pdfBase64(pages(80)) }],
    });
    if (!sent.ok) throw new Error(sent.error.message);
    expect((await answered(sent.data.assistantMessageId)).status).toBe('done');
    const before = await snapshot(db);
    const requests = server.requests.length;
    const next = await client.request('chat.send', {
      conversationId: sent.data.conversationId,
      text: 'And this one.',
      attachments: [{ name: 'thirty.pdf', mediaType: 'application/pdf', data: pdfBase64(pages(30)) }],
    });
    expect(next).toMatchObject({
      ok: false,
      error: {
        code: 'invalid_input',
        message:
          "This chat's PDFs come to 110 pages; Anthropic reads at most 100 in one request. Start a new chat for this PDF.",
        field: 'attachments',
      },
    });
    expect(await snapshot(db)).toEqual(before);
    expect(server.requests.length).toBe(requests);
  });

  it("the queue refuses a later message's request whose chat's PDFs come to over 100 pages", async () => {
    const pages = (n: number) => Array.from({ length: n }, (_, i) => `Page ${i + 1}.`);
    let id = 0;
    const newId = () => `m${++id}`;
    const ask = async (conversationId: string | null, n: number) => {
      const checked = await checkAttachments(
        [{ name: `${n}.pdf`, mediaType: 'application/pdf', data: pdfBase64(pages(n)) }],
        newId,
      );
      if (!checked.ok) throw new Error(checked.message);
      return addExchange(db, {
        conversationId,
        text: 'Read it.',
        now: 1000 + id,
        newId,
        model: 'claude-sonnet-5-5',
        attachments: checked.attachments,
      });
    };
    const first = await ask(null, 80);
    // Answered by the time the second's request is built: that request carries both PDFs.
    await db.messages.update(first.assistantMessageId, { status: 'done', text: 'Read.' });
    const second = await ask(first.conversationId, 30);
    const measure = createMeasureRequest({
      db,
      now: () => Date.now(),
      settings: async () => ({ ...DEFAULT_SETTINGS, baseURL: server.url, model: 'claude-sonnet-5-5' }),
      credentials: async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false }),
      createClient: createClaudeClient,
      log: () => undefined,
    });
    expect(await measure((await db.jobs.get(second.assistantMessageId))!)).toEqual({
      ok: false,
      error: {
        code: 'invalid_input',
        message:
          "This chat's PDFs come to 110 pages; Anthropic reads at most 100 in one request. Start a new chat for this PDF.",
        field: 'attachments',
      },
    });
    expect((await measure((await db.jobs.get(first.assistantMessageId))!)).ok).not.toBe(false);
  });

  it('refuses a bad attachment with field attachments, storing nothing', async () => {
    const h = createHandlers(handlerDeps(db, server.url));
    const before = await snapshot(db);
    const error = await failure(
      h['chat.send']({
        conversationId: null,
        text: 'Look',
        attachments: [
          { name: 'ok.png', mediaType: 'image/png', data: pngBase64(4, 4) },
          { name: 'photo.bmp', mediaType: 'image/jpeg', data: btoa('BM not really') },
        ],
      }),
    );
    expect(error).toEqual({
      code: 'invalid_input',
      message: 'photo.bmp is not a JPEG, PNG, GIF or WebP image.',
      field: 'attachments',
    });
    expect(await snapshot(db)).toEqual(before);
    expect(server.requests).toEqual([]);
  });
});

describe('thinking and web search', () => {
  it("a new chat keeps the payload's thinking and search, and its requests carry them", async () => {
    const { client } = await background({ model: 'claude-haiku-4-5', maxTokens: 2000 });
    const sent = await client.request('chat.send', {
      conversationId: null,
      text: 'Think',
      thinking: 'medium',
      webSearch: true,
    });
    if (!sent.ok) throw new Error(sent.error.message);
    await answered(sent.data.assistantMessageId);
    expect(await db.conversations.get(sent.data.conversationId)).toMatchObject({ thinking: 'medium', webSearch: true });
    const body = lastBody();
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(body.tools).toEqual([{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }]);
    // An existing conversation keeps its own choices, whatever the payload says.
    const next = await client.request('chat.send', {
      conversationId: sent.data.conversationId,
      text: 'Again',
      thinking: 'off',
    });
    if (!next.ok) throw new Error(next.error.message);
    await answered(next.data.assistantMessageId);
    expect(lastBody().thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
  });

  it('conversation.setOptions changes the next requests; thinking is refused where it cannot work', async () => {
    const h = createHandlers(handlerDeps(db, server.url, { settings: { model: 'claude-haiku-4-5', maxTokens: 1024 } }));
    const r = await h['chat.send']({ conversationId: null, text: 'Hi' });
    expect(await h['conversation.setOptions']({ conversationId: r.conversationId, webSearch: true })).toEqual({
      thinking: 'off',
      webSearch: true,
    });
    expect(await failure(h['conversation.setOptions']({ conversationId: r.conversationId, thinking: 'high' }))).toEqual(
      {
        code: 'invalid_input',
        field: 'thinking',
        message:
          'Thinking needs more than 1024 tokens for the answer on claude-haiku-4-5 (the longest answer is set to 1024); raise it on the options page or turn thinking off.',
      },
    );
    expect(
      await failure(h['conversation.setOptions']({ conversationId: r.conversationId, thinking: 'max' })),
    ).toMatchObject({
      field: 'thinking',
    });
    await h['conversation.chooseModel']({ conversationId: r.conversationId, model: 'claude-sonnet-5-5' });
    expect(await h['conversation.setOptions']({ conversationId: r.conversationId, thinking: 'high' })).toEqual({
      thinking: 'high',
      webSearch: true,
    });
    expect(await db.conversations.get(r.conversationId)).toMatchObject({ thinking: 'high', webSearch: true });
    expect(await failure(h['conversation.setOptions']({ conversationId: 'gone', webSearch: false }))).toMatchObject({
      action: 'new_chat',
    });
  });
  it('a queued job whose thinking no longer fits max_tokens fails with the reason, counted nowhere', async () => {
    // Sent with room to think; by the time the queue measures it, the longest answer is 1000 tokens.
    const { app } = await background({ model: 'claude-haiku-4-5', maxTokens: 1000 });
    const { assistantMessageId } = await addExchange(db, {
      conversationId: null,
      text: 'Think hard',
      now: Date.now(),
      newId: () => crypto.randomUUID(),
      model: 'claude-haiku-4-5',
      options: { thinking: 'high' },
    });
    const months = await db.usageMonths.toArray();
    await app.pump();
    const answer = await answered(assistantMessageId);
    expect(answer.status).toBe('error');
    expect(answer.error).toMatchObject({
      code: 'invalid_input',
      message:
        'Thinking needs more than 1024 tokens for the answer on claude-haiku-4-5 (the longest answer is set to 1000); raise it on the options page or turn thinking off.',
    });
    expect(server.messageRequests()).toHaveLength(0);
    expect(await db.usageMonths.toArray()).toEqual(months);
    expect(await db.usage.count()).toBe(0);
  });

  it("conversation.chooseModel refuses a model that cannot run the chat's thinking", async () => {
    const h = createHandlers(
      handlerDeps(db, server.url, { settings: { model: 'claude-sonnet-5-5', maxTokens: 1024 } }),
    );
    const r = await h['chat.send']({ conversationId: null, text: 'Hi', thinking: 'high' });
    expect(
      await failure(h['conversation.chooseModel']({ conversationId: r.conversationId, model: 'claude-haiku-4-5' })),
    ).toEqual({
      code: 'invalid_input',
      field: 'model',
      message:
        'Thinking needs more than 1024 tokens for the answer on claude-haiku-4-5 (the longest answer is set to 1024); raise it on the options page or turn thinking off.',
    });
    expect((await db.conversations.get(r.conversationId))?.model).not.toBe('claude-haiku-4-5');
  });
});

describe('chat.preview', () => {
  it('measures the message with its attachments and searches, storing nothing', async () => {
    const h = createHandlers(
      handlerDeps(db, server.url, { settings: { model: 'claude-sonnet-5-5', maxTokens: 1000 } }),
    );
    const before = await snapshot(db);
    const text = 'x'.repeat(400);
    const p = await h['chat.preview']({
      conversationId: null,
      text,
      webSearch: true,
      attachments: [{ name: 'a.png', mediaType: 'image/png', data: pngBase64(750, 100) }],
    });
    // 100 text tokens, 100 image tokens.
    expect(p.tokens).toBe(200);
    const price = priceFor('claude-sonnet-5-5')!;
    expect(p.inputUsd).toBeCloseTo((200 * price.input) / 1_000_000, 9);
    expect(p.maxUsd! - p.inputUsd!).toBeCloseTo((1000 * price.output) / 1_000_000 + 3 * 0.01, 9);
    expect(p.lines.join(' ')).toContain('3 web searches ($0.030)');
    expect(p.blocker).toBeNull();
    expect(await snapshot(db)).toEqual(before);
    expect(server.requests).toEqual([]);
  });

  it('names the blocker: a message that does not fit the model', async () => {
    const h = createHandlers(
      handlerDeps(db, server.url, {
        settings: { model: 'claude-sonnet-5-5', maxTokens: 1000 },
        contextWindow: () => 1100,
      }),
    );
    const p = await h['chat.preview']({
      conversationId: null,
      text: 'Read it',
      attachments: [{ name: 'r.pdf', mediaType: 'application/pdf', data: pdfBase64(['one']) }],
    });
    expect(p.tokens).toBe(PDF_TOKENS_PER_PAGE + 2);
    expect(p.blocker).toMatch(
      /^This message is about 3,002 tokens; with the 1,000 kept for the answer it does not fit/,
    );
  });

  it('prices what is attached before the question is typed', async () => {
    const h = createHandlers(
      handlerDeps(db, server.url, { settings: { model: 'claude-sonnet-5-5', maxTokens: 1000 } }),
    );
    const p = await h['chat.preview']({
      conversationId: null,
      text: '  ',
      attachments: [{ name: 'a.png', mediaType: 'image/png', data: pngBase64(750, 100) }],
    });
    expect(p.tokens).toBe(100);
    expect(p.blocker).toBeNull();
    // The send itself still wants the question.
    const refused = await failure(
      h['chat.send']({
        conversationId: null,
        text: '  ',
        attachments: [{ name: 'a.png', mediaType: 'image/png', data: pngBase64(750, 100) }],
      }),
    );
    expect(refused.field).toBe('text');
  });

  it('says what the send will say when the budget cannot hold the worst case, searches included', async () => {
    const { client } = await background({ maxTokens: 100 });
    await saveBudget(db, { ...NO_BUDGET, monthlyUsd: 0.02 });
    const message = { conversationId: null, text: 'What is new?', webSearch: true };
    const preview = await client.request('chat.preview', message);
    if (!preview.ok) throw new Error(preview.error.message);
    expect(preview.data.blocker).toMatch(
      /^Not sent: this request could cost up to \$0\.0\d+, including up to 3 web searches \(\$0\.03\)/,
    );
    const sent = await client.request('chat.send', message);
    if (!sent.ok) throw new Error(sent.error.message);
    const answer = await answered(sent.data.assistantMessageId);
    expect(answer.error?.code).toBe('budget');
    expect(preview.data.blocker).toBe(answer.error?.message);
    // Anthropic's count may be asked (the bound did not fit); the message itself never left.
    expect(server.requests.filter((r) => r.path === '/v1/messages')).toEqual([]);
    // Without the searches it fits.
    const fits = await client.request('chat.preview', { ...message, webSearch: false });
    expect(fits.ok && fits.data.blocker).toBeNull();
  });
});
