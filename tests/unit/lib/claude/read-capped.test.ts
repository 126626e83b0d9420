/**
 * Bounded reads (issue 21): what a server sends is read up to a cap and the rest cancelled, never
 * downloaded: error bodies, a gateway's /key/info, a batch's results file.
 */
import { APIError } from '@anthropic-ai/sdk/core/error';
import { afterEach, describe, expect, it } from 'vitest';
import { createGatewayBudget } from '@/lib/usage/gateway-key-info';
import { batchResults, BatchResultsTooLargeError } from '@/lib/claude/batches';
import { ClaudeClient } from '@/lib/claude/client';
import {
  MAX_BATCH_RESULTS_BYTES,
  MAX_ERROR_BODY_BYTES,
  MAX_KEY_INFO_BYTES,
  readCapped,
} from '@/lib/claude/read-capped';
import { PaceDB } from '@/lib/storage/db';

/** A body of `chunk` repeated up to `total` bytes, counting what was pulled from it and whether the rest was cancelled. */
function body(chunk: string | Uint8Array, total: number) {
  const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (seen.pulled >= total) return c.close();
        seen.pulled += bytes.byteLength;
        c.enqueue(bytes);
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

describe('readCapped', () => {
  it('reads a body within the cap whole', async () => {
    const { stream, seen } = body('abc', 9);
    expect(await readCapped(new Response(stream), 100)).toEqual({ text: 'abcabcabc', cut: false });
    expect(seen.cancelled).toBe(false);
  });

  it('stops at the cap, cancels the rest unread, and says it was cut', async () => {
    const { stream, seen } = body('x'.repeat(1000), 1_000_000);
    const read = await readCapped(new Response(stream), 2500);
    expect(read).toEqual({ text: 'x'.repeat(2500), cut: true });
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThanOrEqual(3000);
  });

  it('never cuts a character in two', async () => {
    const { stream } = body('é', 10);
    expect(await readCapped(new Response(stream), 3)).toEqual({ text: 'é', cut: true });
  });

  it('reads an empty body as empty text', async () => {
    expect(await readCapped(new Response(null), 10)).toEqual({ text: '', cut: false });
  });
});

const clientWith = (fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>) =>
  new ClaudeClient({
    apiKey: 'sk-test',
    baseURL: 'https://gw.example.com',
    defaultHeaders: {},
    fetch,
    timeout: 60_000,
  });

describe('the client', () => {
  it("reads at most 64 KB of an error response's body", async () => {
    const { stream, seen } = body('<p>' + 'x'.repeat(4093), 50 * 1024 * 1024);
    const err = await clientWith(async () => new Response(stream, { status: 502 }))
      .models.list()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(502);
    expect(seen.pulled).toBeLessThanOrEqual(MAX_ERROR_BODY_BYTES + 4096);
    expect(seen.cancelled).toBe(true);
    expect((err as Error).message.length).toBeLessThanOrEqual(MAX_ERROR_BODY_BYTES + 100);
  });

  it('fails a results file larger than the cap, saying so, without reading it all', async () => {
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    const { stream, seen } = body(chunk, MAX_BATCH_RESULTS_BYTES + 8 * 1024 * 1024);
    const client = clientWith(async () => new Response(stream));
    const err = await batchResults(client, { id: 'msgbatch_1', processing_status: 'ended' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchResultsTooLargeError);
    expect((err as Error).message).toBe(
      "Anthropic's results for this batch are larger than Pace reads (64 MB), so they were not read",
    );
    expect(seen.pulled).toBeLessThanOrEqual(MAX_BATCH_RESULTS_BYTES + chunk.byteLength);
    expect(seen.cancelled).toBe(true);
  });
});

describe("a gateway's /key/info", () => {
  let db: PaceDB;
  afterEach(() => db.close());

  it('is read up to 64 KB: a longer answer is no budget, and the rest is not downloaded', async () => {
    db = new PaceDB(`capped-${Math.random()}`);
    const { stream, seen } = body(' '.repeat(4096), 20 * 1024 * 1024);
    const budget = createGatewayBudget({
      db,
      credentials: async () => ({ apiKey: 'sk-test', baseURL: 'https://gw.example.com', demo: false }),
      settings: async () => ({ extraHeaders: '' }),
      now: () => Date.UTC(2026, 10, 30),
      fetch: async () => new Response(stream, { status: 200 }),
      log: () => undefined,
    });
    expect(await budget.refresh('asked')).toMatchObject({ baseURL: 'https://gw.example.com', budget: null });
    expect(seen.pulled).toBeLessThanOrEqual(MAX_KEY_INFO_BYTES + 4096);
    expect(seen.cancelled).toBe(true);
  });
});
