import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { MessageItem } from '@/components/chat/MessageItem';
import type { ChatMessage } from '@/lib/storage/db';

const actions = { stop: () => undefined, retry: () => undefined, act: () => undefined };
const answer = (patch: Partial<ChatMessage>): ChatMessage => ({
  id: 'a',
  conversationId: 'c',
  role: 'assistant',
  text: 'The answer.',
  createdAt: 0,
  status: 'done',
  ...patch,
});
const draw = (message: ChatMessage, live?: { text?: string; thinking?: string }) =>
  renderToStaticMarkup(
    <MessageItem message={message} live={live?.text} liveThinking={live?.thinking} now={0} actions={actions} />,
  );

describe("an answer's thinking", () => {
  it('is folded under "Thinking"', () => {
    const html = draw(answer({ thinking: 'Let me weigh both.' }));
    expect(html).toMatch(/<details class="thinking-block" data-testid="thinking"><summary>Thinking<\/summary>/);
    expect(html).not.toMatch(/<details[^>]*open/);
    expect(html).toContain('Let me weigh both.');
  });

  it('shows what was pushed while it streams, ahead of the database', () => {
    const html = draw(answer({ status: 'streaming', text: '', thinking: 'Let' }), { thinking: 'Let me weigh' });
    expect(html).toContain('Let me weigh');
  });

  it('is not there when the model did not think', () => {
    expect(draw(answer({}))).not.toContain('data-testid="thinking"');
  });
});

describe("an answer's sources and citations", () => {
  it('lists web pages as links that open apart, and drops addresses that are not http(s)', () => {
    const html = draw(
      answer({
        sources: [
          { url: 'https://example.com/a', title: 'Example A' },
          { url: 'javascript:alert(1)', title: 'Evil' },
          { url: 'http://example.org/', title: '' },
        ],
      }),
    );
    expect(html).toContain('<a href="https://example.com/a" target="_blank" rel="noopener noreferrer">Example A</a>');
    expect(html).toContain('<a href="http://example.org/" target="_blank" rel="noopener noreferrer">example.org</a>');
    expect(html).not.toContain('javascript:');
    expect(html).not.toContain('Evil');
    expect(html).toContain('data-testid="sources"');
  });

  it('shows cited passages with the document title and pages, or the web page', () => {
    const html = draw(
      answer({
        citations: [
          { kind: 'document', citedText: 'Revenue grew 4%.', title: 'report.pdf', pages: [2, 3] },
          { kind: 'document', citedText: 'One page.', title: 'memo.pdf', pages: [5, 5] },
          { kind: 'web', citedText: 'Buckets refill.', title: 'Rate limits', url: 'https://docs.example/limits' },
        ],
      }),
    );
    expect(html).toContain('data-testid="citations"');
    expect(html).toContain('<blockquote>Revenue grew 4%.</blockquote><cite>report.pdf, pages 2-3</cite>');
    expect(html).toContain('<cite>memo.pdf, page 5</cite>');
    expect(html).toContain(
      '<cite><a href="https://docs.example/limits" target="_blank" rel="noopener noreferrer">Rate limits</a></cite>',
    );
  });

  it('shows neither for a plain answer', () => {
    const html = draw(answer({ sources: [], citations: [] }));
    expect(html).not.toContain('data-testid="sources"');
    expect(html).not.toContain('data-testid="citations"');
  });
});

describe("a user message's attachments", () => {
  it('shows each image with its name as alt text, and each PDF as a chip with its name and pages', () => {
    const html = draw({
      id: 'u1',
      conversationId: 'c',
      role: 'user',
      text: 'What is in these?',
      createdAt: 0,
      status: 'done',
      attachments: [
        {
          id: 'i1',
          kind: 'image',
          name: 'cat.png',
          mediaType: 'image/png',
          bytes: 1000,
          width: 200,
          height: 100,
          tokens: 27,
          hash: 'h1',
        },
        {
          id: 'p1',
          kind: 'pdf',
          name: 'report.pdf',
          mediaType: 'application/pdf',
          bytes: 9000,
          pages: 3,
          tokens: 4000,
          hash: 'h2',
        },
      ],
    });
    expect(html).toMatch(/<img data-testid="message-attachment"[^>]* alt="cat.png"/);
    expect(html).toMatch(
      /<span class="chip" data-testid="message-attachment"[^>]*>PDF: report.pdf \(3 pages\)<\/span>/,
    );
    expect(html).toContain('What is in these?');
  });
});
