/**
 * Assembles the Messages API's server-sent events into an answer, one event at a time.
 * Pure: `applyStreamEvent(state, event)` returns the next state, so a stream can be checkpointed,
 * replayed and tested without a network.
 */
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';

export interface AssembledAnswer {
  id: string | null;
  model: string | null;
  /** Text of every text block, in index order, joined. */
  text: string;
  blocks: string[];
  stopReason: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  done: boolean;
}

export const emptyAnswer = (): AssembledAnswer => ({
  id: null,
  model: null,
  text: '',
  blocks: [],
  stopReason: null,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  done: false,
});

export function applyStreamEvent(state: AssembledAnswer, event: RawMessageStreamEvent): AssembledAnswer {
  switch (event.type) {
    case 'message_start':
      return {
        ...state,
        id: event.message.id,
        model: event.message.model,
        inputTokens: event.message.usage.input_tokens ?? 0,
        outputTokens: event.message.usage.output_tokens ?? 0,
        cacheReadTokens: event.message.usage.cache_read_input_tokens ?? 0,
        cacheCreationTokens: event.message.usage.cache_creation_input_tokens ?? 0,
      };
    case 'content_block_start': {
      if (event.content_block.type !== 'text') return state;
      const blocks = state.blocks.slice();
      blocks[event.index] = event.content_block.text;
      return { ...state, blocks, text: joinBlocks(blocks) };
    }
    case 'content_block_delta': {
      if (event.delta.type !== 'text_delta') return state;
      const blocks = state.blocks.slice();
      const last = event.index === blocks.length - 1 && blocks[event.index] !== undefined;
      blocks[event.index] = (blocks[event.index] ?? '') + event.delta.text;
      // Text only grows at the end of the last block: append, rather than join every block again
      // for each of an answer's thousands of deltas.
      return { ...state, blocks, text: last ? state.text + event.delta.text : joinBlocks(blocks) };
    }
    case 'message_delta':
      return {
        ...state,
        stopReason: event.delta.stop_reason ?? state.stopReason,
        // Every count here is a running total, not an increment; a missing one keeps message_start's.
        outputTokens: event.usage.output_tokens ?? state.outputTokens,
        inputTokens: event.usage.input_tokens ?? state.inputTokens,
        cacheReadTokens: event.usage.cache_read_input_tokens ?? state.cacheReadTokens,
        cacheCreationTokens: event.usage.cache_creation_input_tokens ?? state.cacheCreationTokens,
      };
    case 'message_stop':
      return { ...state, done: true };
    default:
      return state;
  }
}

function joinBlocks(blocks: string[]): string {
  return blocks.filter((b) => b !== undefined).join('\n\n');
}
