/** Builds the SDK client the background uses for every call. Background only: it holds the key. */
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk/core/error';
import { Stream } from '@anthropic-ai/sdk/core/streaming';
import type { BatchCreateParams, MessageBatch } from '@anthropic-ai/sdk/resources/messages/batches';
import type {
  MessageCountTokensParams,
  MessageCreateParamsStreaming,
  MessageTokensCount,
  RawMessageStreamEvent,
} from '@anthropic-ai/sdk/resources/messages';
import type { ModelInfo as ApiModel } from '@anthropic-ai/sdk/resources/models';
import { VERSION } from '@anthropic-ai/sdk/version';
import type { ModelInfo } from './models';
import { errorText } from '../error-text';
import { MAX_BATCH_RESULTS_BYTES, MAX_ERROR_BODY_BYTES, readCapped, type CappedText } from './read-capped';

/** The API version the SDK installed here speaks (its client sends the same). */
export const API_VERSION = '2026-10-21';

interface CallOptions {
  signal?: AbortSignal;
}

/** A streamed answer on its way: awaited, the stream; `withResponse()` gives the HTTP response (its headers) too. */
export type StreamCall = Promise<Stream<RawMessageStreamEvent>> & {
  withResponse(): Promise<{ data: Stream<RawMessageStreamEvent>; response: Response }>;
};

/**
 * The three calls Pace makes, on the official SDK's own wire code: its SSE `Stream` and its error
 * classes (`APIError.generate` picks RateLimitError, OverloadedError... from the status). The SDK's
 * client class is not used: it carries the credentials chain, OpenTelemetry, paginators, retries
 * and every resource, well over a third of the worker's script, none of which Pace calls. It
 * sends what the SDK sends (the key as a Bearer token, the API version, the browser-access header)
 * and fails as it does: APIUserAbortError when the caller aborts, APIConnectionTimeoutError when
 * `timeout` passes before the answer's headers, APIConnectionError with the cause for a failed
 * fetch, the status's APIError for an error response.
 */
export class ClaudeClient {
  readonly messages = {
    create: (body: MessageCreateParamsStreaming, options: CallOptions = {}): StreamCall => {
      const sent = this.call('POST', '/v1/messages', body, options).then(({ response, controller }) => ({
        data: Stream.fromSSEResponse<RawMessageStreamEvent>(response, controller),
        response,
      }));
      const stream = sent.then(({ data }) => data);
      // Whichever of the two the caller awaits sees a failure; the other one must not be reported as unhandled.
      stream.catch((err: unknown) => err);
      return Object.assign(stream, { withResponse: () => sent });
    },
    countTokens: async (body: MessageCountTokensParams, options: CallOptions = {}): Promise<MessageTokensCount> =>
      this.json<MessageTokensCount>('POST', '/v1/messages/count_tokens', body, options),
    /** Message Batches on the wire; lib/claude/batches.ts checks what goes in and parses the results. */
    batches: {
      create: async (body: BatchCreateParams, options: CallOptions = {}): Promise<MessageBatch> =>
        this.json<MessageBatch>('POST', '/v1/messages/batches', body, options),
      retrieve: async (id: string, options: CallOptions = {}): Promise<MessageBatch> =>
        this.json<MessageBatch>('GET', `/v1/messages/batches/${encodeURIComponent(id)}`, undefined, options),
      /** The results file as it comes (JSON Lines), read from the base URL, never from another origin's results_url. */
      results: async (id: string, options: CallOptions = {}): Promise<CappedText> => {
        const { response } = await this.call(
          'GET',
          `/v1/messages/batches/${encodeURIComponent(id)}/results`,
          undefined,
          options,
        );
        return readCapped(response, MAX_BATCH_RESULTS_BYTES);
      },
      cancel: async (id: string, options: CallOptions = {}): Promise<MessageBatch> =>
        this.json<MessageBatch>('POST', `/v1/messages/batches/${encodeURIComponent(id)}/cancel`, undefined, options),
    },
  };

  readonly models = {
    list: async (query: { limit?: number } = {}, options: CallOptions = {}): Promise<{ data: ApiModel[] }> =>
      this.json<{ data: ApiModel[] }>(
        'GET',
        `/v1/models${query.limit === undefined ? '' : `?limit=${query.limit}`}`,
        undefined,
        options,
      ),
  };

  constructor(private readonly options: ClientOptions) {}

