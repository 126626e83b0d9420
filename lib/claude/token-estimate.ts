/**
 * The token estimate made before any count: pure and free of storage, so a page's first paint can
 * use it (lib/reach/page-text.ts) without loading the database.
 */
export const CHARS_PER_TOKEN = 4;

/**
 * The usual rule of thumb for English text (code and other scripts can differ), plus each
 * attachment's own figure (`AttachmentRef.tokens`: an image's pixels / 750 at the size Anthropic
 * scales it to, a PDF's count or its per-page estimate). An attachment's base64 is never counted as text.
 */
export function estimateTokens(request: {
  system: string;
  messages: readonly { role: 'user' | 'assistant'; content: string; attachments?: readonly { tokens: number }[] }[];
}): number {
  let chars = request.system.length;
  let attached = 0;
  for (const m of request.messages) {
    chars += m.content.length;
    for (const a of m.attachments ?? []) attached += a.tokens;
  }
  return Math.ceil(chars / CHARS_PER_TOKEN) + attached;
}
