/** Models offered when `GET /v1/models` cannot be reached. Data, dated: refresh with each release. */
export interface ModelInfo {
  id: string;
  displayName: string;
}

/** From Anthropic's model pages and the SDK's own `Model` list (../shared/claude-api.md, Oct-Nov 2026), as of 2026-11-30. */

export const FALLBACK_MODELS: readonly ModelInfo[] = [
  { id: 'claude-sonnet-5-5', displayName: 'Claude Sonnet 5.5' },
  { id: 'claude-opus-5-5', displayName: 'Claude Opus 5.5' },
  { id: 'claude-haiku-5-5', displayName: 'Claude Haiku 5.5' },
  { id: 'claude-fable-5-1', displayName: 'Claude Fable 5.1' },
  { id: 'claude-opus-5', displayName: 'Claude Opus 5' },
  { id: 'claude-sonnet-5', displayName: 'Claude Sonnet 5 (legacy)' },
  { id: 'claude-haiku-4-5', displayName: 'Claude Haiku 4.5' },
];

/** The current Sonnet. */
export const DEFAULT_MODEL = 'claude-sonnet-5-5';

/**
 * How many tokens each model reads at once: the prompt plus the answer's `max_tokens`. The 5.x
 * models read 1,000,000; the 4.x ones 200,000 (their larger windows are a beta Pace does not turn
 * on). A model this table does not know, such as a gateway's own id, is assumed to read 200,000:
 * refusing a prompt that would have fitted is recoverable, sending one that cannot is a wasted request.
 */
export const DEFAULT_CONTEXT_WINDOW = 200_000;

export const CONTEXT_WINDOWS: Readonly<Record<string, number>> = {
  'claude-fable-5-1': 1_000_000,
  'claude-opus-5-5': 1_000_000,
  'claude-sonnet-5-5': 1_000_000,
  'claude-haiku-5-5': 1_000_000,
  'claude-opus-5': 1_000_000,
  'claude-sonnet-5': 1_000_000,
  // The rest of the 5.x family the SDK lists: the family reads 1,000,000 (shared/claude-api.md).
  'claude-fable-5-2': 1_000_000,
  'claude-fable-5': 1_000_000,
  'claude-mythos-5-2': 1_000_000,
  'claude-mythos-5-1': 1_000_000,
  'claude-mythos-5': 1_000_000,
  'claude-opus-4-7': 200_000,
  'claude-sonnet-4-6': 200_000,
  'claude-haiku-4-5': 200_000,
};

/** A dated snapshot of a listed model (`claude-haiku-4-5-20251001`) reads what the model reads. */
const SNAPSHOT = /-(\d{8}|latest)$/;

export function contextWindow(model: string): number {
  const id = Object.hasOwn(CONTEXT_WINDOWS, model) ? model : model.replace(SNAPSHOT, '');
  return Object.hasOwn(CONTEXT_WINDOWS, id) ? CONTEXT_WINDOWS[id]! : DEFAULT_CONTEXT_WINDOW;
}

/** Model ids as written without a dated snapshot's suffix. */
const bare = (model: string) => model.replace(SNAPSHOT, '');

/** Models before extended thinking (Claude 3, 3.5): thinking is refused for them. */
const NO_THINKING = /^claude-(3-(opus|sonnet|haiku)|3-5-)/;
/** Models that take thinking as `budget_tokens` and the older web search tool: Claude 3.7 and 4 up to Sonnet 4.6 and Haiku 4.5. */
const BUDGET_THINKING =
  /^claude-(3-7-|(opus|sonnet|haiku)-4(-[0-6])?$|(opus|sonnet|haiku)-4-[0-6]-|(opus|sonnet)-4-\d{8}$)/;

/** Whether Pace may ask this model to think (an unknown id, such as a gateway's own, is assumed to). */
export function supportsThinking(model: string): boolean {
  return !NO_THINKING.test(bare(model));
}

/**
 * How the model takes thinking: 'adaptive' (`thinking: {type: 'adaptive'}` with `output_config.effort`) for
 * the 5.x family, Opus 4.7 and unknown ids; 'budget' (`budget_tokens`) for Sonnet 4.6, Haiku 4.5 and older.
 */
export function thinkingStyle(model: string): 'adaptive' | 'budget' {
  return BUDGET_THINKING.test(bare(model)) || NO_THINKING.test(bare(model)) ? 'budget' : 'adaptive';
}

/** The web search tool the model takes: the newest, or the 2025 one for the models that predate it. */
export function webSearchTool(model: string): {
  type: 'web_search_20260209' | 'web_search_20250305';
  name: 'web_search';
} {
  return {
    type: thinkingStyle(model) === 'budget' ? 'web_search_20250305' : 'web_search_20260209',
    name: 'web_search',
  };
}
