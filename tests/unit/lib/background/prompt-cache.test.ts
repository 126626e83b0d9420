/**
 * Anthropic's prompt cache through the real queue as the background wires it (createBackgroundApp:
 * scheduler, limiter, runner, the real SDK) and the local Claude server's model of the cache: what
 * goes on the wire, what the ledger and the attempt details say, and the fallback for a gateway
 * that refuses the top-level field.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addExchange } from '@/lib/chat/conversation-store';
import { readLimits, readWindowState } from '@/lib/limits/limiter-store';
import { DEFAULT_SETTINGS, type PromptCacheSetting } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { settingsItem, storedPromptCacheModes } from '@/lib/settings/settings-items';
import { costBreakdown } from '@/lib/usage/prices';
import { startClaudeServer, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { testBackground } from './background-app';

const MODEL = 'claude-sonnet-4-6';
const DOCUMENT = 'A paragraph of a long report about rate limits and token buckets. '.repeat(1200).trim(); // ~80,000 chars
const DOC_TOKENS = Math.ceil(DOCUMENT.length / 4);

let server: ClaudeServer;
let db: PaceDB;
useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`prompt-cache-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

/**
 * The background as the entrypoint wires it (createBackgroundApp), its key for `baseURL` and the prompt cache setting
 * saved; the modes a base URL is found to take are remembered where the extension keeps them (storedPromptCacheModes).
 */
async function queue(baseURL: string, promptCache: PromptCacheSetting) {
  await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL, model: MODEL, maxTokens: 300, promptCache });
  return { app: testBackground(db, baseURL).app, modes: storedPromptCacheModes };
}

