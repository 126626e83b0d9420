/** A plain object (not null, not an array): what a stored row or a message payload must be before its fields are read. */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
