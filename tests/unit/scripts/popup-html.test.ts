import { describe, expect, it } from 'vitest';
import { inlineStylesheets, startModulesAfterComposer } from '@/scripts/popup-html';

const BUILT = `<head>
    <script type="module" crossorigin src="/chunks/popup-A.js"></script>
    <link rel="modulepreload" crossorigin href="/chunks/react-B.js">
    <link rel="modulepreload" crossorigin href="/chunks/App-C.js">
    <link rel="stylesheet" crossorigin href="/assets/style-D.css">
  </head>
  <body><textarea></textarea>
    <script async src="/early-composer.js"></script>
  </body>`;

describe('startModulesAfterComposer', () => {
  it("moves popup.html's module and preloads onto the early script, leaving the stylesheet", () => {
    const html = startModulesAfterComposer(BUILT);
    expect(html).toContain(
      '<script async src="/early-composer.js" data-main="/chunks/popup-A.js" data-preload="/chunks/react-B.js /chunks/App-C.js"></script>',
    );
    expect(html).toContain('<link rel="stylesheet" crossorigin href="/assets/style-D.css">');
    expect(html).not.toContain('type="module"');
    expect(html).not.toContain('modulepreload');
  });

  it('refuses a page whose module nothing would start', () => {
    expect(() =>
      startModulesAfterComposer(BUILT.replace('<script async src="/early-composer.js"></script>', '')),
    ).toThrow('popup.html has no <script async src="/early-composer.js"></script>, which starts its module');
    expect(() => startModulesAfterComposer(BUILT.replace(/<script type="module"[^>]*><\/script>/, ''))).toThrow(
      'popup.html should load one module, found 0',
    );
  });
});

describe('inlineStylesheets', () => {
  it('writes each linked stylesheet into the page, so the first paint (and autofocus) waits for no fetch', () => {
    const css: Record<string, string> = { '/assets/style-D.css': '.composer{display:flex}' };
    const html = inlineStylesheets(BUILT, (href) => css[href]);
    expect(html).toContain('<style>.composer{display:flex}</style>');
    expect(html).not.toContain('rel="stylesheet"');
    // A stylesheet cannot end the element early.
    expect(inlineStylesheets(BUILT, () => 'a::after{content:"</style><script>"}')).toContain(
      '<style>a::after{content:"<\\/style><script>"}</style>',
    );
  });

  it('refuses a stylesheet the build does not hold', () => {
    expect(() => inlineStylesheets(BUILT, () => undefined)).toThrow(
      'popup.html links /assets/style-D.css, which the build does not hold',
    );
  });
});
