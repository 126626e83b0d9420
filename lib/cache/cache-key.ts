/**
 * The response cache's key: a SHA-256 of the request in a canonical form, so the same request
 * always gets the same key and any change to what the API would see (backend, model, system
 * prompt, any message, any parameter) gets a different one. Pure apart from WebCrypto's digest.
 */

export interface CacheableRequest {
  /** The backend the request goes to: a gateway or the demo server may answer differently. */
  baseURL: string;
  model: string;
  system?: string;
  maxTokens: number;
  messages: { role: 'user' | 'assistant'; content: string | { type: 'text'; text: string }[] }[];
  /** Any other sampling parameter sent (temperature, stop sequences...). */
  params?: Record<string, unknown>;
}

const VERSION = 'pace-cache-v1';

/** The request as plain data with every representation choice that changes nothing on the wire undone. */
function canonicalRequest(req: CacheableRequest): unknown {
  return {
    v: VERSION,
    baseURL: req.baseURL.replace(/\/+$/, ''),
    model: req.model,
    // No system prompt and an empty one send the same request.
    system: req.system ?? '',
    maxTokens: req.maxTokens,
    // A string and a single text block are the same content to the API.
    messages: req.messages.map((m) => ({
      role: m.role,
      content:
        typeof m.content === 'string'
          ? m.content
          : m.content.length === 1
            ? m.content[0]!.text
            : m.content.map((b) => ({ type: b.type, text: b.text })),
    })),
    params: sortKeys(req.params ?? {}),
  };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export async function cacheKey(req: CacheableRequest): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(canonicalRequest(req)));
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
