/**
 * Build step for popup.html (wired in wxt.config.ts): the app's module and the chunks Vite preloads
 * for it move from the page's own tags onto the early script's `data-main` and `data-preload`, and
 * that script loads them once the message box has focus (components/chat/early-composer.ts).
 * Requested by the page, they were fetched and compiled while it was parsed, and the box waited.
 */
const MODULE = /\s*<script type="module"[^>]*\bsrc="([^"]+)"[^>]*><\/script>/g;
const PRELOAD = /\s*<link rel="modulepreload"[^>]*\bhref="([^"]+)"[^>]*>/g;
const EARLY = '<script async src="/early-composer.js"></script>';

export function startModulesAfterComposer(html: string): string {
  const main = [...html.matchAll(MODULE)].map((m) => m[1]!);
  const preload = [...html.matchAll(PRELOAD)].map((m) => m[1]!);
  if (!html.includes(EARLY)) throw new Error(`popup.html has no ${EARLY}, which starts its module`);
  if (main.length !== 1) throw new Error(`popup.html should load one module, found ${main.length}`);
  return html
    .replace(MODULE, '')
    .replace(PRELOAD, '')
    .replace(EARLY, `<script async src="/early-composer.js" data-main="${main[0]}" data-preload="${preload.join(' ')}"></script>`);
}
