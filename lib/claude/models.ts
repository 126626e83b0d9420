/** Models offered when `GET /v1/models` cannot be reached. Data, dated: refresh with each release. */
export interface ModelInfo {
  id: string;
  displayName: string;
}

export const FALLBACK_MODELS_DATE = '2026-11-27';

export const FALLBACK_MODELS: readonly ModelInfo[] = [
  { id: 'claude-sonnet-4-6', displayName: 'Claude Sonnet 4.6' },
  { id: 'claude-opus-4-7', displayName: 'Claude Opus 4.7' },
  { id: 'claude-haiku-4-5', displayName: 'Claude Haiku 4.5' },
];

export const DEFAULT_MODEL = 'claude-sonnet-4-6';

/**
 * How many tokens each model reads at once: the prompt plus the answer's `max_tokens`. Every
 * current Claude model reads 200,000 (larger windows are a beta Pace does not turn on); a model
 * this table does not know, such as a gateway's own id, is assumed to read the same.
 */
export const DEFAULT_CONTEXT_WINDOW = 200_000;

export const CONTEXT_WINDOWS: Readonly<Record<string, number>> = {
  'claude-sonnet-4-6': 200_000,
  'claude-opus-4-7': 200_000,
  'claude-haiku-4-5': 200_000,
};

export function contextWindow(model: string): number {
  return Object.hasOwn(CONTEXT_WINDOWS, model) ? CONTEXT_WINDOWS[model]! : DEFAULT_CONTEXT_WINDOW;
}
