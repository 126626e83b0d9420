import { describe, expect, it } from 'vitest';
import { startModulesAfterComposer } from '@/scripts/popup-html';

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
    expect(html).toContain('<script async src="/early-composer.js" data-main="/chunks/popup-A.js" data-preload="/chunks/react-B.js /chunks/App-C.js"></script>');
    expect(html).toContain('<link rel="stylesheet" crossorigin href="/assets/style-D.css">');
    expect(html).not.toContain('type="module"');
    expect(html).not.toContain('modulepreload');
  });

  it('refuses a page whose module nothing would start', () => {
    expect(() => startModulesAfterComposer(BUILT.replace('<script async src="/early-composer.js"></script>', ''))).toThrow(
      'popup.html has no <script async src="/early-composer.js"></script>, which starts its module',
    );
    expect(() => startModulesAfterComposer(BUILT.replace(/<script type="module"[^>]*><\/script>/, ''))).toThrow('popup.html should load one module, found 0');
  });
});
