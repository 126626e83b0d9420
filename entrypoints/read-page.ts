/**
 * Injected into the active tab by "Ask about this page" (lib/background/reach.ts), with the
 * activeTab permission the user's click granted: it defines `paceReadPage`, which returns the
 * page's main text as Mozilla's Readability finds it (no navigation, scripts or ads), or null.
 */
import { Readability } from '@mozilla/readability';
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';

export default defineUnlistedScript(() => {
  Object.assign(globalThis, {
    paceReadPage(): { title: string; text: string } | null {
      // Readability changes the document it reads: it gets a copy.
      const article = new Readability(document.cloneNode(true) as Document).parse();
      const text = article?.textContent?.trim() ?? '';
      return text ? { title: article?.title?.trim() || document.title, text } : null;
    },
  });
});
