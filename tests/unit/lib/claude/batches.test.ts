import { APIConnectionError, BadRequestError, NotFoundError } from '@anthropic-ai/sdk/core/error';
import { describe, expect, it } from 'vitest';
import {
  batchResults,
  BatchInputError,
  checkBatchRequests,
  createBatch,
  parseBatchResults,
  retrieveBatch,
  type BatchRequest,
} from '@/lib/claude/batches';
import { API_VERSION, createClaudeClient } from '@/lib/claude/client';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';

let server: ClaudeServer;
useClaudeServer((s) => (server = s), {
  batches: {
    inProgressPolls: 1,
    outcome: ({ custom_id: id }) => (id === 'q-late' ? { type: 'expired' } : { type: 'succeeded' }),
  },
});

const ask = (id: string, content: string): BatchRequest => ({
  custom_id: id,
  params: { model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content }] },
});
const client = () => createClaudeClient({ apiKey: TEST_KEY, baseURL: server.url });

describe('the batch calls against the local server', () => {
  it('create, poll until ended, and read the results, matched by custom_id', async () => {
    const c = client();
    const created = await createBatch(c, [ask('q-1', 'one'), ask('q-2', 'two'), ask('q-late', 'three')]);
    expect(created.processing_status).toBe('in_progress');
    expect(created.request_counts.processing).toBe(3);
    await expect(batchResults(c, created)).rejects.toThrow(
      new BatchInputError(`batch ${created.id} is still in progress: its results can be read once it has ended`),
    );

    expect((await retrieveBatch(c, created.id)).processing_status).toBe('in_progress');
    const ended = await retrieveBatch(c, created.id);
    expect(ended.processing_status).toBe('ended');
    const results = await batchResults(c, ended);
    expect(Object.fromEntries(results.map((r) => [r.custom_id, r.result.type]))).toEqual({
      'q-1': 'succeeded',
      'q-2': 'succeeded',
      'q-late': 'expired',
    });
    const one = results.find((r) => r.custom_id === 'q-1')!.result;
    expect(one.type === 'succeeded' && one.message.content).toEqual([{ type: 'text', text: 'You said: "one"' }]);

    // What went on the wire: the thin client's headers, to the base URL's batch routes.
    const batchCalls = server.requests.filter((r) => r.path.startsWith('/v1/messages/batches'));
    expect(batchCalls.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/messages/batches',
      `GET /v1/messages/batches/${created.id}`,
      `GET /v1/messages/batches/${created.id}`,
      `GET /v1/messages/batches/${created.id}/results`,
    ]);
    for (const r of batchCalls) {
      expect(r.headers).toMatchObject({
        authorization: `Bearer ${TEST_KEY}`,
        'anthropic-version': API_VERSION,
        'anthropic-dangerous-direct-browser-access': 'true',
      });
    }
    expect(batchCalls[0]!.body).toEqual({ requests: [ask('q-1', 'one'), ask('q-2', 'two'), ask('q-late', 'three')] });
  });

  it("fails with the API's own error classes", async () => {
    await expect(retrieveBatch(client(), 'msgbatch_unknown')).rejects.toBeInstanceOf(NotFoundError);
    const wrongVersion = createClaudeClient(
      { apiKey: TEST_KEY, baseURL: server.url },
      { 'anthropic-version': '1999-01-01' },
    );
    await expect(createBatch(wrongVersion, [ask('a', 'x')])).rejects.toBeInstanceOf(BadRequestError);
    const nobody = createClaudeClient({ apiKey: TEST_KEY, baseURL: 'http://127.0.0.1:9' });
    await expect(retrieveBatch(nobody, 'msgbatch_x')).rejects.toBeInstanceOf(APIConnectionError);
  });

  it('sends nothing for requests it refuses, or for an id that is not one', async () => {
    const c = client();
    await expect(createBatch(c, [])).rejects.toThrow('a batch needs at least one request');
    await expect(createBatch(c, [ask('ok', 'x'), ask('not ok!', 'y')])).rejects.toThrow(
      'request 2: custom_id "not ok!" must be 1 to 64 letters, digits, "-" or "_"',
    );
    await expect(retrieveBatch(c, '../models')).rejects.toThrow('"../models" is not a batch id');
    expect(server.requests).toEqual([]);
  });
});

