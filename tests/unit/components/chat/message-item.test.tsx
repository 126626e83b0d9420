import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { MessageItem } from '@/components/chat/MessageItem';
import { SIZE_CAP_STOP } from '@/lib/claude/stream';
import type { Attempt, ChatMessage } from '@/lib/storage/db';

const actions = { stop: () => undefined, retry: () => undefined, act: () => undefined };
const reply = (patch: Partial<ChatMessage>): ChatMessage => ({ id: 'a', conversationId: 'c', role: 'assistant', text: 'So far.', createdAt: 0, status: 'done', ...patch });

describe('MessageItem', () => {
  it('ends an answer cut at the size cap with a note, the text kept', () => {
    const html = renderToStaticMarkup(<MessageItem message={reply({ stopReason: SIZE_CAP_STOP })} now={0} actions={actions} />);
    expect(html).toContain('So far.');
    expect(html).toContain('Pace stopped reading this answer at 4,194,304 characters, far past any real answer: the API or gateway may be broken. The text so far is kept.');
  });

  it('adds no note to an answer that ended by itself', () => {
    expect(renderToStaticMarkup(<MessageItem message={reply({ stopReason: 'end_turn' })} now={0} actions={actions} />)).not.toContain('Pace stopped reading');
  });
});

const answer = (attempts: Attempt[]): ChatMessage => ({
  id: 'a1',
  conversationId: 'c1',
  role: 'assistant',
  text: 'The report is about buckets.',
  createdAt: 1,
  status: 'done',
  attempts,
});
const html = (attempts: Attempt[]) => renderToStaticMarkup(<MessageItem message={answer(attempts)} now={0} actions={actions} />);

describe('MessageItem attempt details', () => {
  it("shows a single attempt when its prefix came from Anthropic's prompt cache", () => {
    const out = html([{ at: 0, outcome: 'ok', status: 200, promptCache: { readTokens: 20_012, writtenTokens: 40 } }]);
    expect(out).toContain('data-testid="attempts"');
    expect(out).toContain('1 attempt<');
    expect(out).toContain("prefix from Anthropic&#x27;s cache (20,012 tokens)");
  });

  it('keeps a single plain attempt, or one that only wrote the cache, out of sight', () => {
    expect(html([{ at: 0, outcome: 'ok', status: 200 }])).not.toContain('data-testid="attempts"');
    expect(html([{ at: 0, outcome: 'ok', status: 200, promptCache: { readTokens: 0, writtenTokens: 20_000 } }])).not.toContain('data-testid="attempts"');
  });
});
