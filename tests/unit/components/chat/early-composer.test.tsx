import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { Composer } from '@/components/chat/Composer';
import { readDraft } from '@/components/chat/early-composer';
import { draftItem } from '@/lib/storage/draft';

const POPUP_HTML = readFileSync(resolve(__dirname, '../../../../entrypoints/popup/index.html'), 'utf8');

/**
 * Tag names and attributes, in order: what the eye sees of a form's markup (text and whitespace left
 * out). `autofocus` too is left out: the early box takes focus by itself at the first paint, React's
 * in the Composer's layout effect.
 */
function shape(html: string): string[] {
  return [...html.matchAll(/<(\/?[a-z]+)([^>]*?)\s*\/?>/g)].map(([, tag, attrs]) => {
    const sorted = [...attrs!.matchAll(/([a-z-]+)(?:="([^"]*)")?/g)]
      .filter(([, name]) => name !== 'id' && name !== 'value' && name !== 'autofocus')
      .map(([, name, value]) => `${name}=${value ?? ''}`)
      .sort();
    return [tag, ...sorted].join(' ');
  });
}

describe('the early message box', () => {
  it('reads the draft where draftItem keeps it', async () => {
    expect(await readDraft(fakeBrowser.storage.local)).toBe('');
    await draftItem.setValue('Half a question');
    expect(await readDraft(fakeBrowser.storage.local)).toBe('Half a question');
  });

  it("is in popup.html as the Composer's form first draws, so React's takeover moves nothing", () => {
    const early = /<form class="composer" id="early-composer">[\s\S]*?<\/form>/.exec(POPUP_HTML)?.[0];
    expect(early).toBeDefined();
    // Focused before any script runs.
    expect(early).toMatch(/<textarea [^>]*\bautofocus\b/);
    const composer = renderToStaticMarkup(<Composer onSend={() => Promise.resolve(true)} />);
    expect(shape(early!)).toEqual(shape(composer));
  });
});
