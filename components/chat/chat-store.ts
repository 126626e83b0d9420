/** What the popup is doing right now. Stored data (conversations, messages) is read with useLiveQuery, not kept here. */
import { create } from 'zustand';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import type { PaceError, PaceEvent } from '@/lib/protocol';

export interface ChatState {
  /** The open conversation; null for a new, empty chat. */
  conversationId: string | null;
  view: 'chat' | 'history';
  /** Text of answers being streamed, as pushed by the background (ahead of the database). */
  live: Record<string, string>;
  notice: PaceError | null;
  /** `later`: as part of a Message Batch, at half price. */
  send: (text: string, later?: boolean) => Promise<boolean>;
  stop: (messageId: string) => Promise<void>;
  retry: (messageId: string) => Promise<void>;
  clearQueue: () => Promise<void>;
  /** Sends the next message through Anthropic's pause to ask again; the rest wait for its answer. */
  tryNow: () => Promise<void>;
  newChat: () => void;
  open: (conversationId: string) => void;
  showHistory: () => void;
  closeHistory: () => void;
  dismissNotice: () => void;
  receive(event: PaceEvent): void;
}

export function createChatStore(client: BackgroundClient) {
  let sendChain: Promise<void> = Promise.resolve();
  return create<ChatState>()((set, get) => ({
    conversationId: null,
    view: 'chat',
    live: {},
    notice: null,
    send(text, later = false) {
      // Sends go one after another, so a second message typed quickly joins the conversation the
      // first one created, in order, and none is dropped while another is on its way.
      const result = sendChain.then(async () => {
        set({ notice: null });
        const r = await client.request('chat.send', { conversationId: get().conversationId, text, ...(later ? { later } : {}) });
        if (r.ok) set({ conversationId: r.data.conversationId });
        else set({ notice: r.error });
        return r.ok;
      });
      sendChain = result.then(() => undefined);
      return result;
    },
    async stop(messageId) {
      const result = await client.request('chat.stop', { messageId });
      if (!result.ok) set({ notice: result.error });
    },
    async retry(messageId) {
      set((s) => ({ notice: null, live: withoutKey(s.live, messageId) }));
      const result = await client.request('chat.retry', { messageId });
      if (!result.ok) set({ notice: result.error });
    },
    async clearQueue() {
      const result = await client.request('queue.clear', {});
      if (!result.ok) set({ notice: result.error });
    },
    async tryNow() {
      const result = await client.request('queue.tryNow', {});
      if (!result.ok) set({ notice: result.error });
    },
    newChat() {
      set({ conversationId: null, view: 'chat', notice: null });
    },
    open(conversationId) {
      set({ conversationId, view: 'chat', notice: null });
    },
    showHistory() {
      set({ view: 'history' });
    },
    closeHistory() {
      set({ view: 'chat' });
    },
    dismissNotice() {
      set({ notice: null });
    },
    receive(event) {
      if (event.type === 'answer.progress') {
        set((s) => ({ live: { ...s.live, [event.messageId]: event.text } }));
      }
    },
  }));
}

export type ChatStore = ReturnType<typeof createChatStore>;

function withoutKey(record: Record<string, string>, key: string): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}
