import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';

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

const components: Components = {
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    ) : (
      <span className="md-dead-link">{children}</span>
    ),
  // Images in answers are never fetched: show what they are instead.
  img: ({ alt, src }) => <span className="md-image">[image: {alt || src || 'no description'}]</span>,
};

/** Renders an answer as Markdown. Raw HTML in the text is shown as text, never parsed. */
export function Markdown({ text }: { text: string }) {
  return (
    <div className="md">
      <ReactMarkdown remarkPlugins={[remarkGfm]} urlTransform={safeUrl} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
}
