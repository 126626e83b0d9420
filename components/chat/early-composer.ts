/**
 * The popup's message box before React: popup.html holds a plain copy of the Composer's form, and
 * entrypoints/early-composer.ts (a small async classic script right after it) focuses it as soon as
 * it arrives, so typing starts before the app's script is fetched and run. When the
 * Composer first draws, it takes over what was typed, the caret and the "Later" box from here
 * (`adoptEarlyComposer`); an Enter pressed before then is remembered and sent once the Composer
 * is ready. No React here: this runs before React is loaded.
 */

import { DRAFT_KEY } from '@/lib/storage/draft-key';

const EARLY_COMPOSER_ID = 'early-composer';

/** What the early box holds when the Composer takes over. */
export interface EarlyInput {
  text: string;
  selectionStart: number;
  selectionEnd: number;
  selectionDirection: 'forward' | 'backward' | 'none';
  /** "Later, half price" was ticked. */
  later: boolean;
  /**
   * Enter (or Send) was pressed and nothing was typed after it: the Composer sends the text once it
   * knows the send options. Text typed after the Enter stays in the box, unsent, all of it.
   */
  send: boolean;
}

interface DraftStorage {
  get(key: string): Promise<Record<string, unknown>>;
}

/** The saved draft, '' when none: read straight from storage, without WXT's storage module, to stay small. */
export async function readDraft(storage: DraftStorage): Promise<string> {
  const value = (await storage.get(DRAFT_KEY))[DRAFT_KEY];
  return typeof value === 'string' ? value : '';
}

/**
 * Makes the early box usable: focused, the saved draft put in if nothing was typed yet, and Enter
 * or Send caught (the text stays, and is sent once the Composer is up) rather than a new line or
 * a form submission that would reload the page.
 */
export function startEarlyComposer(doc: Document, draft: Promise<string>): void {
  const form = doc.getElementById(EARLY_COMPOSER_ID);
  const box = form?.querySelector('textarea');
  if (!(form instanceof HTMLFormElement) || !box) return;
  box.focus();
  draft.then(
    (text) => {
      if (text && box.value === '' && box.isConnected) box.value = text;
    },
    (err: unknown) => console.warn('[pace] could not read the draft', err),
  );
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    // Even an empty box: the Composer sends it as React's would, and the refusal says what is missing.
    form.dataset.send = box.value;
  });
}

/**
 * Starts the app's module once the box has focus. In a build, popup.html names the module and the
 * chunks it imports on this script's `data-main` and `data-preload` (wxt.config.ts moves them there)
 * instead of loading them itself: requesting and compiling them while the page is parsed delayed the
 * box by tens of milliseconds. Without `data-main` (the dev server) the page loads its module itself.
 */
export function startApp(doc: Document, script: HTMLOrSVGScriptElement | null): void {
  const main = script?.dataset.main;
  if (!main) return;
  // After the box is on screen: fetching and running the app in this frame would hold its first paint back.
  requestAnimationFrame(() => setTimeout(() => loadApp(doc, main, script?.dataset.preload), 0));
}

function loadApp(doc: Document, main: string, preload: string | undefined): void {
  for (const href of preload?.split(' ').filter(Boolean) ?? []) {
    const link = doc.createElement('link');
    link.rel = 'modulepreload';
    link.href = href;
    doc.head.append(link);
  }
  const module = doc.createElement('script');
  module.type = 'module';
  module.src = main;
  doc.body.append(module);
}

/** What was typed into the early box, for the Composer's first render; null where there is none (the side panel). */
export function adoptEarlyComposer(doc: Document | undefined = globalThis.document): EarlyInput | null {
  const form = doc?.getElementById(EARLY_COMPOSER_ID);
  const box = form?.querySelector('textarea');
  if (!form || !box) return null;
  return {
    text: box.value,
    selectionStart: box.selectionStart,
    selectionEnd: box.selectionEnd,
    selectionDirection: box.selectionDirection ?? 'none',
    later: form.querySelector<HTMLInputElement>('input[type=checkbox]')?.checked ?? false,
    send: form.dataset.send !== undefined && form.dataset.send === box.value,
  };
}