  private async json<T>(method: 'GET' | 'POST', path: string, body: unknown, options: CallOptions): Promise<T> {
    const { response } = await this.call(method, path, body, options);
    return (await response.json()) as T;
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    { signal }: CallOptions,
  ): Promise<{ response: Response; controller: AbortController }> {
    if (signal?.aborted) throw new APIUserAbortError();
    const { apiKey, baseURL, defaultHeaders, fetch, timeout } = this.options;
    const url = `${baseURL.replace(/\/+$/, '')}${path}`;
    const headers = {
      accept: 'application/json',
      'user-agent': `Anthropic/JS ${VERSION}`,
      'anthropic-dangerous-direct-browser-access': 'true',
      'anthropic-version': API_VERSION,
      authorization: `Bearer ${apiKey}`,
      ...defaultHeaders,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    // The caller's signal aborts the request and, later, the stream's body; the timeout covers the wait for the headers.
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener('abort', abort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeout);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        signal: controller.signal,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      if (signal?.aborted) throw new APIUserAbortError();
      if (timedOut) throw new APIConnectionTimeoutError();
      throw new APIConnectionError({ cause: err instanceof Error ? err : new Error(String(err)) });
    } finally {
      clearTimeout(timer);
    }
    // Before anything is read of it: a 429's retry-after counts from here (lib/queue/wire-gate.ts).
    this.options.watch?.(response);
    if (!response.ok) {
      signal?.removeEventListener('abort', abort);
      const text = await readCapped(response, MAX_ERROR_BODY_BYTES).then((read) => read.text, errorText);
      const json = parseJSON(text);
      throw APIError.generate(response.status, json, json === undefined ? text : undefined, response.headers);
    }
    return { response, controller };
  }
}

interface ClientOptions {
  apiKey: string;
  baseURL: string;
  /** A team gateway's own headers (validated by parseHeaderLines: never the key's or the version's). */
  defaultHeaders: Record<string, string>;
  fetch: Fetch;
  timeout: number;
  /** Sees each response the moment its status and headers arrive, before its body is read. */
  watch?: (response: Response) => void;
}

function parseJSON(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    // Not JSON (a gateway's HTML error page, say): the text itself becomes the error's message.
    return undefined;
  }
}

export interface Credentials {
  apiKey: string;
  baseURL: string;
}

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export function createClaudeClient(
  { apiKey, baseURL }: Credentials,
  extraHeaders: Record<string, string> = {},
  watch?: (response: Response) => void,
): ClaudeClient {
  return new ClaudeClient({
    apiKey,
    baseURL,
    defaultHeaders: extraHeaders,
    watch,
    // Every request carries the key: it goes to the base URL and nowhere it redirects to.
    fetch: refuseRedirects(),
    // No retries here: they belong to Pace's own queue, which counts every request it sends.
    timeout: 10 * 60 * 1000,
  });
}

/** Lists the models the key may use; doubles as the key check. */
export async function listModels(client: ClaudeClient, signal?: AbortSignal): Promise<ModelInfo[]> {
  const page = await client.models.list({ limit: 100 }, { signal });
  return page.data.map((m) => ({ id: m.id, displayName: m.display_name || m.id }));
}

/** The base URL answered with a redirect, which Pace did not follow. `to` is null when the browser hides where it led. */
export class RedirectRefused extends Error {
  constructor(
    readonly from: string,
    readonly to: string | null,
  ) {
    // The origins stay out of the message: the SDK takes any error whose text says "timeout" (or
    // "timed out") for a timeout and drops it, and an origin such as https://timeout.example would.
    super('the base URL answered with a redirect, which was not followed');
    this.name = 'RedirectRefused';
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * A fetch that never follows a redirect. fetch would: it drops Authorization on the way to another
 * origin but keeps every other header (a gateway's secret, a key sent as x-api-key) and the body,
 * and that origin's answer would be shown as Claude's. Node's fetch shows the redirect's Location;
 * a browser gives an opaque redirect instead, so where it leads is found by asking the same address
 * again with nothing of the user's: no headers, no body, no cookies.
 */
export function refuseRedirects(inner: Fetch = (input, init) => fetch(input, init)): Fetch {
  return async (input, init) => {
    const response = await inner(input, { ...init, redirect: 'manual' });
    if (response.type !== 'opaqueredirect' && !REDIRECT_STATUSES.has(response.status)) return response;
    const url = input instanceof Request ? input.url : String(input);
    await response.body?.cancel();
    const location = response.headers.get('location');
    const to = location !== null ? originOf(location, url) : await whereItLeads(inner, url, init?.signal ?? undefined);
    throw new RedirectRefused(new URL(url).origin, to);
  };
}

function originOf(location: string, base: string): string | null {
  try {
    return new URL(location, base).origin;
  } catch {
    // A Location that is not a URL leads nowhere Pace can name.
    return null;
  }
}

async function whereItLeads(inner: Fetch, url: string, signal: AbortSignal | undefined): Promise<string | null> {
  try {
    const probe = await inner(url, {
      method: 'GET',
      redirect: 'follow',
      credentials: 'omit',
      cache: 'no-store',
      signal: AbortSignal.any([AbortSignal.timeout(5000), ...(signal ? [signal] : [])]),
    });
    await probe.body?.cancel();
    return probe.redirected ? new URL(probe.url).origin : null;
  } catch (err) {
    // The other address refused a cross-origin read, or did not answer: the message says "another address".
    console.info('[pace] could not tell where the redirect leads', err instanceof Error ? err.name : err);
    return null;
  }
}
