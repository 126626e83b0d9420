import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import {
  FORMAT_MAX_CHARS,
  formatDelay,
  nestingTooDeep,
  remarkCapNesting,
  splitForDisplay,
  textToFormat,
  wellFormed,
} from './answer-text';
import { markdownToReact, type MarkdownComponents } from './markdown-tree';

const SAFE_SCHEMES = ['http:', 'https:', 'mailto:'];

/** Links keep only http, https and mailto targets; anything else (javascript:, data:, ...) is dropped. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return SAFE_SCHEMES.includes(parsed.protocol) ? url : '';
  } catch {
    // A relative or malformed URL has no meaning inside an answer.
    return '';
  }
}

const components: MarkdownComponents = {
  a: ({ href, children }: { href?: string; children?: ReactNode }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    ) : (
      <span className="md-dead-link">{children}</span>
    ),
  // Images in answers are never fetched: show what they are instead.
  img: ({ alt, src }: { alt?: string; src?: string }) => (
    <span className="md-image">[image: {alt || src || 'no description'}]</span>
  ),
};

const capNesting = remarkCapNesting();

/**
 * Renders an answer as Markdown. Raw HTML in the text is shown as text, never parsed. Whatever the
 * text, the page stays responsive: lone surrogates show as U+FFFD; a text too long or too deeply
 * nested to format quickly is shown as plain text with a note; while `streaming`, the text is
 * formatted again only as often as its formatting cost allows.
 */
export function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  const safe = useMemo(() => wellFormed(text), [text]);
  const plain = useMemo(() => plainReason(safe), [safe]);
  const [shown, rendered] = usePacedText(safe, streaming && plain === null);
  if (plain !== null) return <PlainText text={safe} note={plain} />;
  return (
    <ErrorBoundary
      fallback={<PlainText text={shown} note="This answer could not be formatted, so it is shown as plain text." />}
    >
      <Formatted text={shown} onRendered={rendered} />
    </ErrorBoundary>
  );
}

function plainReason(text: string): string | null {
  if (text.length > FORMAT_MAX_CHARS) {
    return `This answer is long (${text.length.toLocaleString('en-US')} characters), so it is shown as plain text.`;
  }
  if (nestingTooDeep(text)) return 'This answer is nested too deeply to format, so it is shown as plain text.';
  return null;
}

/**
 * The text to format now. While `live`, a new text waits until `formatDelay` after the last
 * formatting (reported through the returned callback); otherwise it shows at once (`textToFormat`).
 */
function usePacedText(text: string, live: boolean): [string, (costMs: number) => void] {
  const [paced, setPaced] = useState(text);
  const nextAt = useRef(0);
  useEffect(() => {
    if (!live || paced === text) return;
    // The first words were shown as they came (`textToFormat`): pacing starts from them.
    if (paced === '') {
      setPaced(text);
      return;
    }
    const timer = setTimeout(() => setPaced(text), Math.max(0, nextAt.current - performance.now()));
    return () => clearTimeout(timer);
  }, [live, paced, text]);
  const rendered = useCallback((costMs: number) => {
    nextAt.current = performance.now() + formatDelay(costMs);
  }, []);
  return [textToFormat(text, paced, live), rendered];
}

const Formatted = memo(function Formatted({
  text,
  onRendered,
}: {
  text: string;
  onRendered: (costMs: number) => void;
}) {
  const started = performance.now();
  // Parsing happens in this render; the layout effect runs once it is on the page.
  useLayoutEffect(() => onRendered(performance.now() - started));
  return (
    <div className="md">{markdownToReact(text, { transform: capNesting, urlTransform: safeUrl, components })}</div>
  );
});

/** Plain, wrapped text in pieces the browser can skip laying out while they are off screen. */
const PlainText = memo(function PlainText({ text, note }: { text: string; note: string }) {
  const pieces = useMemo(() => splitForDisplay(text), [text]);
  return (
    <div className="md md-plain">
      <p className="md-note">{note}</p>
      <div className="md-plain-text" data-testid="plain-answer">
        {pieces.map((piece, i) => (
          <div key={i} className="md-piece">
            {piece}
          </div>
        ))}
      </div>
    </div>
  );
});
