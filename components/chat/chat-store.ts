/** What the popup is doing right now. Stored data (conversations, messages) is read with useLiveQuery, not kept here. */
import { create } from 'zustand';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import type { PaceEvent } from '@/lib/protocol';
import type { PaceError } from '@/lib/storage/rows';
import { pagePrompt, type PageAttachment } from '@/lib/reach/page-text';

export interface ChatState {
  /** The open conversation; null for a new, empty chat. */
  conversationId: string | null;
  view: 'chat' | 'history';
  /** Text of answers being streamed, as pushed by the background (ahead of the database). */
  live: Record<string, string>;
  notice: PaceError | null;
  /** The model picked for the new chat before its first message; null: the options' model. */
  model: string | null;
  /** The page read by "Ask about this page", sent with the next message; `reading` while it is read. */
  page: PageAttachment | null;
  reading: boolean;
  /** Text the background put in the message box (a quoted selection); `at` tells one fill from the next. */
  fill: { text: string; at: number } | null;
  /** Reads the open tab's main text and shows what it would cost; the next message takes it along. */
  askAboutPage: () => Promise<void>;
  dropPage: () => void;
  /** `later`: as part of a Message Batch, at half price. */
  send: (text: string, later?: boolean) => Promise<boolean>;
  /** The user is typing: the background reads ahead what sending to this conversation needs (at most every PREPARE_MS). */
  prepare: () => void;
  /** The popup opened: shows the most recent chat, unless the user chose what to show meanwhile. */
  reopen: (conversationId: string) => void;
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
  /** The model for the open conversation's next messages (or the new chat's first). */
  chooseModel: (model: string) => Promise<void>;
  /** Resolves to null when renamed, else what was wrong (shown next to the name). */
  rename: (conversationId: string, title: string) => Promise<PaceError | null>;
  deleteChat: (conversationId: string) => Promise<boolean>;
  deleteAllChats: () => Promise<boolean>;
  receive(event: PaceEvent): void;
}

/** How often typing asks the background to read ahead for the send; it keeps what it read current by itself. */
const PREPARE_MS = 250;

export function createChatStore(client: BackgroundClient) {
  let sendChain: Promise<void> = Promise.resolve();
  let prepared: { conversationId: string | null; at: number } | null = null;
  /** The user chose what to show (a new chat, a chat, the history): the popup's reopening of its latest chat then leaves it. */
  let chosen = false;
  /** Counts the user's moves to another chat (New chat, a chat opened): a send's reply shows its chat only if none came meanwhile. */
  let moves = 0;
  /** The chat a message typed in a new chat started, by the count of moves when it was typed. */
  const started = new Map<number, string>();
  return create<ChatState>()((set, get) => ({
    conversationId: null,
    view: 'chat',
    live: {},
    notice: null,
    model: null,
    page: null,
    reading: false,
    fill: null,
    async askAboutPage() {
      set({ reading: true, notice: null });
      const { conversationId, model } = get();
      const r = await client.request(
        'page.read',
        conversationId === null ? { conversationId, model } : { conversationId },
      );
      set(r.ok ? { page: r.data, reading: false } : { notice: r.error, reading: false });
    },
    dropPage() {
      set({ page: null });
    },
    prepare() {
      const { conversationId } = get();
      const at = Date.now();
      if (prepared?.conversationId === conversationId && at - prepared.at < PREPARE_MS) return;
      prepared = { conversationId, at };
      // Only a head start: a send that finds nothing read ahead reads for itself.
      void client.request('chat.prepare', { conversationId });
    },
    send(text, later = false) {
      // Sends go one after another, so a second message typed quickly joins the conversation the
      // first one created, in order, and none is dropped while another is on its way. Each goes to
      // the chat it was typed in, read at Enter: a New chat (or another chat) chosen while earlier
      // messages wait their turn takes the messages typed after it, not those typed before.
      const { conversationId: typedIn, model, page } = get();
      const at = moves;
      const result = sendChain.then(async () => {
        set({ notice: null });
        // Typed in a new chat: the chat an earlier message typed there has started, if one has.
        const conversationId = typedIn ?? started.get(at) ?? null;
        const r = await client.request('chat.send', {
          conversationId,
          text: page ? pagePrompt(page, text) : text,
          ...(conversationId === null && model !== null ? { model } : {}),
          ...(later ? { later } : {}),
        });
        if (r.ok) {
          if (typedIn === null) started.set(at, r.data.conversationId);
          // A New chat or another chat chosen since Enter stays on screen, and the next message goes there.
          set({
            ...(moves === at ? { conversationId: r.data.conversationId } : {}),
            page: get().page === page ? null : get().page,
          });
        } else set({ notice: r.error });
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
      chosen = true;
      moves += 1;
      set({ conversationId: null, view: 'chat', notice: null, model: null });
    },
    open(conversationId) {
      chosen = true;
      moves += 1;
      set({ conversationId, view: 'chat', notice: null });
    },
    reopen(conversationId) {
      // Whatever the user chose meanwhile stays: a new chat, a chat opened or started (a message
      // sent before this read), the history.
      if (chosen) return;
      set((s) => (s.conversationId === null ? { conversationId } : {}));
    },
    showHistory() {
      chosen = true;
      set({ view: 'history' });
    },
    closeHistory() {
      set({ view: 'chat' });
    },
    dismissNotice() {
      set({ notice: null });
    },
    async chooseModel(model) {
      const conversationId = get().conversationId;
      if (conversationId === null) {
        set({ model });
        return;
      }
      const result = await client.request('conversation.chooseModel', { conversationId, model });
      if (!result.ok) set({ notice: result.error });
    },
    async rename(conversationId, title) {
      const result = await client.request('conversation.rename', { conversationId, title });
      return result.ok ? null : result.error;
    },
    async deleteChat(conversationId) {
      const result = await client.request('conversation.delete', { conversationId });
      if (!result.ok) set({ notice: result.error });
      // The open chat is gone: the screen starts a new one.
      else if (get().conversationId === conversationId) set({ conversationId: null, model: null });
      return result.ok;
    },
    async deleteAllChats() {
      const result = await client.request('conversation.deleteAll', {});
      if (!result.ok) set({ notice: result.error });
      else set({ conversationId: null, model: null, live: {} });
      return result.ok;
    },
    receive(event) {
      if (event.type === 'answer.progress') {
        set((s) => ({ live: { ...s.live, [event.messageId]: event.text } }));
      } else if (event.type === 'composer.fill') {
        set({ fill: { text: event.text, at: Date.now() }, view: 'chat' });
      } else if (event.type === 'notice') {
        set({ notice: event.error });
      }
    },
  }));
}

export type ChatStore = ReturnType<typeof createChatStore>;

function withoutKey(record: Record<string, string>, key: string): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}
