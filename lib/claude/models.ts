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
