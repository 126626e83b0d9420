import { describe, expect, it, vi } from 'vitest';
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
    const sending = {
      request: async () => ({ ok: true, data: { conversationId: 'started' } }),
    } as unknown as BackgroundClient;
    const store = createChatStore(sending);
    expect(await store.getState().send('Hello')).toBe(true);
    store.getState().reopen('latest');
    expect(store.getState().conversationId).toBe('started');
  });
});

describe('a New chat chosen while a message is on its way', () => {
  it('stays on screen when the reply comes, and the next message starts a chat of its own', async () => {
    const sends: (string | null)[] = [];
    let reply: () => void = () => undefined;
    const slow = {
      request: (_type: string, payload: { conversationId: string | null }) => {
        sends.push(payload.conversationId);
        const id = `chat-${sends.length}`;
        return sends.length === 1
          ? new Promise((resolve) => (reply = () => resolve({ ok: true, data: { conversationId: id } })))
          : Promise.resolve({ ok: true, data: { conversationId: id } });
      },
    } as unknown as BackgroundClient;
    const store = createChatStore(slow);
    const first = store.getState().send('First');
    await vi.waitFor(() => expect(sends).toHaveLength(1));
    store.getState().newChat();
    const second = store.getState().send('Second');
    reply();
    expect(await first).toBe(true);
    expect(await second).toBe(true);
    // The second went to a new chat, not the first's, and it is the one on screen.
    expect(sends).toEqual([null, null]);
    expect(store.getState().conversationId).toBe('chat-2');
  });

  it('a second message typed without changing chats still joins the chat the first created', async () => {
    const sends: (string | null)[] = [];
    const quick = {
      request: (_type: string, payload: { conversationId: string | null }) => {
        sends.push(payload.conversationId);
        return Promise.resolve({ ok: true, data: { conversationId: 'chat-1' } });
      },
    } as unknown as BackgroundClient;
    const store = createChatStore(quick);
    await Promise.all([store.getState().send('First'), store.getState().send('Second')]);
    expect(sends).toEqual([null, 'chat-1']);
  });
});

describe('messages typed while earlier ones wait their turn', () => {
  it('each goes to the chat it was typed in, whatever the user chose before its turn came', async () => {
    const sends: (string | null)[] = [];
    const replies: (() => void)[] = [];
    const slow = {
      request: (_type: string, payload: { conversationId: string | null }) => {
        sends.push(payload.conversationId);
        const id = payload.conversationId ?? `chat-${sends.length}`;
        return new Promise((resolve) => replies.push(() => resolve({ ok: true, data: { conversationId: id } })));
      },
    } as unknown as BackgroundClient;
    const store = createChatStore(slow);
    // The first starts a chat; the second is typed in that same new chat before the first's reply.
    const first = store.getState().send('First');
    const second = store.getState().send('Second, same chat');
    // Then a New chat, and a third typed there, while both still wait.
    store.getState().newChat();
    const third = store.getState().send('Third, in the new chat');
    await vi.waitFor(() => expect(sends).toHaveLength(1));
    replies.shift()!();
    await vi.waitFor(() => expect(sends).toHaveLength(2));
    replies.shift()!();
    await vi.waitFor(() => expect(sends).toHaveLength(3));
    replies.shift()!();
    expect(await Promise.all([first, second, third])).toEqual([true, true, true]);
    // The second joined the first's chat; the third started one of its own, and that one is on screen.
    expect(sends).toEqual([null, 'chat-1', null]);
    expect(store.getState().conversationId).toBe('chat-3');
  });
});
