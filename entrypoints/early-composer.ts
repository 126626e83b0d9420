/**
 * Run by popup.html (async, as soon as it arrives), right after its plain message box (components/chat/early-composer.ts):
 * focuses the box, puts the draft back, catches an early Enter, then starts the app's module.
 */
import { browser } from 'wxt/browser';
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';
import { readDraft, startApp, startEarlyComposer } from '@/components/chat/early-composer';

export default defineUnlistedScript(() => {
  const script = document.currentScript;
  startEarlyComposer(document, readDraft(browser.storage.local));
  startApp(document, script);
});
