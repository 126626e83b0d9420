/**
 * Whether a request fits the model's context window, decided before anything is stored or sent.
 *
 * `checkContextSize` estimates the input at four characters a token; when that is near the window
 * (over half of it, or over it once the answer's `max_tokens` is reserved) it asks `count` for the
 * exact figure (the API's count_tokens) and decides on that, or on the estimate when the count
 * cannot be had. Returns null when the request fits, else the error to show.
 */
import type { ClaudeClient } from './client';
import { buildContext } from '../chat/conversation-store';
import type { PaceError } from '../storage/rows';
import type { ChatMessage } from '../storage/db';
import { estimateTokens } from './token-estimate';
import { formatCount } from '../limits/format';
import { wireMessages, type ContextTurn } from './request';

export type { ContextTurn } from './request';

export interface ContextRequest {
  model: string;
  system: string;
  messages: ContextTurn[];
  /** Tokens reserved for the answer (settings.maxTokens). */
  maxTokens: number;
  /** The model's context window in tokens. */
  window: number;
  /** 'send' for a new message, 'retry' for an answer asked again: only a new message can be shortened. */
  kind: 'send' | 'retry';
}

/** When an exact count is worth a request: the estimate is over half the window, or does not fit. */
function needsExactCount(estimate: number, maxTokens: number, window: number): boolean {
  return estimate > window / 2 || estimate + maxTokens > window;
}

function tooLargeError(
  tokens: number,
  request: Pick<ContextRequest, 'model' | 'maxTokens' | 'window' | 'kind'>,
): PaceError {
  const fix =
    request.kind === 'send' ? 'Start a new chat or shorten the message.' : 'Start a new chat to ask it again.';
  return {
    code: 'too_large',
    message: `This conversation is about ${formatCount(tokens)} tokens; ${request.model} reads at most ${formatCount(request.window)} (including the ${formatCount(request.maxTokens)} reserved for the answer). ${fix}`,
    action: 'new_chat',
  };
}

export async function checkContextSize(
  request: ContextRequest,
  /** The exact input token count, or null when it cannot be had. */
  count: () => Promise<number | null>,
): Promise<PaceError | null> {
  const estimate = estimateTokens(request);
  let tokens = estimate;
  if (needsExactCount(estimate, request.maxTokens, request.window)) tokens = (await count()) ?? estimate;
  return tokens + request.maxTokens > request.window ? tooLargeError(tokens, request) : null;
}

/** The API's exact input count for the request (POST /v1/messages/count_tokens); free, not counted against limits. */
export async function countInputTokens(
  client: ClaudeClient,
  request: Pick<ContextRequest, 'model' | 'system' | 'messages'>,
  signal: AbortSignal,
): Promise<number> {
  const counted = await client.messages.countTokens(
    {
      model: request.model,
      messages: wireMessages(request.messages),
      ...(request.system ? { system: request.system } : {}),
    },
    { signal },
  );
  return counted.input_tokens;
}

/** What the API would read if `text` were sent now (with `attachments`) in a conversation holding `messages`. */
export function contextWithNewMessage(
  messages: ChatMessage[],
  text: string,
  attachments: ChatMessage['attachments'] = [],
): ContextTurn[] {
  const after = messages.reduce((t, m) => Math.max(t, m.createdAt), 0) + 1;
  const question: ChatMessage = {
    id: '\u0000question',
    conversationId: '',
    role: 'user',
    text,
    createdAt: after,
    status: 'done',
    ...(attachments.length > 0 ? { attachments } : {}),
  };
  const answer: ChatMessage = {
    ...question,
    id: '\u0000answer',
    role: 'assistant',
    text: '',
    createdAt: after + 1,
    status: 'pending',
    attachments: undefined,
  };
  return buildContext([...messages, question, answer], answer.id);
}

/** What the API would read if the answer `answerId` were asked again; null when it has no question to measure. */
export function contextForRetry(messages: ChatMessage[], answerId: string): ContextTurn[] | null {
  try {
    return buildContext(messages, answerId);
  } catch (err) {
    // No question to answer: the runner fails the answer with its own message when it gets there.
    console.info('[pace] nothing to measure for this retry', err instanceof Error ? err.message : err);
    return null;
  }
}