describe('checkBatchRequests', () => {
  it('accepts ids of 1 to 64 letters, digits, - and _, each once', () => {
    expect(checkBatchRequests([ask('a', 'x'), ask('Z-9_'.padEnd(64, 'x'), 'y')])).toBeNull();
    expect(checkBatchRequests([ask('x'.repeat(65), 'x')])).toMatch(/^request 1: custom_id "x{65}" must be/);
    expect(checkBatchRequests([ask('', 'x')])).toMatch(/^request 1: custom_id "" must be/);
    expect(checkBatchRequests([ask('a', 'x'), ask('a', 'y')])).toBe(
      'request 2: custom_id "a" is already used by an earlier request of this batch',
    );
  });
});

describe('parseBatchResults', () => {
  it('reads one entry a line, whatever the order and the blank lines', () => {
    const text = [
      '{"custom_id":"b","result":{"type":"errored","error":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}}}',
      '',
      '{"custom_id":"a","result":{"type":"succeeded","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[],"usage":{"input_tokens":3,"output_tokens":0}}}}',
      '{"custom_id":"c","result":{"type":"canceled"}}',
      '{"custom_id":"d","result":{"type":"expired"}}',
      '',
    ].join('\n');
    expect(parseBatchResults(text).map((r) => [r.custom_id, r.result.type])).toEqual([
      ['b', 'errored'],
      ['a', 'succeeded'],
      ['c', 'canceled'],
      ['d', 'expired'],
    ]);
  });

  it('skips, naming it, a line that names no request; a line naming its request but broken is malformed for that request alone', () => {
    const skipped: string[] = [];
    const entries = parseBatchResults(
      '{"custom_id":"a","result":{"type":"canceled"}}\n<html>\n{"result":{"type":"canceled"}}\n{"custom_id":"b","result":{"type":"done"}}\n{"custom_id":"c","result":{"type":"succeeded"}}',
      (why) => skipped.push(why),
    );
    expect(skipped).toEqual([
      expect.stringMatching(/^batch results, line 2: not JSON/),
      'batch results, line 3: no custom_id',
    ]);
    expect(entries.map((e) => [e.custom_id, e.result.type])).toEqual([
      ['a', 'canceled'],
      ['b', 'malformed'],
      ['c', 'malformed'],
    ]);
  });

  it('checks a succeeded message as the stream is checked: whole token counts >= 0, content a list, model a string', () => {
    const message = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5',
      content: [{ type: 'text', text: 'hi' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 3, output_tokens: 2 },
    };
    const line = (m: unknown) => JSON.stringify({ custom_id: 'q', result: { type: 'succeeded', message: m } });
    const problem = (m: unknown) => {
      const [entry] = parseBatchResults(line(m));
      return entry?.result.type === 'malformed' ? entry.result.problem : null;
    };
    expect(problem(message)).toBeNull();
    expect(
      problem({
        ...message,
        usage: { ...message.usage, cache_read_input_tokens: null, server_tool_use: { web_search_requests: 1 } },
      }),
    ).toBeNull();
    expect(problem({ ...message, usage: {} })).toBe('usage.input_tokens is not a whole number');
    expect(problem({ ...message, usage: { input_tokens: -4, output_tokens: 2 } })).toBe(
      'usage.input_tokens is negative',
    );
    expect(problem({ ...message, usage: { input_tokens: 4, output_tokens: 2.5 } })).toBe(
      'usage.output_tokens is not a whole number',
    );
    expect(problem({ ...message, usage: { input_tokens: 4, output_tokens: 1e12 } })).toBe(
      'usage.output_tokens is more than 100000000',
    );
    expect(
      problem({ ...message, usage: { input_tokens: 4, output_tokens: 2, cache_creation_input_tokens: '9' } }),
    ).toBe('usage.cache_creation_input_tokens is not a whole number');
    expect(problem({ ...message, usage: { input_tokens: 4, output_tokens: 2, cache_read_input_tokens: -1 } })).toBe(
      'usage.cache_read_input_tokens is negative',
    );
    expect(
      problem({
        ...message,
        usage: { input_tokens: 4, output_tokens: 2, server_tool_use: { web_search_requests: -2 } },
      }),
    ).toBe('usage.server_tool_use.web_search_requests is negative');
    expect(problem({ ...message, usage: undefined })).toBe('usage is missing');
    expect(problem({ ...message, content: 'x' })).toBe('content is not a list');
    expect(problem({ ...message, content: [{ type: 'text', text: 7 }] })).toBe(
      'content[0] is a text block without text',
    );
    expect(problem({ ...message, model: undefined })).toBe('model is not a string');
    expect(problem('x')).toBe('no message');
  });
});
