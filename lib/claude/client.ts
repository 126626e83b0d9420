/** Builds the SDK client the background uses for every call. Background only: it holds the key. */
import Anthropic from '@anthropic-ai/sdk';
import type { ModelInfo } from './models';

export interface Credentials {
  apiKey: string;
  baseURL: string;
}

export function createClaudeClient({ apiKey, baseURL }: Credentials, extraHeaders: Record<string, string> = {}): Anthropic {
  return new Anthropic({
    apiKey,
    baseURL,
    // A team gateway's own headers (validated by parseHeaderLines: never the key's or the version's).
    defaultHeaders: extraHeaders,
    // An extension page or worker is a browser context; the key is the user's own, kept by the background.
    dangerouslyAllowBrowser: true,
    // Retries belong to Pace's own queue, which counts every request it sends.
    maxRetries: 0,
    timeout: 10 * 60 * 1000,
  });
}

/** Lists the models the key may use; doubles as the key check. */
export async function listModels(client: Anthropic, signal?: AbortSignal): Promise<ModelInfo[]> {
  const page = await client.models.list({ limit: 100 }, { signal });
  return page.data.map((m) => ({ id: m.id, displayName: m.display_name || m.id }));
}
