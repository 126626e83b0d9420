import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { createBackgroundApp } from '@/lib/background/app';

export default defineBackground(() => {
  const app = createBackgroundApp();
  browser.runtime.onConnect.addListener(app.onConnect);
  browser.runtime.onInstalled.addListener(app.onInstalled);
  browser.alarms.onAlarm.addListener(app.onAlarm);
  globalThis.addEventListener('online', app.onOnline);
  app.start().then(markQueueRunning, (err: unknown) => console.error('[pace] could not start the queue', err));
});

/** When this worker's queue first ran, for the bench's cold-start figure (`npm run bench -- worker`). */
function markQueueRunning(): void {
  Object.assign(globalThis, { paceQueueRunningAt: performance.timeOrigin + performance.now() });
}
