import { Stream } from '@anthropic-ai/sdk/core/streaming';
import { APIError } from '@anthropic-ai/sdk/core/error';
import { describe, expect, it, vi } from 'vitest';
import { eventStream } from '@/lib/claude/sse';

/** A response whose body arrives in these chunks (strings are sent as UTF-8; numbers are raw bytes). */
function responseOf(chunks: (string | number[])[]): Response {
  const bytes = chunks.map((c) => (typeof c === 'string' ? new TextEncoder().encode(c) : new Uint8Array(c)));
  return new Response(new ReadableStream({ start(controller) { for (const b of bytes) controller.enqueue(b); controller.close(); } }), { headers: { 'request-id': 'req_1' } });
}

async function read(iterable: AsyncIterable<unknown>): Promise<{ events: unknown[]; error: unknown }> {
  const events: unknown[] = [];
  try {
    for await (const event of iterable) events.push(event);
    return { events, error: null };
  } catch (err) {
    return { events, error: err instanceof APIError ? { api: err.message, type: err.type, requestID: err.requestID } : String(err) };
  }
}

// Each body is read by Pace and by the SDK's Stream.fromSSEResponse, which Pace's reading copies.
const CRLF_AND_CR = ['event: a\r', '\ndata: {"n":1}\r\n\r', '\nevent: b\rdata: {"n":2}\r\r'];
const bodies: Record<string, (string | number[])[]> = {
  'lines ending in LF, one event per chunk': ['event: a\ndata: {"n":1}\n\n', 'event: b\ndata: {"n":2}\n\n'],
  'CRLF split between chunks, and a lone CR': CRLF_AND_CR,
  'one event split across many chunks, data on two lines': ['ev', 'ent: a\nda', 'ta: {"n":\ndata: 1}', '\n', '\n'],
  'a character split between chunks, and a BOM': [[0xef, 0xbb, 0xbf], 'event: a\ndata: {"s":"', [0xc3], [0xa9, 0x22, 0x7d], '\n\n'],
  'ping, comments, unnamed events, other fields and no space after the colon are skipped or read as the SDK does': [
    ': comment\nevent: ping\ndata: {}\n\ndata: {"unnamed":true}\n\nid: 7\nretry: 10\nevent:a\ndata:{"n":1}\n\nevent: empty\ndata\n\nevent: a\ndata: {"n":2}',
  ],
  'the last event without its blank line': ['event: a\ndata: {"n":1}\n\nevent: a\ndata: {"n":2}\r'],
  'an error event': ['event: a\ndata: {"n":1}\n\nevent: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'],
  'an error event that is not JSON': ['event: error\ndata: the gateway broke\n\n'],
  'data that is not JSON': ['event: a\ndata: {oops\n\n'],
};

describe('reading an answer\'s server-sent events', () => {
  for (const [name, chunks] of Object.entries(bodies)) {
    it(`as the SDK does: ${name}`, async () => {
      const error = vi.spyOn(console, 'error').mockImplementation(() => {});
      const ours = await read(eventStream(responseOf(chunks), new AbortController()));
      const sdk = await read(Stream.fromSSEResponse(responseOf(chunks), new AbortController()));
      expect(ours).toEqual(sdk);
      error.mockRestore();
    });
  }

  it('gives the events in order', async () => {
    const { events } = await read(eventStream(responseOf(CRLF_AND_CR), new AbortController()));
    expect(events).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('aborts the request when the reader stops early, and not when it reads to the end', async () => {
    const stopped = new AbortController();
    const stream = eventStream(responseOf(['event: a\ndata: 1\n\nevent: a\ndata: 2\n\n']), stopped);
    for await (const event of stream) if (event === 1) break;
    expect([stream.controller, stopped.signal.aborted]).toEqual([stopped, true]);
    const toEnd = new AbortController();
    await read(eventStream(responseOf(['event: a\ndata: 1\n\n']), toEnd));
    expect(toEnd.signal.aborted).toBe(false);
  });

  it('ends quietly when the request is aborted, and fails for a response with no body', async () => {
    const controller = new AbortController();
    const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('event: a\ndata: 1\n\n')); controller.signal.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError'))); } });
    const events: unknown[] = [];
    for await (const event of eventStream(new Response(body), controller)) {
      events.push(event);
      controller.abort();
    }
    expect(events).toEqual([1]);
    expect(await read(eventStream(new Response(null), new AbortController()))).toEqual({ events: [], error: 'Error: Attempted to iterate over a response with no body' });
  });
});
