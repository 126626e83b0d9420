/**
 * Answers a hostile or broken model (or server) could stream, for tests that check the popup shows
 * them inert. `hostileCorpus(beacon)` takes the URL of a route on the local Claude server: every
 * payload that ran, and every resource that loaded, would request it, so a test asserts that the
 * server never saw a request to that path. Each payload that runs also sets `window.__pwned` and
 * calls alert().
 */
import type { Behaviour } from './claude-server';

type TextBehaviour = Extract<Behaviour, { kind: 'text' }>;

export interface HostileEntry {
  name: string;
  /** What the local server streams. */
  behaviour: TextBehaviour;
  /** Texts the rendered answer must show (the markup as text, a surviving word, ...). */
  shows?: string[];
  /** Hrefs that must render as real links (http, https, mailto); every other link must be text. */
  links?: string[];
  /** The answer is shown as plain text (with a note) rather than formatted. */
  plain?: boolean;
  /** What the rendered answer reads, exactly, once done (after the note, for plain text). */
  exactText?: string;
}

/** The path the beacon URL points at; a hit on it means something loaded or ran. */
export const BEACON_PATH = '/beacon';

/** JavaScript that, if it ever runs, leaves three traces: a window flag, a dialog and a beacon hit. */
function payload(beacon: string, tag: string): string {
  return `window.__pwned='${tag}';alert('${tag}');fetch('${beacon}?js-${tag}')`;
}

const MB2 = 2 * 1024 * 1024;

/** About 2 MB of ordinary-looking Markdown with hostile bits mixed in. */
function hugeAnswer(beacon: string, size = MB2): string {
  const sections: string[] = [];
  let length = 0;
  for (let i = 1; length < size; i++) {
    const section = [
      `## Section ${i}`,
      `Some **bold**, some _emphasis_, \`inline code\` and a [link](https://example.com/${i}).`,
      `- point ${i}.1\n- point ${i}.2\n  - nested ${i}`,
      '```ts\nconst answer = ' + i + ';\n```',
      `| col | value |\n|---|---|\n| ${i} | ${i * 2} |`,
      `> quoted ${i} <script>${payload(beacon, `huge-${i}`)}</script> ![t](${beacon}?huge-img-${i})`,
      '',
    ].join('\n\n');
    sections.push(section);
    length += section.length;
  }
  return sections.join('').slice(0, size);
}

