/**
 * What a page hides stays out of "Ask about this page": read-page.ts hands Readability a copy of
 * the document, and `dropHidden` first removes from that copy every element the reader cannot see
 * in the page itself, so a page cannot slip instructions to Claude in text the user never saw.
 * Hidden means: the `hidden` attribute, `aria-hidden="true"`, or a computed `display: none` or
 * `visibility: hidden | collapse` (a copy is not rendered, so the style is read on the live page).
 *
 *   const copy = document.cloneNode(true) as Document;
 *   dropHidden(document.body, copy.body, (el) => getComputedStyle(el));
 */

/** The little of a DOM element this needs (a real Element, or a stand-in in tests). */
export interface HideableElement {
  readonly tagName: string;
  hasAttribute(name: string): boolean;
  getAttribute(name: string): string | null;
  contains(other: this): boolean;
  remove(): void;
}

export interface HideableRoot<E extends HideableElement> {
  querySelectorAll(selectors: '*'): Iterable<E>;
}

export type StyleOf<E> = (el: E) => Pick<CSSStyleDeclaration, 'display' | 'visibility'> | null;

function isHidden<E extends HideableElement>(el: E, styleOf: StyleOf<E>): boolean {
  if (el.hasAttribute('hidden') || el.getAttribute('aria-hidden')?.trim().toLowerCase() === 'true') return true;
  const style = styleOf(el);
  return (
    style !== null && (style.display === 'none' || style.visibility === 'hidden' || style.visibility === 'collapse')
  );
}

/**
 * Removes from `copy` (a deep clone of `live`) the elements hidden in `live`, matched by their place
 * in document order; returns how many it removed. A copy that does not match the page element for
 * element (it should always) loses every element whose attributes say hidden, and nothing is guessed.
 */
export function dropHidden<L extends HideableElement, C extends HideableElement>(
  live: HideableRoot<L>,
  copy: HideableRoot<C>,
  styleOf: StyleOf<L>,
): number {
  const shown = [...live.querySelectorAll('*')];
  const copied = [...copy.querySelectorAll('*')];
  if (shown.length !== copied.length || shown.some((el, i) => el.tagName !== copied[i]!.tagName)) {
    const hidden = copied.filter((el) => isHidden(el, () => null));
    for (const el of hidden) el.remove();
    return hidden.length;
  }
  let removed = 0;
  for (let i = 0; i < shown.length; i++) {
    const el = shown[i]!;
    if (!isHidden(el, styleOf)) continue;
    copied[i]!.remove();
    removed++;
    // What is inside went with it.
    while (i + 1 < shown.length && el.contains(shown[i + 1]!)) i++;
  }
  return removed;
}
