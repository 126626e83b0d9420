/**
 * Anthropic's prompt cache on the wire (pure). A request re-sends the whole conversation; with
 * caching on, the conversation's prefix is kept on Anthropic's side and re-read at a tenth of the
 * input price, without counting against input tokens per minute.
 *
 * `withPromptCache(request, mode, ttl)` gives the body to send:
 * - 'automatic': a top-level `cache_control`, which caches up to the last block and moves forward
 *   as the conversation grows;
 * - 'explicit': for a gateway that refuses the top-level field, a breakpoint on the last user turn's last
 *   block, and one on the last block of the latest earlier turn holding an image or PDF, so a
 *   follow-up re-reads the attachment from the cache (blocks are after the attachments: see request.ts);
 * - 'off': the request unchanged.
 * A gateway's refusal (`refusesCacheControl`) moves the base URL one step down (`fallbackMode`).
 * Pace's own response cache keys the request without any of this (lib/claude/request.ts).
 */
import type { PromptCacheSetting } from '../settings/validate';
import type { CacheTtl } from '../usage/prices';
import type { ContentBlock, MessageRequest } from './request';

export type PromptCacheMode = 'automatic' | 'explicit' | 'off';

interface CacheControl {
  type: 'ephemeral';
  ttl?: CacheTtl;
}

type CachedBlock = ContentBlock & { cache_control?: CacheControl };

/** A MessageRequest as sent, with the prompt cache asked for. */
export interface WireRequest extends Omit<MessageRequest, 'messages'> {
  messages: { role: 'user' | 'assistant'; content: string | CachedBlock[] }[];
  cache_control?: CacheControl;
}

/** The turn's content with a breakpoint on its last block. */
function withBreakpoint(content: string | ContentBlock[], control: CacheControl): CachedBlock[] {
  const blocks: ContentBlock[] = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  return blocks.map((b, i) => (i === blocks.length - 1 ? { ...b, cache_control: control } : b));
}

/** The lifetime a setting asks for (off still has one: it is never used). */
export const ttlOf = (setting: PromptCacheSetting): CacheTtl => (setting === '1h' ? '1h' : '5m');

/** How a request to this base URL asks for the cache: off when the user turned it off, else what the base URL accepts. */
export function effectiveMode(setting: PromptCacheSetting, remembered: PromptCacheMode | undefined): PromptCacheMode {
  return setting === 'off' ? 'off' : (remembered ?? 'automatic');
}

export function withPromptCache(request: MessageRequest, mode: PromptCacheMode, ttl: CacheTtl): WireRequest {
  // The 5-minute lifetime is the API's default: it is left out, as Anthropic's own examples do.
  const control: CacheControl = ttl === '1h' ? { type: 'ephemeral', ttl } : { type: 'ephemeral' };
  if (mode === 'automatic') return { ...request, cache_control: control };
  if (mode === 'off') return request;
  const last = request.messages.findLastIndex((m) => m.role === 'user');
  const attached = request.messages.findLastIndex(
    (m, i) => i < last && typeof m.content !== 'string' && m.content.some((b) => b.type !== 'text'),
  );
  return {
    ...request,
    messages: request.messages.map((m, i) =>
      i === last || i === attached ? { role: m.role, content: withBreakpoint(m.content, control) } : m,
    ),
  };
}

/**
 * Whether a failed request was refused for its `cache_control`: a 400 `invalid_request_error` for
 * a request that carried the field, whose message names it (a strict gateway's "cache_control:
 * Extra inputs are not permitted"). Status, type and the field's presence decide first; the
 * message only tells this 400 from the others (an empty message, too many tokens).
 */
export function refusesCacheControl(
  error: { status?: number; type?: string; message?: string },
  sent: PromptCacheMode,
): boolean {
  return (
    sent !== 'off' &&
    error.status === 400 &&
    error.type === 'invalid_request_error' &&
    /cache_control/i.test(error.message ?? '')
  );
}

/** What to try after a refusal: an explicit breakpoint after automatic caching, nothing after that. */
export function fallbackMode(refused: PromptCacheMode): PromptCacheMode {
  return refused === 'automatic' ? 'explicit' : 'off';
}

/** The options page's line for a base URL. */
export function describeMode(setting: PromptCacheSetting, remembered: PromptCacheMode | undefined): string {
  if (setting === 'off') return 'Prompt cache: off';
  const lifetime = setting === '1h' ? '1 hour' : '5 minutes';
  switch (effectiveMode(setting, remembered)) {
    case 'automatic':
      return `Prompt cache: automatic (${lifetime})`;
    case 'explicit':
      return `Prompt cache: explicit breakpoint (${lifetime}; this gateway does not accept automatic caching)`;
    case 'off':
      return 'Prompt cache: off (this gateway accepts no cache_control)';
  }
}

/** Where the mode that works for each base URL is remembered (extension storage in the background). */
export interface PromptCacheModes {
  get(baseURL: string): Promise<PromptCacheMode | undefined>;
  set(baseURL: string, mode: PromptCacheMode): Promise<void>;
}

/** Modes kept in memory: for tests, and for a runner given no storage. */
export function memoryModes(initial: Record<string, PromptCacheMode> = {}): PromptCacheModes {
  const modes = new Map(Object.entries(initial));
  return {
    get: (baseURL) => Promise.resolve(modes.get(baseURL)),
    set: (baseURL, mode) => {
      modes.set(baseURL, mode);
      return Promise.resolve();
    },
  };
}
