import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { createBackgroundApp } from '@/lib/background/app';

export default defineBackground(() => {
  const app = createBackgroundApp();
  browser.runtime.onConnect.addListener(app.onConnect);
  browser.runtime.onInstalled.addListener(app.onInstalled);
  app.start().catch((err: unknown) => console.error('[pace] could not recover earlier answers', err));
});
