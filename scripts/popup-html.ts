/**
 * Build steps for popup.html (wired in wxt.config.ts): the app's module and the chunks Vite preloads
 * for it move from the page's own tags onto the early script's `data-main` and `data-preload`, and
 * that script loads them once the message box has focus (components/chat/early-composer.ts).
 * Requested by the page, they were fetched and compiled while it was parsed, and the box waited.
 * And the page's stylesheet is written into it: fetching it held the first paint, and with it the
 * box's `autofocus`, back by tens of milliseconds.
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
    .replace(
      EARLY,
      `<script async src="/early-composer.js" data-main="${main[0]}" data-preload="${preload.join(' ')}"></script>`,
    );
}

const STYLESHEET = /<link rel="stylesheet"[^>]*\bhref="([^"]+)"[^>]*>/g;

/**
 * Each `<link rel="stylesheet">` replaced by a `<style>` holding the file (`source` reads it from the
 * build, undefined when it is not there). Extension pages' content security policy limits scripts,
 * not styles.
 */
export function inlineStylesheets(html: string, source: (href: string) => string | undefined): string {
  return html.replace(STYLESHEET, (_tag, href: string) => {
    const css = source(href);
    if (css === undefined) throw new Error(`popup.html links ${href}, which the build does not hold`);
    return `<style>${css.replace(/<\/style/gi, '<\\/style')}</style>`;
  });
}
