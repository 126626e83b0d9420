import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { createBackgroundApp } from '@/lib/background/app';

export default defineBackground(() => {
  const app = createBackgroundApp();
  browser.runtime.onConnect.addListener(app.onConnect);
  browser.runtime.onInstalled.addListener(app.onInstalled);
  browser.alarms.onAlarm.addListener(app.onAlarm);
  globalThis.addEventListener('online', app.onOnline);
  app.start().catch((err: unknown) => console.error('[pace] could not start the queue', err));
});
