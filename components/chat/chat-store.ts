/** What the popup is doing right now. Stored data (conversations, messages) is read with useLiveQuery, not kept here. */
import { create } from 'zustand';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import type { PaceEvent, ReplyOf } from '@/lib/protocol';
import type { PaceError, ThinkingEffort } from '@/lib/storage/rows';
import { pagePrompt, type PageAttachment } from '@/lib/reach/page-text';
import { MAX_ATTACHMENTS } from '@/lib/attachments/attachment-limits';
import { toPayload, type PendingAttachment } from '../attachments/pending';

/** A conversation's thinking effort and web search switch. */
export interface ChatOptions {
  thinking: ThinkingEffort;
  webSearch: boolean;
}
export type SendPreview = ReplyOf<'chat.preview'>;

export interface ChatState {
  /** The open conversation; null for a new, empty chat. */
  conversationId: string | null;
  view: 'chat' | 'history';
  /** Text of answers being streamed, as pushed by the background (ahead of the database). */
  live: Record<string, string>;
  /** Thinking of answers being streamed, when the model thinks (shown folded). */
  liveThinking: Record<string, string>;
  /** Images and PDFs for the next message; kept when its send fails. */
  pending: PendingAttachment[];
  /** Files being read (and images made smaller) for the next message. */
  attaching: number;
  /** Why the last files chosen could not go (shown under the box until the next choice). */
  refused: string[];
  /** Thinking and search for the new chat's first message (an open chat keeps its own, stored). */
  options: ChatOptions;
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
  /** `later`: as part of a Message Batch, at half price. The pending attachments go with it. */
  send: (text: string, later?: boolean) => Promise<boolean>;
  /** Files chosen, pasted or dropped: read, images made smaller, and added to the next message (or refused with why). */
  attach: (files: File[]) => Promise<void>;
  /** The visible part of the current tab, as a PNG data URL from tabs.captureVisibleTab, with the tab's title. */
  screenshot: (capture: () => Promise<{ dataUrl: string; title: string }>) => Promise<void>;
  /** Takes one pending attachment off the next message. */
  detach: (key: string) => void;
  /** Thinking or search for the open conversation (kept at once) or the new chat's first message. */
  chooseOptions: (options: Partial<ChatOptions>) => Promise<void>;
  /** What the message as typed would cost and what would stop it; null when it could not be asked. */
  preview: (text: string, options: ChatOptions) => Promise<SendPreview | null>;
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
    liveThinking: {},
    pending: [],
    attaching: 0,
    refused: [],
    options: NO_OPTIONS,
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
      const { conversationId: typedIn, model, page, pending, options } = get();
      const at = moves;
      // The attachments go with this message only: taken off the list at Enter, so a second message
      // sent before this one is accepted does not carry them again; given back if it is refused.
      if (pending.length > 0) set({ pending: [], refused: [] });
      const result = sendChain.then(async () => {
        set({ notice: null });
        // Typed in a new chat: the chat an earlier message typed there has started, if one has.
        const conversationId = typedIn ?? started.get(at) ?? null;
        const r = await client.request('chat.send', {
          conversationId,
          text: page ? pagePrompt(page, text) : text,
          ...(conversationId === null && model !== null ? { model } : {}),
          ...(later ? { later } : {}),
          ...(pending.length > 0 ? { attachments: pending.map(toPayload) } : {}),
          ...(conversationId === null && options.thinking !== 'off' ? { thinking: options.thinking } : {}),
          ...(conversationId === null && options.webSearch ? { webSearch: true } : {}),
        });
        if (r.ok) {
          if (typedIn === null) started.set(at, r.data.conversationId);
          for (const a of pending) revoke(a);
          // A New chat or another chat chosen since Enter stays on screen, and the next message goes there.
          set({
            ...(moves === at ? { conversationId: r.data.conversationId } : {}),
            page: get().page === page ? null : get().page,
            // The new chat now keeps its options; a new chat opened since keeps the choices made in it.
            ...(typedIn === null && moves === at ? { options: NO_OPTIONS } : {}),
          });
        } else set((s) => ({ notice: r.error, pending: [...pending, ...s.pending] }));
        return r.ok;
      });
      sendChain = result.then(() => undefined);
      return result;
    },
    async attach(files) {
      if (files.length === 0) return;
      set((s) => ({ attaching: s.attaching + files.length, refused: [] }));
      let refused: string[] = [];
      try {
        // Loaded on the first attachment: the popup opens without it.
        const { prepareFiles } = await import('../attachments/prepare-file');
        refused = await prepareFiles(files, (a) => {
          if (get().pending.length >= MAX_ATTACHMENTS) return false;
          set((s) => ({ pending: [...s.pending, a] }));
          return true;
        });
      } catch (err) {
        refused = [`The files could not be read: ${err instanceof Error ? err.message : String(err)}`];
      } finally {
        set((s) => ({ attaching: s.attaching - files.length, refused: [...s.refused, ...refused] }));
      }
    },
    async screenshot(capture) {
      try {
        const shot = await capture();
        const { screenshotFile } = await import('../attachments/prepare-file');
        await get().attach([await screenshotFile(shot.dataUrl, shot.title)]);
      } catch (err) {
        set({ refused: [captureRefusal(err instanceof Error ? err.message : String(err))] });
      }
    },
    detach(key) {
      const gone = get().pending.find((a) => a.key === key);
      if (gone) revoke(gone);
      set((s) => ({ pending: s.pending.filter((a) => a.key !== key) }));
    },
    async chooseOptions(options) {
      const conversationId = get().conversationId;
      if (conversationId === null) {
        set((s) => ({ options: { ...s.options, ...options } }));
        return;
      }
      const result = await client.request('conversation.setOptions', { conversationId, ...options });
      if (!result.ok) set({ notice: result.error });
    },
    async preview(text, options) {
      const { conversationId, model, pending, page } = get();
      const r = await client.request('chat.preview', {
        conversationId,
        text: page ? pagePrompt(page, text) : text,
        ...(conversationId === null && model !== null ? { model } : {}),
        ...(pending.length > 0 ? { attachments: pending.map(toPayload) } : {}),
        ...(options.thinking !== 'off' ? { thinking: options.thinking } : {}),
        ...(options.webSearch ? { webSearch: true } : {}),
      });
      return r.ok ? r.data : null;
    },
    async stop(messageId) {
      const result = await client.request('chat.stop', { messageId });
      if (!result.ok) set({ notice: result.error });
    },
    async retry(messageId) {
      set((s) => ({
        notice: null,
        live: withoutKey(s.live, messageId),
        liveThinking: withoutKey(s.liveThinking, messageId),
      }));
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
      set({ conversationId: null, view: 'chat', notice: null, model: null, options: NO_OPTIONS });
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
      else set({ conversationId: null, model: null, live: {}, liveThinking: {} });
      return result.ok;
    },
    receive(event) {
      if (event.type === 'answer.progress') {
        const { messageId, thinking } = event;
        set((s) => ({
          live: { ...s.live, [messageId]: event.text },
          ...(thinking !== undefined ? { liveThinking: { ...s.liveThinking, [messageId]: thinking } } : {}),
        }));
      } else if (event.type === 'composer.fill') {
        set({ fill: { text: event.text, at: Date.now() }, view: 'chat' });
      } else if (event.type === 'notice') {
        set({ notice: event.error });
      }
    },
  }));
}

export type ChatStore = ReturnType<typeof createChatStore>;

const NO_OPTIONS: ChatOptions = { thinking: 'off', webSearch: false };

function revoke(a: PendingAttachment): void {
  if (a.url) URL.revokeObjectURL(a.url);
}

function withoutKey(record: Record<string, string>, key: string): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}

/** Why the tab could not be captured, in the user's terms rather than the browser's. */
function captureRefusal(reason: string): string {
  if (/activeTab|all_urls|permission/i.test(reason))
    return "Pace may take a picture of the tab only right after you click its toolbar button: click Pace's button, then Screenshot this tab.";
  if (/cannot access|chrome:|edge:|about:|moz-extension:|chrome-extension:|webstore|addons\.mozilla/i.test(reason))
    return 'This tab cannot be captured: the browser keeps its own pages (settings, new tab, extension stores) private.';
  return `The tab could not be captured: ${reason}`;
}
