/**
 * The token estimate made before any count: pure and free of storage, so a page's first paint can
 * use it (lib/reach/page-text.ts) without loading the database.
 */
export const CHARS_PER_TOKEN = 4;

/** The usual rule of thumb for English text; code and other scripts can differ. */
export function estimateTokens(request: {
  system: string;
  messages: readonly { role: 'user' | 'assistant'; content: string }[];
}): number {
  let chars = request.system.length;
  for (const m of request.messages) chars += m.content.length;
  return Math.ceil(chars / CHARS_PER_TOKEN);
}
