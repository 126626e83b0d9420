import { describe, expect, it } from 'vitest';
import { createChatStore } from '@/components/chat/chat-store';
import type { BackgroundClient } from '@/lib/messaging/page-client';

const client = { request: async () => ({ ok: true, data: {} }) } as unknown as BackgroundClient;

describe('the popup reopening its most recent chat', () => {
  it('leaves a history the user opened meanwhile open, and Escape comes back to that chat', () => {
    const store = createChatStore(client);
    store.getState().showHistory();
    store.getState().reopen('latest');
    expect(store.getState()).toMatchObject({ view: 'history', conversationId: 'latest' });
    store.getState().closeHistory();
    expect(store.getState()).toMatchObject({ view: 'chat', conversationId: 'latest' });
  });

  it('keeps a chat the user started meanwhile', () => {
    const store = createChatStore(client);
    store.getState().open('started');
    store.getState().reopen('latest');
    expect(store.getState().conversationId).toBe('started');
  });
});
