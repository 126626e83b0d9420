import { describe, expect, it } from 'vitest';
import { phraseFor } from '@/components/chat/StatusAnnouncer';
import type { ChatMessage } from '@/lib/storage/db';

const pending: ChatMessage = {
  id: 'a',
  conversationId: 'c',
  role: 'assistant',
  text: '',
  createdAt: 0,
  status: 'pending',
};

describe('StatusAnnouncer phrases', () => {
  it('says a question sent later goes in a batch at half price, gathered or batched (not that it is sending)', () => {
    for (const state of ['gathering', 'batched'] as const) {
      expect(phraseFor(pending, { state, position: null, eta: null, resumed: false })).toBe(
        'Your message will go later, in a batch at half price.',
      );
    }
  });

  it('still says a message on its way now is being sent', () => {
    expect(phraseFor(pending, { state: 'sending', position: null, eta: null, resumed: false })).toBe(
      'Sending your message.',
    );
  });
});
