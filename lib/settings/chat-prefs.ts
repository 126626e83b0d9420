/**
 * The user's choices for their chats: how long conversations are kept, and the colour theme of
 * Pace's pages. Kept in extension storage (lib/settings/settings-items.ts), written by the background.
 */
export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

/** How many days an untouched conversation is kept; null keeps it forever. */
export const KEEP_DAYS = [7, 30, 90, null] as const;
export type KeepDays = (typeof KEEP_DAYS)[number];

export interface ChatPrefs {
  keepDays: KeepDays;
  theme: Theme;
}

export const DEFAULT_CHAT_PREFS: ChatPrefs = { keepDays: null, theme: 'system' };

export interface ChatPrefsInput {
  /** 7, 30 or 90 (days), or 'forever'. */
  keepDays: string | number;
  theme: string;
}

export type ChatPrefsErrors = Partial<Record<'keepDays' | 'theme', string>>;

export function checkChatPrefs(
  input: ChatPrefsInput,
): { ok: true; value: ChatPrefs } | { ok: false; errors: ChatPrefsErrors } {
  const errors: ChatPrefsErrors = {};
  const raw = input.keepDays;
  const days = raw === 'forever' ? null : raw === '' ? NaN : Number(raw);
  const keepDays = KEEP_DAYS.find((d) => d === days);
  if (keepDays === undefined) {
    errors.keepDays = `Keep chats for 7, 30 or 90 days, or forever (got ${String(raw).slice(0, 20)}).`;
  }
  const theme = THEMES.find((t) => t === input.theme);
  if (theme === undefined)
    errors.theme = `The theme must be System, Light or Dark (got ${String(input.theme).slice(0, 20)}).`;
  if (keepDays === undefined || theme === undefined) return { ok: false, errors };
  return { ok: true, value: { keepDays, theme } };
}
