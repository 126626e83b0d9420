/** The Messages API request Pace sends for an answer, built in one place so the runner and the response cache agree on it. */
import type { CacheableRequest } from '../cache/cache-key';
import type { Settings } from '../settings/validate';

export interface MessageRequest {
  model: string;
  max_tokens: number;
  messages: { role: 'user' | 'assistant'; content: string }[];
  system?: string;
}

export function messageRequest(
  settings: Pick<Settings, 'model' | 'maxTokens' | 'systemPrompt'>,
  context: MessageRequest['messages'],
): MessageRequest {
  return {
    model: settings.model,
    max_tokens: settings.maxTokens,
    messages: context,
    ...(settings.systemPrompt ? { system: settings.systemPrompt } : {}),
  };
}

/**
 * What identifies the request for the response cache: the request itself and the backend it goes
 * to. Anthropic's prompt cache (`cache_control`, top-level or on a block) changes only the price
 * of reading the prompt, not the answer: it is left out. Takes a MessageRequest, or one as sent
 * (./prompt-cache.ts WireRequest, whose text blocks may carry `cache_control`), by its shape: the
 * prompt cache's module builds on this one, never the other way.
 */
export function cacheableRequest(
  request: Omit<MessageRequest, 'messages'> & Pick<CacheableRequest, 'messages'>,
  baseURL: string,
): CacheableRequest {
  return {
    baseURL,
    model: request.model,
    system: request.system,
    maxTokens: request.max_tokens,
    messages: request.messages,
  };
}
