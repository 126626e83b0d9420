import { describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { promptCacheModesItem, settingsItem, storedPromptCacheModes } from '@/lib/settings/settings-items';

describe('settings in extension storage', () => {
  it("migrates version 3 settings to version 4 with Anthropic's prompt cache on for 5 minutes", async () => {
    const v3 = {
      model: 'claude-haiku-4-5',
      maxTokens: 512,
      systemPrompt: 'Be brief.',
      baseURL: 'https://api.anthropic.com',
      combineWaiting: true,
      extraHeaders: 'x-team: a',
    };
    await fakeBrowser.storage.local.set({ settings: v3, settings$: { v: 3 } });
    // Migrations run when the item is defined, as at the extension's start.
    vi.resetModules();
    const fresh = await import('@/lib/settings/settings-items');
    expect(await fresh.settingsItem.getValue()).toEqual({ ...v3, promptCache: '5m', webSearchMaxUses: 3 });
    expect(await settingsItem.getValue()).toEqual({ ...v3, promptCache: '5m', webSearchMaxUses: 3 });
  });

  it('migrates version 4 settings to version 5 with 3 web searches per message', async () => {
    const v4 = {
      model: 'claude-haiku-4-5',
      maxTokens: 512,
      systemPrompt: '',
      baseURL: 'https://api.anthropic.com',
      combineWaiting: false,
      extraHeaders: '',
      promptCache: '1h',
    };
    await fakeBrowser.storage.local.set({ settings: v4, settings$: { v: 4 } });
    vi.resetModules();
    const fresh = await import('@/lib/settings/settings-items');
    expect(await fresh.settingsItem.getValue()).toEqual({ ...v4, webSearchMaxUses: 3 });
  });

  it('remembers per base URL how the prompt cache is asked for', async () => {
    expect(await storedPromptCacheModes.get('https://gw.example')).toBeUndefined();
    await storedPromptCacheModes.set('https://gw.example', 'explicit');
    await storedPromptCacheModes.set('__proto__', 'off');
    expect(await storedPromptCacheModes.get('https://gw.example')).toBe('explicit');
    expect(await storedPromptCacheModes.get('https://api.anthropic.com')).toBeUndefined();
    expect(await storedPromptCacheModes.get('toString')).toBeUndefined();
    expect(Object.keys(await promptCacheModesItem.getValue()).sort()).toEqual(['__proto__', 'https://gw.example']);
  });
});
