import { lazy, Suspense } from 'react';

// The Markdown parser (micromark with GFM, mdast-util-to-hast: components/chat/markdown-tree.ts) is a fifth of the popup's script: it loads
// when the first answer is shown, not before the composer can be used.
const Markdown = lazy(() => import('./Markdown').then((m) => ({ default: m.Markdown })));

/** An answer as Markdown; until the parser has loaded, the same text as plain text. */
export function LazyMarkdown({ text, streaming }: { text: string; streaming?: boolean }) {
  return (
    <Suspense fallback={<div className="md md-loading">{text}</div>}>
      <Markdown text={text} streaming={streaming} />
    </Suspense>
  );
}
