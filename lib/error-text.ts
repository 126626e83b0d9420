/** What a caught value says: an Error's message, or the value as text. */
export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