let ids = 0;
async function turn(q: Awaited<ReturnType<typeof queue>>, text: string, conversationId: string | null = null) {
  const ex = await addExchange(db, { conversationId, text, now: Date.now(), newId: () => `p${++ids}`, model: MODEL });
  void q.app.pump();
  for (let i = 0; i < 300; i++) {
    const job = await db.jobs.get(ex.assistantMessageId);
    if (job && (job.state === 'done' || job.state === 'failed'))
      return { ...ex, message: (await db.messages.get(ex.assistantMessageId))! };
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the answer did not end');
}

type Body = { cache_control?: unknown; messages: { content: unknown }[] };
const bodies = (s: ClaudeServer) => s.messageRequests().map((r) => r.body as Body);

async function monthUsed() {
  return (await readWindowState(db, Date.now(), await readLimits(db))).monthCount;
}

describe("Anthropic's prompt cache through the queue", () => {
  it('asks for it on every request, reads the prefix from the second turn, and prices and shows it', async () => {
    const q = await queue(server.url, '5m');
    const first = await turn(q, DOCUMENT);
    const second = await turn(q, 'What does it say about buckets?', first.conversationId);

    expect(bodies(server).map((b) => b.cache_control)).toEqual([{ type: 'ephemeral' }, { type: 'ephemeral' }]);
    const [u1, u2] = server.messageRequests().map((r) => r.usage!);
    expect(u1!.cache_creation_input_tokens).toBe(DOC_TOKENS);
    expect(u2!.cache_read_input_tokens).toBe(DOC_TOKENS);

    // The attempt details: nothing read on the first turn, the prefix read on the second.
    expect(first.message.attempts).toEqual([
      {
        at: expect.any(Number) as number,
        outcome: 'ok',
        status: 200,
        promptCache: { readTokens: 0, writtenTokens: DOC_TOKENS },
      },
    ]);
    expect(second.message.attempts![0]!.promptCache).toEqual({
      readTokens: DOC_TOKENS,
      writtenTokens: u2!.cache_creation_input_tokens,
    });

    // The ledger prices writes at 1.25x and reads at 0.1x input, and says what that saved.
    const rows = await db.usage.orderBy('id').toArray();
    expect(rows.map((r) => r.usage.cacheReadTokens)).toEqual([0, DOC_TOKENS]);
    const expected = costBreakdown(MODEL, rows[1]!.usage)!;
    expect(rows[1]).toMatchObject({
      costUsd: expected.total,
      inputCostUsd: expected.input,
      promptCacheSavedUsd: expected.promptCacheSaved,
    });
    expect(rows[1]!.inputCostUsd).toBeLessThan((DOC_TOKENS * 3) / 1e6 / 5);
    expect(rows[0]!.promptCacheSavedUsd).toBeCloseTo((-DOC_TOKENS * 0.75) / 1e6, 12);
    const month = (await db.usageMonths.toArray())[0]!;
    expect(month.promptCacheSavedUsd).toBeCloseTo(rows[0]!.promptCacheSavedUsd! + rows[1]!.promptCacheSavedUsd!, 12);
    expect(month.conversationsInput?.[first.conversationId]).toBeCloseTo(
      rows[0]!.inputCostUsd! + rows[1]!.inputCostUsd!,
      12,
    );
    // It changes prices, not what counts: two requests sent, two counted.
    expect(await monthUsed()).toBe(2);
  });

  it('prices a 1-hour write at 2x input', async () => {
    const q = await queue(server.url, '1h');
    await turn(q, DOCUMENT);
    expect(bodies(server)[0]!.cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    const [row] = await db.usage.toArray();
    expect(row!.usage.cacheCreationTokens).toBe(DOC_TOKENS);
    expect(row!.costUsd).toBeCloseTo((DOC_TOKENS * 6 + row!.usage.outputTokens * 15) / 1e6, 12);
  });

  it('sends no cache_control when turned off, and nothing is cached', async () => {
    const q = await queue(server.url, 'off');
    const first = await turn(q, DOCUMENT);
    const second = await turn(q, 'And the buckets?', first.conversationId);
    expect(JSON.stringify(bodies(server))).not.toContain('cache_control');
    expect(
      server.messageRequests().map((r) => r.usage!.cache_read_input_tokens + r.usage!.cache_creation_input_tokens),
    ).toEqual([0, 0]);
    expect(second.message.attempts![0]!.promptCache).toBeUndefined();
  });
});

describe('a gateway that refuses the top-level cache_control', () => {
  let gateway: ClaudeServer | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it('is sent again once with one explicit breakpoint on the last user block, and the base URL remembers it', async () => {
    gateway = await startClaudeServer({ refuseCacheControl: 'top-level' });
    const q = await queue(gateway.url, '5m');
    const first = await turn(q, DOCUMENT);

    expect(first.message).toMatchObject({ status: 'done' });
    expect(gateway.messageRequests().map((r) => r.status)).toEqual([400, 200]);
    const [refused, resent] = bodies(gateway);
    expect(refused!.cache_control).toEqual({ type: 'ephemeral' });
    expect(resent!.cache_control).toBeUndefined();
    expect(resent!.messages.at(-1)!.content).toEqual([
      { type: 'text', text: DOCUMENT, cache_control: { type: 'ephemeral' } },
    ]);
    expect(await q.modes.get(gateway.url)).toBe('explicit');
    expect(first.message.attempts!.map((a) => [a.outcome, a.status])).toEqual([
      ['cache_control_refused', 400],
      ['ok', 200],
    ]);
    // Both requests left the machine: both count, and the refusal is in the ledger.
    expect(await monthUsed()).toBe(2);
    expect((await db.usage.toArray()).map((r) => [r.outcome, r.errorType])).toEqual([
      ['cache_control_refused', 'invalid_request_error'],
      ['ok', undefined],
    ]);

    // The next message goes explicit at once, and reads the prefix the first one wrote.
    const second = await turn(q, 'And the buckets?', first.conversationId);
    expect(gateway.messageRequests()).toHaveLength(3);
    expect(second.message.attempts).toHaveLength(1);
    expect(second.message.attempts![0]!.promptCache?.readTokens).toBe(DOC_TOKENS);
  });

  it('does not send the refused mode again when storage cannot remember it', async () => {
    gateway = await startClaudeServer({ refuseCacheControl: 'top-level' });
    // Storage reads nothing back and refuses every write.
    vi.spyOn(storedPromptCacheModes, 'get').mockResolvedValue(undefined);
    vi.spyOn(storedPromptCacheModes, 'set').mockRejectedValue(new Error('QUOTA_BYTES quota exceeded'));
    const q = await queue(gateway.url, '5m');
    const first = await turn(q, DOCUMENT);
    await turn(q, 'And the buckets?', first.conversationId);
    expect(gateway.messageRequests().map((r) => r.status)).toEqual([400, 200, 200]);
  });

  it('goes without the cache when the gateway refuses breakpoints on blocks too', async () => {
    gateway = await startClaudeServer({ refuseCacheControl: 'all' });
    const q = await queue(gateway.url, '5m');
    const first = await turn(q, DOCUMENT);
    expect(first.message.status).toBe('done');
    expect(gateway.messageRequests().map((r) => r.status)).toEqual([400, 400, 200]);
    expect(JSON.stringify(bodies(gateway)[2])).not.toContain('cache_control');
    expect(await q.modes.get(gateway.url)).toBe('off');
  });

  it('fails a 400 that is not about cache_control as before, without sending it again', async () => {
    server.script({
      kind: 'error',
      status: 400,
      type: 'invalid_request_error',
      message: 'prompt is too long: 210000 tokens > 200000 maximum',
    });
    const q = await queue(server.url, '5m');
    const first = await turn(q, 'Hello');
    expect(first.message.status).toBe('error');
    expect(server.messageRequests()).toHaveLength(1);
    expect(await q.modes.get(server.url)).toBeUndefined();
  });
});
