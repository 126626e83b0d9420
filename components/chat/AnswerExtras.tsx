import type { Citation, WebSource } from '@/lib/storage/rows';

/** Only web addresses become links: a source's address comes from the web, not from Pace. */
function webLink(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** What the model thought before answering, folded; live while it streams. */
export function ThinkingSection({ text }: { text: string }) {
  return (
    <details className="thinking-block" data-testid="thinking">
      <summary>Thinking</summary>
      <div className="thinking-text">{text}</div>
    </details>
  );
}

/** The pages the answer's web searches found. */
export function SourceList({ sources }: { sources: WebSource[] }) {
  const links = sources.flatMap((s) => {
    const href = webLink(s.url);
    return href ? [{ ...s, href }] : [];
  });
  if (links.length === 0) return null;
  return (
    <section className="sources" data-testid="sources" aria-label="Sources">
      <p className="extras-title">Sources</p>
      <ol>
        {links.map((s) => (
          <li key={s.href}>
            <a href={s.href} target="_blank" rel="noopener noreferrer">
              {s.title || new URL(s.href).hostname}
            </a>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** The passages the answer cites: from an attached PDF (its title and pages) or a web page (its title, linked). */
export function CitationList({ citations }: { citations: Citation[] }) {
  if (citations.length === 0) return null;
  return (
    <section className="citations" data-testid="citations" aria-label="Cited passages">
      <p className="extras-title">Cited</p>
      <ol>
        {citations.map((c, i) => (
          <li key={i}>
            <blockquote>{c.citedText}</blockquote>
            <CitationSource citation={c} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function CitationSource({ citation: c }: { citation: Citation }) {
  const pages = c.pages ? (c.pages[0] === c.pages[1] ? `page ${c.pages[0]}` : `pages ${c.pages[0]}-${c.pages[1]}`) : '';
  if (c.kind === 'web') {
    const href = webLink(c.url);
    const title = c.title || (href ? new URL(href).hostname : 'a web page');
    return (
      <cite>
        {href ? (
          <a href={href} target="_blank" rel="noopener noreferrer">
            {title}
          </a>
        ) : (
          title
        )}
      </cite>
    );
  }
  return (
    <cite>
      {c.title || 'the attached document'}
      {pages ? `, ${pages}` : ''}
    </cite>
  );
}
