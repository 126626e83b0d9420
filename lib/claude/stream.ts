/**
 * Assembles the Messages API's server-sent events into an answer, one event at a time.
 * Pure: `applyStreamEvent(state, event)` returns the next state, so a stream can be checkpointed,
 * replayed and tested without a network. Each event costs the same whatever came before (the text
 * only grows at its end), and the stream is not trusted: a block index out of range or out of
 * order throws a BadStreamError, usage figures that are not token counts are ignored, and text
 * past MAX_ANSWER_CHARS is dropped with `truncated` set, for the runner to end the answer.
 */
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { PaceError } from '../storage/rows';

/**
 * The most text an answer may hold: 4 Mi characters. The longest real answer (128k output
 * tokens) is about 500 KB of text; this stops a broken or hostile endpoint from filling memory
 * and storage, far above anything Claude writes.
 */
export const MAX_ANSWER_CHARS = 4 * 1024 * 1024;

/** The highest content block index believed; a real answer has a few blocks, a long one with search results some hundreds. */
const MAX_BLOCK_INDEX = 9_999;

/** The largest token count believed for one figure: far above any context window. */
export const MAX_TOKEN_COUNT = 100_000_000;

/** The stop reason Pace records for an answer it stopped reading at MAX_ANSWER_CHARS. */
export const SIZE_CAP_STOP = 'pace_size_cap';

export interface AssembledAnswer {
  id: string | null;
  model: string | null;
  /** Text of every text block, in order, joined with a blank line. */
  text: string;
  stopReason: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  done: boolean;
  /** The text reached MAX_ANSWER_CHARS; what came after it was dropped. */
  truncated: boolean;
  /** The highest block index started so far (-1 before any): blocks come in order. */
  lastIndex: number;
  /** The text block deltas extend, or null when the open block is not text. */
  textIndex: number | null;
  /** Text blocks started so far (the second and later are set off by a blank line). */
  textBlocks: number;
}

/** The stream broke the API's format: the attempt fails with this, and nothing more is read. */
export class BadStreamError extends Error {
  readonly error: PaceError;
  constructor(problem: string) {
    const message = `The API's answer broke the streaming format (${problem}), so Pace stopped reading it. Check the base URL on the options page.`;
    super(message);
    this.name = 'BadStreamError';
    this.error = { code: 'bad_answer', message };
  }
}

export const emptyAnswer = (): AssembledAnswer => ({
  id: null,
  model: null,
  text: '',
  stopReason: null,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  done: false,
  truncated: false,
  lastIndex: -1,
  textIndex: null,
  textBlocks: 0,
});

export function applyStreamEvent(state: AssembledAnswer, event: RawMessageStreamEvent): AssembledAnswer {
  switch (event.type) {
    case 'message_start': {
      const message = (event.message ?? {}) as Partial<typeof event.message>;
      const usage = (message.usage ?? {}) as Partial<typeof event.message.usage>;
      return {
        ...state,
        id: typeof message.id === 'string' ? message.id : state.id,
        model: typeof message.model === 'string' ? message.model : state.model,
        inputTokens: tokens(usage.input_tokens, 0),
        outputTokens: tokens(usage.output_tokens, 0),
        cacheReadTokens: tokens(usage.cache_read_input_tokens, 0),
        cacheCreationTokens: tokens(usage.cache_creation_input_tokens, 0),
      };
    }
    case 'content_block_start': {
      const index = blockIndex(event.index);
      if (index <= state.lastIndex) throw new BadStreamError(`block ${index} started after block ${state.lastIndex}`);
      const block = event.content_block as { type?: unknown; text?: unknown } | undefined;
      if (block?.type !== 'text') return { ...state, lastIndex: index, textIndex: null };
      return startText(state, index, typeof block.text === 'string' ? block.text : '');
    }
    case 'content_block_delta': {
      const index = blockIndex(event.index);
      const delta = event.delta as { type?: unknown; text?: unknown } | undefined;
      if (delta?.type !== 'text_delta') return state;
      if (typeof delta.text !== 'string') throw new BadStreamError(`a text delta of block ${index} holds no text`);
      if (index === state.textIndex) return append(state, delta.text);
      // A delta with no content_block_start before it opens its block.
      if (index > state.lastIndex) return startText(state, index, delta.text);
      throw new BadStreamError(`text arrived for block ${index} while block ${state.lastIndex} was open`);
    }
    case 'message_delta': {
      const usage = (event.usage ?? {}) as Partial<typeof event.usage>;
      const stop = (event.delta as { stop_reason?: unknown } | undefined)?.stop_reason;
      return {
        ...state,
        stopReason: typeof stop === 'string' ? stop : state.stopReason,
        // Every count here is a running total, not an increment; a missing one keeps message_start's.
        outputTokens: tokens(usage.output_tokens, state.outputTokens),
        inputTokens: tokens(usage.input_tokens, state.inputTokens),
        cacheReadTokens: tokens(usage.cache_read_input_tokens, state.cacheReadTokens),
        cacheCreationTokens: tokens(usage.cache_creation_input_tokens, state.cacheCreationTokens),
      };
    }
    case 'message_stop':
      return { ...state, done: true };
    default:
      return state;
  }
}

function startText(state: AssembledAnswer, index: number, text: string): AssembledAnswer {
  const next = { ...state, lastIndex: index, textIndex: index, textBlocks: state.textBlocks + 1 };
  return append(next, state.textBlocks > 0 ? `\n\n${text}` : text);
}

/** An answer's whole text (a batch result's) cut at MAX_ANSWER_CHARS as a streamed one is; `truncated` when it was. */
export function capAnswerText(text: string): { text: string; truncated: boolean } {
  const capped = append(emptyAnswer(), text);
  return { text: capped.text, truncated: capped.truncated };
}

/** Adds text at the end, up to MAX_ANSWER_CHARS (never cutting a character in two). */
function append(state: AssembledAnswer, piece: string): AssembledAnswer {
  if (state.truncated || piece === '') return state;
  if (state.text.length + piece.length <= MAX_ANSWER_CHARS) return { ...state, text: state.text + piece };
  let room = MAX_ANSWER_CHARS - state.text.length;
  const last = piece.charCodeAt(room - 1);
  if (last >= 0xd800 && last <= 0xdbff) room -= 1;
  return { ...state, text: state.text + piece.slice(0, room), truncated: true };
}

function blockIndex(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_BLOCK_INDEX) return value;
  throw new BadStreamError(
    `content block index ${String(value).slice(0, 40)} is not a whole number from 0 to ${MAX_BLOCK_INDEX}`,
  );
}

/** A token count as the API gives it; anything else (text, negative, fractional, absurd) keeps `fallback`. */
function tokens(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN_COUNT
    ? value
    : fallback;
}
