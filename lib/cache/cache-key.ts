/**
 * The response cache's key: a SHA-256 of the request in a canonical form, so the same request
 * always gets the same key and any change to what the API would see (backend, model, system
 * prompt, any message, any parameter) gets a different one. Pure apart from WebCrypto's digest.
 * An image or PDF is keyed by the SHA-256 of its bytes (its AttachmentRef's `hash`), never by its
 * base64; thinking, its effort and the tools are parameters (a different effort is a different answer).
 */
import { decodeBase64, sha256Hex } from '../attachments/attachment-check';

interface KeyedBlock {
  type: string;
  text?: string;
  source?: { type?: string; media_type?: string; data?: string };
  title?: string;
  citations?: unknown;
}

export interface CacheableRequest {
  /** The backend the request goes to: a gateway or the demo server may answer differently. */
  baseURL: string;
  model: string;
  system?: string;
  maxTokens: number;
  messages: { role: 'user' | 'assistant'; content: string | KeyedBlock[] }[];
  /** Any other sampling parameter sent (temperature, stop sequences...). */
  params?: Record<string, unknown>;
}

const VERSION = 'pace-cache-v1';

/** A block as the key sees it: an attachment's bytes replaced by their hash (`hashes`, by base64). */
function canonicalBlock(b: KeyedBlock, hashes: Map<string, string>): unknown {
  if (b.type === 'text') return { type: b.type, text: b.text };
  const { data, ...source } = b.source ?? {};
  return sortKeys({ ...b, source: { ...source, hash: data === undefined ? undefined : hashes.get(data) } });
}

/** The request as plain data with every representation choice that changes nothing on the wire undone. */
function canonicalRequest(req: CacheableRequest, hashes: Map<string, string>): unknown {
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
          : m.content.length === 1 && m.content[0]!.type === 'text'
            ? m.content[0]!.text
            : m.content.map((b) => canonicalBlock(b, hashes)),
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

/** The SHA-256 of each attachment's bytes in the request, by its base64. */
async function attachmentHashes(req: CacheableRequest): Promise<Map<string, string>> {
  const datas = new Set<string>();
  for (const m of req.messages) {
    if (typeof m.content === 'string') continue;
    for (const b of m.content) if (b.type !== 'text' && typeof b.source?.data === 'string') datas.add(b.source.data);
  }
  const hashes = new Map<string, string>();
  await Promise.all(
    [...datas].map(async (data) => {
      const bytes = decodeBase64(data);
      // Not base64 (the API refuses it anyway): keyed by a hash of the text itself, still never the text.
      hashes.set(data, await sha256Hex(bytes ?? new TextEncoder().encode(data)));
    }),
  );
  return hashes;
}

export async function cacheKey(req: CacheableRequest): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(canonicalRequest(req, await attachmentHashes(req))));
  return sha256Hex(bytes);
}
