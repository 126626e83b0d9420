import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { FORMAT_MAX_CHARS } from '@/components/chat/answer-text';
import { Markdown, safeUrl } from '@/components/chat/Markdown';

const html = (text: string) => renderToStaticMarkup(<Markdown text={text} />);

describe('safeUrl', () => {
  it('keeps http, https and mailto', () => {
    for (const url of ['https://example.com/a?b#c', 'http://example.net', 'mailto:a@example.com'])
      expect(safeUrl(url)).toBe(url);
  });

  it('drops every other scheme, however it is written, and relative URLs', () => {
    for (const url of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'java\tscript:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,<b>',
      'vbscript:x',
      'file:///etc/passwd',
      'blob:https://e.com/x',
      'chrome://settings',
      '/beacon',
      '//evil.example/x',
      '#top',
    ]) {
      expect(safeUrl(url)).toBe('');
    }
  });
});

describe('Markdown', () => {
  it('formats ordinary Markdown', () => {
    const out = html('**bold** and [a link](https://example.com)\n\n- one\n- two');
    expect(out).toContain('<strong>bold</strong>');
    expect(out).toContain('<a href="https://example.com" target="_blank" rel="noopener noreferrer">a link</a>');
    expect(out).toContain('<li>one</li>');
  });

  it('shows raw HTML, unsafe links and images as text', () => {
    const out = html(
      '<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)> ![pic](https://example.com/p.png)',
    );
    expect(out).not.toMatch(/<(script|img)\b/);
    expect(out).not.toContain('href="javascript');
    expect(out).toContain('&lt;script&gt;');
    expect(out).toContain('<span class="md-dead-link">x</span>');
    expect(out).toContain('[image: pic]');
  });

  it('shows lone surrogates as U+FFFD', () => {
    expect(html('a \ud800 b \udfff c')).toContain('a \ufffd b \ufffd c');
  });

  it('shows a text too long to format as plain text, whole, with a note', () => {
    const long = `**not bold** ${'word '.repeat(FORMAT_MAX_CHARS / 5)}`;
    const out = html(long);
    expect(out).toContain('shown as plain text');
    expect(out).toContain('**not bold**');
    expect(out).not.toContain('<strong>');
    expect(out.match(/class="md-piece"/g)!.length).toBeGreaterThan(1);
  });

  it('shows a deeply nested text as plain text, and caps formatted nesting', () => {
    expect(html(`${'- '.repeat(1000)}bottom`)).toContain('nested too deeply');
    const twenty = Array.from({ length: 20 }, (_, i) => `${'  '.repeat(i)}- level ${i + 1}`).join('\n');
    const out = html(twenty);
    expect(out.match(/<ul>/g)).toHaveLength(8);
    expect(out).toContain('level 9 level 10');
    expect(out).toContain('level 20');
  });
});
