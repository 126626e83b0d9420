import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { MessageItem } from '@/components/chat/MessageItem';
import { SIZE_CAP_STOP } from '@/lib/claude/stream';
import type { ChatMessage } from '@/lib/storage/db';

const actions = { stop: () => undefined, retry: () => undefined, act: () => undefined };
const answer = (patch: Partial<ChatMessage>): ChatMessage => ({ id: 'a', conversationId: 'c', role: 'assistant', text: 'So far.', createdAt: 0, status: 'done', ...patch });

describe('MessageItem', () => {
  it('ends an answer cut at the size cap with a note, the text kept', () => {
    const html = renderToStaticMarkup(<MessageItem message={answer({ stopReason: SIZE_CAP_STOP })} now={0} actions={actions} />);
    expect(html).toContain('So far.');
    expect(html).toContain('Pace stopped reading this answer at 4,194,304 characters, far past any real answer: the API or gateway may be broken. The text so far is kept.');
  });

  it('adds no note to an answer that ended by itself', () => {
    expect(renderToStaticMarkup(<MessageItem message={answer({ stopReason: 'end_turn' })} now={0} actions={actions} />)).not.toContain('Pace stopped reading');
  });
});
