/**
 * A streamed answer's events, read from the response's Server-Sent Events the way the SDK's
 * `Stream.fromSSEResponse` reads them (its line and field rules, copied from
 * @anthropic-ai/sdk/core/streaming): `ping` and unnamed events are skipped, an `error` event throws
 * the APIError it describes, each other event's data is parsed as JSON. Stopping early (a `break`,
 * or the caller's abort) aborts the request, and an abort ends the events quietly. It is the part
 * of the SDK's Stream Pace uses: the rest (tee, toReadableStream, its shims) is 5 KB of the worker.
 */
import { APIError } from '@anthropic-ai/sdk/core/error';
import type { ErrorType } from '@anthropic-ai/sdk/resources/shared';

export type EventStream<T> = AsyncGenerator<T, void> & { controller: AbortController };

interface ServerSentEvent {
  event: string | null;
  data: string;
  raw: string[];
}

export function eventStream<T>(response: Response, controller: AbortController): EventStream<T> {
  return Object.assign(events<T>(response, controller), { controller });
}

async function* events<T>(response: Response, controller: AbortController): AsyncGenerator<T, void> {
  let done = false;
  try {
    for await (const sse of messages(response, controller)) {
      if (sse.event === 'ping' || sse.event === null) continue;
      if (sse.event === 'error') {
        const body = parseOrUndefined(sse.data) ?? sse.data;
        throw new APIError(undefined, body, undefined, response.headers, (body as { error?: { type?: ErrorType } }).error?.type);
      }
      if (!sse.data) continue;
      let event: T;
      try {
        event = JSON.parse(sse.data) as T;
      } catch (err) {
        console.error('Could not parse message into JSON:', sse.data);
        console.error('From chunk:', sse.raw);
        throw err;
      }
      yield event;
    }
    done = true;
  } catch (err) {
    // The caller's abort ends the answer; it is not a failure of the stream.
    if (typeof err === 'object' && err !== null && (('name' in err && err.name === 'AbortError') || ('message' in err && String(err.message).includes('FetchRequestCanceledException')))) return;
    throw err;
  } finally {
    if (!done) controller.abort();
  }
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON: the SDK takes the text itself as the error.
    return undefined;
  }
}

async function* messages(response: Response, controller: AbortController): AsyncGenerator<ServerSentEvent> {
  if (!response.body) {
    controller.abort();
    throw new Error('Attempted to iterate over a response with no body');
  }
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let text = '';
  let endsWithCR = false;
  let event: string | null = null;
  let data: string[] = [];
  let raw: string[] = [];
  const takeLine = (line: string): ServerSentEvent | null => {
    if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (!line) {
      if (!event && !data.length) return null;
      const sse = { event, data: data.join('\n'), raw };
      event = null;
      data = [];
      raw = [];
      return sse;
    }
    raw.push(line);
    const colon = line.indexOf(':');
    if (colon === 0) return null;
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'event' && field !== 'data') return null;
    const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === 0x20 ? colon + 2 : colon + 1);
    if (field === 'event') event = value;
    else data.push(value);
    return null;
  };
  const reader = response.body.getReader();
  let reading = true;
  try {
    for (;;) {
      const chunk = await reader.read().catch((err: unknown) => {
        reading = false;
        throw err;
      });
      if (chunk.done) break;
      const decoded = decoder.decode(chunk.value, { stream: true });
      text += decoded;
      // Searching `text` after `+=` copies the whole pending line, so wait for a chunk with a line ending.
      if (!endsWithCR && !decoded.includes('\n') && !decoded.includes('\r')) continue;
      let start = 0;
      for (let i = 0; i < text.length; i++) {
        const char = text[i];
        if (char !== '\n' && char !== '\r') continue;
        if (char === '\r' && i + 1 === text.length) break;
        const sse = takeLine(text.slice(start, i));
        if (char === '\r' && text[i + 1] === '\n') i++;
        start = i + 1;
        if (sse) yield sse;
      }
      text = text.slice(start);
      endsWithCR = text.endsWith('\r');
    }
    reading = false;
  } finally {
    // Stopped before the end: let the body go.
    if (reading) await reader.cancel();
  }
  text += decoder.decode();
  for (const line of text ? text.replace(/\r$/, '').split(/\r\n|[\n\r]/) : []) {
    const sse = takeLine(line);
    if (sse) yield sse;
  }
}