export function hostileCorpus(beacon: string): HostileEntry[] {
  const p = (tag: string) => payload(beacon, tag);
  const quick = (text: string, rest: Omit<TextBehaviour, 'kind' | 'text'> = {}): TextBehaviour => ({
    kind: 'text',
    text,
    chunkSize: 64,
    delayMs: 5,
    ...rest,
  });
  const longLine = 'x'.repeat(200_000);
  const huge = hugeAnswer(beacon);
  return [
    {
      name: 'script tags',
      behaviour: quick(
        [
          `<script>${p('script')}</script>`,
          `<SCRIPT SRC="${beacon}?script-src"></SCRIPT>`,
          `Inline <script>${p('inline-script')}</script> in a sentence.`,
          `<scr<script>ipt>${p('nested-script')}</scr</script>ipt>`,
        ].join('\n\n'),
        // Small chunks: the tags arrive cut in pieces.
        { chunkSize: 7 },
      ),
      shows: ['<script>', '</script>', 'in a sentence.'],
    },
    {
      name: 'event-handler attributes',
      behaviour: quick(
        [
          `<img src=x onerror="${p('img-onerror')}">`,
          `<img src="${beacon}?img-tag">`,
          `<div onclick="${p('onclick')}" onmouseover="${p('onmouseover')}">hover me</div>`,
          `<body onload="${p('body-onload')}">`,
          `<details open ontoggle="${p('ontoggle')}">x</details>`,
        ].join('\n\n'),
      ),
      shows: ['<img src=x onerror=', 'hover me'],
    },
    {
      name: 'SVG payloads',
      behaviour: quick(
        [
          `<svg onload="${p('svg-onload')}"><circle r="10"/></svg>`,
          `<svg><script>${p('svg-script')}</script></svg>`,
          `<svg><a xlink:href="javascript:${p('svg-link')}"><text>svg link</text></a></svg>`,
          `<svg><image href="${beacon}?svg-image"/></svg>`,
          `![svg](data:image/svg+xml;base64,${Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" onload="${p('svg-data')}"/>`).toString('base64')})`,
        ].join('\n\n'),
      ),
      shows: ['<svg onload=', '[image: svg]'],
    },
    {
      name: 'javascript: links',
      behaviour: quick(
        [
          `[click me](javascript:${encodeURI(p('md-link'))})`,
          `[mixed case](JaVaScRiPt:alert(1))`,
          `[entity](&#106;avascript:alert(1)) and [tab](java&#9;script:alert(1))`,
          `An autolink <javascript:alert(1)> in text.`,
          `[reference link][evil]`,
          '',
          `[evil]: javascript:alert(1)`,
        ].join('\n\n'),
      ),
      shows: ['click me', 'mixed case', 'entity', 'tab', 'javascript:alert(1)', 'reference link'],
      links: [],
    },
    {
      name: 'other schemes',
      behaviour: quick(
        [
          `[data html](data:text/html;base64,${Buffer.from(`<script>${p('data-html')}</script>`).toString('base64')})`,
          `<data:text/html,<script>alert(1)</script>>`,
          `[vb](vbscript:msgbox(1)) [file](file:///etc/passwd) [blob](blob:https://example.com/x)`,
          `[relative](${BEACON_PATH}?relative) [protocol-relative](//127.0.0.1/beacon) [chrome](chrome://settings)`,
          `[extension page](chrome-extension://abcdefghijklmnop/popup.html)`,
        ].join('\n\n'),
      ),
      shows: ['data html', 'vb', 'file', 'relative', 'protocol-relative', 'extension page'],
      links: [],
    },
    {
      name: 'allowed links',
      behaviour: quick(
        [
          `[docs](https://docs.anthropic.com/en/api)`,
          `An autolink <https://example.com/auto> and a literal www.example.org in text.`,
          `[mail](mailto:someone@example.com) and [plain http](http://example.net/page)`,
        ].join('\n\n'),
      ),
      links: [
        'https://docs.anthropic.com/en/api',
        'https://example.com/auto',
        'http://www.example.org',
        'mailto:someone@example.com',
        'http://example.net/page',
      ],
    },
    {
      name: 'images pointing at the test server',
      behaviour: quick(
        [
          `![x](${beacon}?md-image)`,
          `![reference image][img]`,
          `[![linked image](${beacon}?linked-image)](https://example.com/)`,
          '',
          `[img]: ${beacon}?md-ref-image`,
        ].join('\n\n'),
      ),
      shows: ['[image: x]', '[image: reference image]', '[image: linked image]'],
      links: ['https://example.com/'],
    },
    {
      name: 'frames and embeds',
      behaviour: quick(
        [
          `<iframe src="${beacon}?iframe"></iframe>`,
          `<iframe srcdoc="<script>${p('srcdoc')}</script>"></iframe>`,
          `<object data="${beacon}?object"></object> <embed src="${beacon}?embed">`,
          `<form action="${beacon}?form"><button>go</button></form>`,
          `<meta http-equiv="refresh" content="0;url=${beacon}?meta">`,
        ].join('\n\n'),
      ),
      shows: ['<iframe src=', '<object data='],
    },
    {
      name: 'style with url()',
      behaviour: quick(
        [
          `<style>body { background: url(${beacon}?style) } @import url(${beacon}?import);</style>`,
          `<div style="background-image: url(${beacon}?inline-style)">styled</div>`,
          `<link rel="stylesheet" href="${beacon}?link">`,
        ].join('\n\n'),
      ),
      shows: ['<style>', 'url('],
    },
    {
      name: 'a 200,000-character line',
      behaviour: quick(`A long line follows.\n\n${longLine}\n\nThe end.`, { chunkSize: 2_048, delayMs: 15 }),
      plain: true,
      exactText: `A long line follows.\n\n${longLine}\n\nThe end.`,
    },
    {
      name: 'long lines inside Markdown',
      behaviour: quick(
        [
          'y'.repeat(12_000),
          '`' + 'z'.repeat(5_000) + '`',
          '```\n' + 'w'.repeat(5_000) + '\n```',
          `https://example.com/${'p'.repeat(3_000)}`,
          `| ${Array.from({ length: 60 }, (_, i) => `column ${i}`).join(' | ')} |\n|${' --- |'.repeat(60)}\n| ${Array.from({ length: 60 }, (_, i) => `value-${i}`).join(' | ')} |`,
        ].join('\n\n'),
        { chunkSize: 1_024 },
      ),
      shows: ['column 59'],
    },
    {
      name: 'a list nested 1,000 levels',
      behaviour: quick(`${'- '.repeat(1_000)}bottom of the list`),
      plain: true,
      shows: ['bottom of the list'],
    },
    {
      name: 'a list nested 20 levels (formatted, flattened past 8)',
      behaviour: quick(Array.from({ length: 20 }, (_, i) => `${'  '.repeat(i)}- level ${i + 1}`).join('\n')),
      shows: ['level 1', 'level 8', 'level 20'],
    },
    {
      name: 'block quotes nested 1,000 levels',
      behaviour: quick(`${'> '.repeat(1_000)}bottom of the quote`),
      plain: true,
      shows: ['bottom of the quote'],
    },
    {
      name: 'a list indented 150 levels',
      behaviour: quick(Array.from({ length: 150 }, (_, i) => `${'  '.repeat(i)}- step ${i + 1}`).join('\n'), {
        chunkSize: 2_048,
      }),
      plain: true,
      shows: ['step 150'],
    },
    {
      name: 'lone surrogates',
      behaviour: {
        kind: 'text',
        text: 'Before \ud800 middle **\udfff** after \udbff\ud7ff end',
        chunks: ['Before ', '\ud800', ' middle **', '\udfff', '** after ', '\udbff\ud7ff', ' end'],
        delayMs: 20,
      },
      shows: ['Before \ufffd middle \ufffd after \ufffd\ud7ff end'],
    },
    {
      name: 'a surrogate pair split across two deltas',
      behaviour: {
        kind: 'text',
        text: 'Emoji: \ud83d\ude00 and \ud83c\udf89 done',
        chunks: ['Emoji: \ud83d', '\ude00 and ', '\ud83c', '\udf89 done'],
        delayMs: 20,
      },
      shows: ['Emoji: \u{1f600} and \u{1f389} done'],
    },
    {
      name: 'a 2 MB answer',
      behaviour: { kind: 'text', text: huge, chunkSize: 4_096, delayMs: 8, pingEvery: 20 },
      plain: true,
      exactText: huge,
    },
  ];
}
