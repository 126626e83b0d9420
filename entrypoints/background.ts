import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { browserEdges, createBackgroundApp } from '@/lib/background/app';
import { getDb } from '@/lib/storage/db';

export default defineBackground(() => {
  const app = createBackgroundApp(browserEdges(browser, getDb()));
  app.listen(globalThis);
  app.start().catch((err: unknown) => console.error('[pace] could not start the queue', err));
});
