/**
 * Where the API key is kept: in extension storage on this device, or only until the browser closes.
 * Its own module because both ends of the port check it: the background's payloads (lib/protocol.ts)
 * and the pages' replies (lib/messaging/replies.ts), neither of which may load the other.
 */
export const KEEP_KEYS = ['device', 'session'] as const;
export type KeepKey = (typeof KEEP_KEYS)[number];
