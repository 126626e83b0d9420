/** Builds the SDK client the background uses for every call. Background only: it holds the key. */
import { BaseAnthropic } from '@anthropic-ai/sdk/client';
import { Messages } from '@anthropic-ai/sdk/resources/messages/messages';
import { Models } from '@anthropic-ai/sdk/resources/models';
import type { ModelInfo } from './models';

/**
 * The official SDK's client with only the resources Pace calls. The SDK's `Anthropic` composes every
 * resource (beta, organization, files, skills, ...), and a bundler cannot drop one that is built in
 * the constructor: that came to over half of the worker's script. `Anthropic` is assignable to it.
 */
export class ClaudeClient extends BaseAnthropic {
  messages: Messages = new Messages(this);
  models: Models = new Models(this);
}

export interface Credentials {
  apiKey: string;
  baseURL: string;
}

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export function createClaudeClient({ apiKey, baseURL }: Credentials, extraHeaders: Record<string, string> = {}): ClaudeClient {
  return new ClaudeClient({
    apiKey,
    baseURL,
    // A team gateway's own headers (validated by parseHeaderLines: never the key's or the version's).
    defaultHeaders: extraHeaders,
    // Every request carries the key: it goes to the base URL and nowhere it redirects to.
    fetch: refuseRedirects(),
    // An extension page or worker is a browser context; the key is the user's own, kept by the background.
    dangerouslyAllowBrowser: true,
    // Retries belong to Pace's own queue, which counts every request it sends.
    maxRetries: 0,
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
