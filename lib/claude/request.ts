/**
 * The Messages API request Pace sends for an answer, built in one place so the runner, the queue's
 * measurement, the batches and the response cache agree on it.
 *
 * A conversation's turns (`ContextTurn`, from lib/chat/conversation-store.ts `buildContext`) carry a
 * user message's attachments as references; their bytes are added as base64 before the request is
 * built (`withAttachmentData`). A user turn with attachments becomes image and document blocks, then
 * its text. The conversation's thinking effort and web search switch ride on the settings
 * (`ChatSettings`, from `settingsFor`).
 */
import type { CacheableRequest } from '../cache/cache-key';
import type { Settings } from '../settings/validate';
import type { AttachmentRef, ImageMediaType, ThinkingEffort } from '../storage/rows';
import { supportsThinking, thinkingStyle, webSearchTool } from './models';

interface TextBlock {
  type: 'text';
  text: string;
}
interface ImageBlock {
  type: 'image';
  source: { type: 'base64'; media_type: ImageMediaType; data: string };
}
interface DocumentBlock {
  type: 'document';
  source: { type: 'base64'; media_type: 'application/pdf'; data: string };
  title: string;
  citations: { enabled: true };
}
export type ContentBlock = TextBlock | ImageBlock | DocumentBlock;

type Thinking = { type: 'adaptive' } | { type: 'enabled'; budget_tokens: number };

interface WebSearchToolParam {
  type: 'web_search_20260209' | 'web_search_20250305';
  name: 'web_search';
  max_uses: number;
}

export interface MessageRequest {
  model: string;
  max_tokens: number;
  messages: { role: 'user' | 'assistant'; content: string | ContentBlock[] }[];
  system?: string;
  thinking?: Thinking;
  output_config?: { effort: Exclude<ThinkingEffort, 'off'> };
  tools?: WebSearchToolParam[];
}

/** An attachment in a turn: its reference, and its bytes as base64 once read (`withAttachmentData`). */
type TurnAttachment = AttachmentRef & { data?: string };

/** One turn of a conversation as Pace holds it before the request is built. */
export interface ContextTurn {
  role: 'user' | 'assistant';
  content: string;
  /** A user turn's images and PDFs, sent before its text. */
  attachments?: TurnAttachment[];
}

/** The settings a conversation's request goes with: the options' settings, the chat's model, thinking and search. */
export type ChatSettings = Settings & { thinking?: ThinkingEffort; webSearch?: boolean };

/** Searches a message may run when the settings hold no figure (settings from before the field). */
const DEFAULT_WEB_SEARCH_MAX_USES = 3;

/** `budget_tokens` for each effort on the models that take a budget (at least 1024, leaving the answer its room below max_tokens). */
const THINKING_BUDGETS: Record<Exclude<ThinkingEffort, 'off'>, number> = {
  low: 1024,
  medium: 4096,
  high: 16000,
};
const MIN_THINKING_BUDGET = 1024;
/** What a thinking budget leaves of max_tokens for the answer itself, where max_tokens allows. */
const ANSWER_ROOM = 1024;

/** Why thinking at `effort` cannot be asked of this model with this max_tokens, or null. */
export function thinkingProblem(model: string, effort: ThinkingEffort, maxTokens: number): string | null {
  if (effort === 'off') return null;
  if (!supportsThinking(model))
    return `${model} cannot think before answering; pick a newer model or turn thinking off.`;
  if (thinkingStyle(model) === 'budget' && maxTokens <= MIN_THINKING_BUDGET) {
    return `Thinking needs more than ${MIN_THINKING_BUDGET} tokens for the answer on ${model} (the longest answer is set to ${maxTokens}); raise it on the options page or turn thinking off.`;
  }
  return null;
}

function thinkingFields(model: string, effort: ThinkingEffort, maxTokens: number): Partial<MessageRequest> {
  if (effort === 'off') return {};
  const problem = thinkingProblem(model, effort, maxTokens);
  if (problem) throw new Error(problem);
  if (thinkingStyle(model) === 'adaptive') return { thinking: { type: 'adaptive' }, output_config: { effort } };
  // The answer keeps at least ANSWER_ROOM of max_tokens where it can: a budget of max_tokens - 1 could leave no text at all.
  const budget = Math.min(
    maxTokens - 1,
    Math.max(MIN_THINKING_BUDGET, Math.min(THINKING_BUDGETS[effort], maxTokens - ANSWER_ROOM)),
  );
  return { thinking: { type: 'enabled', budget_tokens: budget } };
}

function attachmentBlock(a: TurnAttachment): ImageBlock | DocumentBlock {
  if (a.data === undefined) throw new Error(`The bytes of ${a.name} are missing: send it again in a new message.`);
  if (a.kind === 'pdf') {
    return {
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: a.data },
      title: a.name,
      citations: { enabled: true },
    };
  }
  return { type: 'image', source: { type: 'base64', media_type: a.mediaType as ImageMediaType, data: a.data } };
}

/** The turns as the API takes them: a user turn with attachments is its image and document blocks, then its text. */
export function wireMessages(turns: readonly ContextTurn[]): MessageRequest['messages'] {
  return turns.map((t) =>
    t.attachments && t.attachments.length > 0
      ? { role: t.role, content: [...t.attachments.map(attachmentBlock), { type: 'text', text: t.content }] }
      : { role: t.role, content: t.content },
  );
}

export function messageRequest(
  settings: Pick<ChatSettings, 'model' | 'maxTokens' | 'systemPrompt' | 'thinking' | 'webSearch'> & {
    webSearchMaxUses?: number;
  },
  context: readonly ContextTurn[],
): MessageRequest {
  const tool = settings.webSearch
    ? [{ ...webSearchTool(settings.model), max_uses: settings.webSearchMaxUses ?? DEFAULT_WEB_SEARCH_MAX_USES }]
    : null;
  return {
    model: settings.model,
    max_tokens: settings.maxTokens,
    messages: wireMessages(context),
    ...(settings.systemPrompt ? { system: settings.systemPrompt } : {}),
    ...thinkingFields(settings.model, settings.thinking ?? 'off', settings.maxTokens),
    ...(tool ? { tools: tool } : {}),
  };
}

/** Whether any turn holds a PDF: such a request is measured with the API's count before admission. */
export const hasPdf = (turns: readonly ContextTurn[]) =>
  turns.some((t) => t.attachments?.some((a) => a.kind === 'pdf') === true);

/**
 * What identifies the request for the response cache: the request itself and the backend it goes
 * to. Anthropic's prompt cache (`cache_control`, top-level or on a block) changes only the price
 * of reading the prompt, not the answer: it is left out. An attachment is keyed by its hash, never
 * its bytes (lib/cache/cache-key.ts); thinking, its effort and the tools are part of the key. Takes
 * a MessageRequest, or one as sent (./prompt-cache.ts WireRequest, whose blocks may carry
 * `cache_control`), by its shape: the prompt cache's module builds on this one, never the other way.
 */
export function cacheableRequest(
  request: Omit<MessageRequest, 'messages'> & Pick<CacheableRequest, 'messages'>,
  baseURL: string,
): CacheableRequest {
  const params = {
    ...(request.thinking ? { thinking: request.thinking } : {}),
    ...(request.output_config ? { output_config: request.output_config } : {}),
    ...(request.tools ? { tools: request.tools } : {}),
  };
  return {
    baseURL,
    model: request.model,
    system: request.system,
    maxTokens: request.max_tokens,
    messages: request.messages,
    ...(Object.keys(params).length > 0 ? { params } : {}),
  };
}
