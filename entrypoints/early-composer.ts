/**
 * Run by popup.html (async, as soon as it arrives), right after its plain message box (components/chat/early-composer.ts):
 * reads the quota line's figures (components/quota/early-quota.ts), focuses the box, puts the draft back,
 * catches an early Enter, then starts the app's module.
 */
import { browser } from 'wxt/browser';
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';
import { readDraft, startApp, startEarlyComposer } from '@/components/chat/early-composer';
import { startEarlyQuota } from '@/components/quota/early-quota';
import { readEarlyQuota } from '@/lib/limits/early-quota-read';

export default defineUnlistedScript(() => {
  const script = document.currentScript;
  // Asked first: IndexedDB answers while the box is focused and the app's module is fetched.
  const now = Date.now();
  startEarlyQuota(document, readEarlyQuota(indexedDB, now), now);
  startEarlyComposer(document, readDraft(browser.storage.local));
  startApp(document, script);
});
