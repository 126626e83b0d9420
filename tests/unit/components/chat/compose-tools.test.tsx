import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ComposeExtras, ComposeTools } from '@/components/chat/ComposeTools';
import { createChatStore, type ChatState, type ChatStore } from '@/components/chat/chat-store';
import { CostPreview } from '@/components/ui/CostPreview';
import type { BackgroundClient } from '@/lib/messaging/page-client';

/** renderToStaticMarkup reads a zustand store's server snapshot, its initial state: the state drawn is set there. */
function storeWith(patch: Partial<ChatState>): ChatStore {
  const useChat = createChatStore(client);
  Object.assign(useChat.getInitialState(), patch);
  return useChat;
}

const client = { request: () => Promise.resolve({ ok: true, data: {} }) } as unknown as BackgroundClient;
const pdfPending = {
  key: 'k1',
  kind: 'pdf' as const,
  name: 'report.pdf',
  mediaType: 'application/pdf',
  data: 'JVBERg==',
  bytes: 2048,
  pages: 4,
};

describe('the compose tools', () => {
  it('offer the attach button and its file input, the screenshot, thinking and web search', () => {
    const html = renderToStaticMarkup(
      <ComposeTools useChat={createChatStore(client)} captureTab={() => Promise.reject(new Error('no'))} />,
    );
    expect(html).toContain('<button type="button" class="icon-button" aria-label="Attach an image or PDF"');
    expect(html).toMatch(
      /<input type="file" hidden="" multiple="" accept="image\/jpeg,image\/png,image\/gif,image\/webp,application\/pdf" data-testid="attach-input"/,
    );
    expect(html).toContain('aria-label="Screenshot this tab"');
    expect(html).toMatch(
      /<select aria-label="Thinking"><option value="off" selected="">Off<\/option><option value="low">Low<\/option><option value="medium">Medium<\/option><option value="high">High<\/option><\/select>/,
    );
    expect(html).toMatch(/<input type="checkbox" aria-label="Search the web"\/>/);
  });

  it("show a new chat's chosen options", () => {
    const useChat = storeWith({ options: { thinking: 'medium', webSearch: true } });
    const html = renderToStaticMarkup(<ComposeTools useChat={useChat} />);
    expect(html).toContain('<option value="medium" selected="">');
    expect(html).toMatch(/<input type="checkbox" aria-label="Search the web" checked=""\/>/);
    expect(html).not.toContain('Screenshot this tab');
  });

  it('leave thinking out for a model that cannot think', () => {
    const html = renderToStaticMarkup(<ComposeTools useChat={storeWith({ model: 'claude-3-5-haiku-20241022' })} />);
    expect(html).not.toContain('aria-label="Thinking"');
    expect(html).toContain('aria-label="Search the web"');
    expect(renderToStaticMarkup(<ComposeTools useChat={storeWith({ model: 'claude-sonnet-5-5' })} />)).toContain(
      'aria-label="Thinking"',
    );
  });
});

describe('in the message box', () => {
  it('shows nothing for plain text', () => {
    expect(renderToStaticMarkup(<ComposeExtras useChat={createChatStore(client)} text="Hi" />)).toBe('');
  });

  it('shows a pending PDF with its remove button, and the send preview', () => {
    const useChat = storeWith({ pending: [pdfPending] });
    const html = renderToStaticMarkup(<ComposeExtras useChat={useChat} text="Hi" />);
    expect(html).toContain('data-testid="attachment-thumb"');
    expect(html).toContain('report.pdf');
    expect(html).toContain('4 pages, 2.0 KB');
    expect(html).toContain('aria-label="Remove report.pdf"');
    expect(html).toContain('data-testid="send-preview"');
  });

  it('shows the send preview when thinking or search is on, without attachments', () => {
    const useChat = storeWith({ options: { thinking: 'off', webSearch: true } });
    expect(renderToStaticMarkup(<ComposeExtras useChat={useChat} text="Hi" />)).toContain('data-testid="send-preview"');
  });

  it('says why files were refused', () => {
    const useChat = storeWith({ refused: ['notes.txt can’t be sent.'] });
    expect(renderToStaticMarkup(<ComposeExtras useChat={useChat} text="" />)).toContain(
      '<p class="error" role="alert" data-testid="attach-refused">notes.txt can’t be sent.</p>',
    );
  });

  it("draws a preview's lines and its blocker as Ask about this page does", () => {
    const html = renderToStaticMarkup(
      <CostPreview
        preview={{ lines: ['About 1,600 tokens.', 'Up to $0.08.'], blocker: 'Over your budget.' }}
        listTestId="send-preview-lines"
        blockerTestId="send-blocker"
      />,
    );
    expect(html).toBe(
      '<ul data-testid="send-preview-lines"><li>About 1,600 tokens.</li><li>Up to $0.08.</li></ul><p class="error" data-testid="send-blocker">Over your budget.</p>',
    );
  });
});
