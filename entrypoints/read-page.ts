/**
 * Injected into the active tab by "Ask about this page" (lib/reach/reach-menus.ts), with the
 * activeTab permission the user's click granted: it defines `paceReadPage`, which returns the
 * page's main text as Mozilla's Readability finds it (no navigation, scripts or ads), or null.
 * Nothing the page hides from its reader is read (lib/reach/drop-hidden.ts).
 */
import { Readability } from '@mozilla/readability';
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';
import { dropHidden } from '@/lib/reach/drop-hidden';

export default defineUnlistedScript(() => {
  Object.assign(globalThis, {
    paceReadPage(): { title: string; text: string } | null {
      // Readability changes the document it reads: it gets a copy, without what the page hides.
      const copy = document.cloneNode(true) as Document;
      if (document.body && copy.body)
        dropHidden<Element, Element>(document.body, copy.body, (el) => getComputedStyle(el));
      const article = new Readability(copy).parse();
      const text = article?.textContent?.trim() ?? '';
      return text ? { title: article?.title?.trim() || document.title, text } : null;
    },
  });
});
