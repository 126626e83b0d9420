import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { browserEdges, createBackgroundApp } from '@/lib/background/app';
import { getDb } from '@/lib/storage/db';

export default defineBackground(() => {
  const app = createBackgroundApp(browserEdges(browser, getDb()));
  app.listen(globalThis);
  app.reach.listen();
  // The real-browser tests fire the menu and the shortcuts as the browser does, through these.
  Object.assign(globalThis, { paceReach: { onMenuClicked: app.reach.onMenuClicked, onCommand: app.reach.onCommand } });
  app.start(markQueueRunning).catch((err: unknown) => console.error('[pace] could not start the queue', err));
});

/** When this worker's queue first ran, for the bench's cold-start figure (`npm run bench -- worker`). */
function markQueueRunning(): void {
  Object.assign(globalThis, { paceQueueRunningAt: performance.timeOrigin + performance.now() });
}
