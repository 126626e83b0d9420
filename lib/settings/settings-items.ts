/**
 * Settings kept in extension storage (lib/storage/item.ts), readable by every Pace page. The API key
 * is not here (see lib/key/key-store.ts). The message box's draft is kept by lib/storage/draft.ts.
 */
import { defineItem } from '../storage/item';
import type { ModelInfo } from '../claude/models';
import { checkOrigins } from './key-origins';
import type { PromptCacheMode, PromptCacheModes } from '../claude/prompt-cache';
import { DEFAULT_SETTINGS, type Settings } from './validate';
import { DEFAULT_USAGE_PREFS, type UsagePrefs } from './usage-prefs';
import { DEFAULT_CHAT_PREFS, type ChatPrefs } from './chat-prefs';
import { DEFAULT_BATCH_PREFS, type BatchPrefs } from './batch-prefs';

export const settingsItem = defineItem<Settings>('local:settings', {
  fallback: DEFAULT_SETTINGS,
  version: 5,
  migrations: {
    // Version 2 adds the queue's option to combine waiting messages, off by default.
    2: (old: Omit<Settings, 'combineWaiting' | 'extraHeaders'>) => ({ ...old, combineWaiting: false }),
    // Version 3 adds extra request headers for a gateway, none by default.
    3: (old: Omit<Settings, 'extraHeaders' | 'promptCache'>) => ({ ...old, extraHeaders: '' }),
    // Version 4 adds Anthropic's prompt cache, on with the 5-minute lifetime by default.
    4: (old: Omit<Settings, 'promptCache' | 'webSearchMaxUses'>) => ({ ...old, promptCache: '5m' as const }),
    // Version 5 adds the web searches a message may run, 3 by default.
    5: (old: Omit<Settings, 'webSearchMaxUses'>): Settings => ({ ...old, webSearchMaxUses: 3 }),
  },
});

/**
 * Per base URL, how the prompt cache is asked for when a gateway refused automatic caching
 * (lib/claude/prompt-cache.ts); a base URL not listed takes automatic caching. Written by the
 * background, shown in the options.
 */
export const promptCacheModesItem = defineItem<Record<string, PromptCacheMode>>('local:promptCacheModes', {
  fallback: {},
  version: 1,
});

export const storedPromptCacheModes: PromptCacheModes = {
  get: async (baseURL) => {
    const modes = await promptCacheModesItem.getValue();
    return Object.hasOwn(modes, baseURL) ? modes[baseURL] : undefined;
  },
  set: async (baseURL, mode) => {
    // fromEntries: a base URL is data, never a prototype key.
    await promptCacheModesItem.setValue(
      Object.fromEntries([...Object.entries(await promptCacheModesItem.getValue()), [baseURL, mode]]),
    );
  },
};

/** The last model list fetched with the user's key, so the picker works without a new call. */
export const modelsItem = defineItem<{ models: ModelInfo[]; fetchedAt: number } | null>('local:models', {
  fallback: null,
  version: 1,
});

/** Response cache lifetime, ledger retention and usage alerts (see ./usage-prefs.ts). */
export const usagePrefsItem = defineItem<UsagePrefs>('local:usagePrefs', { fallback: DEFAULT_USAGE_PREFS, version: 1 });

/** How long chats are kept and the pages' theme (see ./chat-prefs.ts). */
export const chatPrefsItem = defineItem<ChatPrefs>('local:chatPrefs', { fallback: DEFAULT_CHAT_PREFS, version: 1 });
/** "Later, half price": the composer's default, the gathering window and the polls (see ./batch-prefs.ts). */
export const batchPrefsItem = defineItem<BatchPrefs>('local:batchPrefs', { fallback: DEFAULT_BATCH_PREFS, version: 1 });

/** Origins other than Anthropic's that the user confirmed may receive the API key (see ./key-origins.ts). */
export const keyOriginsItem = defineItem<string[]>('local:keyOrigins', { fallback: [], version: 1 });

/** Records the user's "yes" to sending the key to `origin`, asked on the options page; written by the background. */
export async function confirmKeyOrigin(origin: string): Promise<void> {
  const confirmed = checkOrigins(await keyOriginsItem.getValue());
  if (!confirmed.includes(origin)) await keyOriginsItem.setValue([...confirmed, origin]);
}

/** The background's writes of what the options page saves (lib/background/handlers/settings.ts checks them first). */
export const storedPrefs = {
  saveSettings: (value: Settings) => settingsItem.setValue(value),
  saveUsagePrefs: (value: UsagePrefs) => usagePrefsItem.setValue(value),
  saveChatPrefs: (value: ChatPrefs) => chatPrefsItem.setValue(value),
  saveBatchPrefs: (value: BatchPrefs) => batchPrefsItem.setValue(value),
  confirmOrigin: confirmKeyOrigin,
};
export type StoredPrefs = typeof storedPrefs;
