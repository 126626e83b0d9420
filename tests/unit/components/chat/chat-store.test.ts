import { describe, expect, it } from 'vitest';
import { createChatStore } from '@/components/chat/chat-store';
import type { BackgroundClient } from '@/lib/messaging/page-client';

const client = { request: async () => ({ ok: true, data: {} }) } as unknown as BackgroundClient;

describe('the popup reopening its most recent chat', () => {
  it('shows the latest chat when the user chose nothing meanwhile', () => {
    const store = createChatStore(client);
    store.getState().reopen('latest');
    expect(store.getState()).toMatchObject({ view: 'chat', conversationId: 'latest' });
  });

  it('leaves a history the user opened meanwhile open', () => {
    const store = createChatStore(client);
    store.getState().showHistory();
    store.getState().reopen('latest');
    expect(store.getState()).toMatchObject({ view: 'history', conversationId: null });
  });

  it('leaves a new chat the user asked for meanwhile new', () => {
    const store = createChatStore(client);
    store.getState().newChat();
    store.getState().reopen('latest');
    expect(store.getState().conversationId).toBeNull();
  });

  it('keeps a chat the user opened meanwhile', () => {
    const store = createChatStore(client);
    store.getState().open('opened');
    store.getState().reopen('latest');
    expect(store.getState().conversationId).toBe('opened');
  });

  it('keeps a chat the user started meanwhile, by sending a message before the latest was read', async () => {
    const sending = { request: async () => ({ ok: true, data: { conversationId: 'started' } }) } as unknown as BackgroundClient;
    const store = createChatStore(sending);
    expect(await store.getState().send('Hello')).toBe(true);
    store.getState().reopen('latest');
    expect(store.getState().conversationId).toBe('started');
  });
});
