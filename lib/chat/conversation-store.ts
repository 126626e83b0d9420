/**
 * Reads and writes conversations and messages; their jobs are read and written through
 * lib/queue/job-store.ts only (a streaming answer's text too: its `checkpoint`). Every function
 * takes the database, so tests pass a fresh one (fake-indexeddb) and the background passes its own.
 */
import type { ChatMessage, Conversation, PaceDB } from '../storage/db';
import { messagesOf } from '../storage/db';
import {
  addAttachmentsInTx,
  deleteAttachmentsInTx,
  readAttachmentData,
  type NewAttachment,
} from '../attachments/attachment-store';
import type { ChatSettings, ContextTurn } from '../claude/request';
import type { ThinkingEffort } from '../storage/rows';
import { forgetAnswersInTx } from '../cache/response-cache';
import { busyConversations, enqueueInTx, removeForConversationsInTx } from '../queue/job-store';
import type { Settings } from '../settings/validate';
import { conversationProblem, messageProblem, readable, type SkippedRow } from '../storage/row-guards';

const TITLE_CHARS = 60;

export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0]?.replace(/\s+/g, ' ') ?? '';
  return line.length > TITLE_CHARS ? `${line.slice(0, TITLE_CHARS - 1)}…` : line || 'New chat';
}

export interface NewExchange {
  conversationId: string;
  userMessageId: string;
  assistantMessageId: string;
}

/**
 * Stores the user's message, an empty pending answer and its queued job in one transaction,
 * creating the conversation when `conversationId` is null. The message is safe on disk before
 * anything is sent.
 */
export async function addExchange(
  db: PaceDB,
  input: {
    conversationId: string | null;
    text: string;
    now: number;
    newId: () => string;
    /** The new rows' ids, when the caller chose them (a request on its way already names the job); else from `newId`. */
    ids?: { conversationId: string; userMessageId: string; assistantMessageId: string };
    model: string;
    /** A model the user chose for this conversation, kept on it for its later messages. */
    chosenModel?: string;
    /** Gathered for a Message Batch ("later, half price") rather than queued to go at once. */
    later?: boolean;
    /** The message's images and PDFs, checked (lib/attachments/attachment-check.ts): stored beside it. */
    attachments?: readonly NewAttachment[];
    /** A new conversation's thinking effort and web search switch (an existing one keeps its own). */
    options?: { thinking?: ThinkingEffort; webSearch?: boolean };
  },
): Promise<NewExchange> {
  const attachments = input.attachments ?? [];
  // The reads go out together and so do the writes: each await is a round trip, and the user waits for the first word.
  return db.transaction('rw', [db.conversations, db.messages, db.jobs, db.attachments], async () => {
    let conversationId = input.conversationId;
    let last = 0;
    let written: Promise<unknown>;
    if (conversationId !== null) {
      const [existing, newest] = await Promise.all([
        db.conversations.get(conversationId),
        messagesOf(db, conversationId).last(),
      ]);
      if (!existing) throw new Error(`Conversation ${conversationId} does not exist.`);
      last = newest?.createdAt ?? 0;
      const chosen = input.chosenModel === undefined ? {} : { model: input.chosenModel };
      written = db.conversations.update(conversationId, { updatedAt: input.now, ...chosen });
    } else {
      conversationId = input.ids?.conversationId ?? input.newId();
      const chosen = input.chosenModel === undefined ? {} : { model: input.chosenModel };
      written = db.conversations.add({
        id: conversationId,
        title: titleFrom(input.text),
        createdAt: input.now,
        updatedAt: input.now,
        ...chosen,
        ...(input.options?.thinking && input.options.thinking !== 'off' ? { thinking: input.options.thinking } : {}),
        ...(input.options?.webSearch ? { webSearch: true } : {}),
      });
    }
    // Strictly increasing times keep the order of messages even within one millisecond.
    const userAt = Math.max(input.now, last + 1);
    const userMessageId = input.ids?.userMessageId ?? input.newId();
    const assistantMessageId = input.ids?.assistantMessageId ?? input.newId();
    const refs = attachments.length > 0 ? { attachments: attachments.map((a) => a.ref) } : {};
    const added = db.messages.bulkAdd([
      { id: userMessageId, conversationId, role: 'user', text: input.text, createdAt: userAt, status: 'done', ...refs },
      {
        id: assistantMessageId,
        conversationId,
        role: 'assistant',
        text: '',
        createdAt: userAt + 1,
        status: 'pending',
        model: input.model,
      },
    ]);
    await Promise.all([
      written,
      added,
      addAttachmentsInTx(db, { conversationId, messageId: userMessageId, now: input.now }, attachments),
      enqueueInTx(db, { id: assistantMessageId, conversationId, createdAt: userAt + 1 }, input.later),
    ]);
    return { conversationId, userMessageId, assistantMessageId };
  });
}

/** A conversation's messages, oldest first; unreadable rows are left out and reported (see row-guards). */
export async function loadMessages(
  db: PaceDB,
  conversationId: string,
): Promise<{ messages: ChatMessage[]; skipped: SkippedRow[] }> {
  const rows = await messagesOf(db, conversationId).toArray();
  const { rows: messages, skipped } = readable<ChatMessage>('messages', rows, messageProblem);
  return { messages, skipped };
}

export async function conversationMessages(db: PaceDB, conversationId: string): Promise<ChatMessage[]> {
  return (await loadMessages(db, conversationId)).messages;
}

/** The most recently updated conversations; unreadable rows are left out and reported. */
export async function loadConversations(
  db: PaceDB,
  limit = 50,
): Promise<{ conversations: Conversation[]; skipped: SkippedRow[] }> {
  const rows = await db.conversations.orderBy('updatedAt').reverse().limit(limit).toArray();
  const { rows: conversations, skipped } = readable<Conversation>('conversations', rows, conversationProblem);
  return { conversations, skipped };
}

export async function recentConversations(db: PaceDB, limit = 50): Promise<Conversation[]> {
  return (await loadConversations(db, limit)).conversations;
}

/** The text already there stays (a resumed answer) until the new stream replaces it. */
export async function markStreaming(db: PaceDB, id: string, model: string, demo: boolean): Promise<void> {
  await db.messages.update(id, { status: 'streaming', error: undefined, stopReason: null, model, demo });
}

/**
 * The message list sent to the API for the answer `answerId`: every earlier exchange that got an
 * answer, then the question it answers. Consecutive questions (combined into one request, or
 * left unanswered) form one user turn, their attachments before the text; exchanges whose answer
 * failed empty are left out, so roles always alternate and start with the user. Earlier answers are
 * their text only (their thinking and search blocks are not sent back, as the API allows).
 * Attachments are references here: `withAttachmentData` adds their bytes.
 */
export function buildContext(messages: ChatMessage[], answerId: string): ContextTurn[] {
  const ordered = [...messages].sort((a, b) => a.createdAt - b.createdAt);
  const at = ordered.findIndex((m) => m.id === answerId);
  if (at < 0 || ordered[at]!.role !== 'assistant') throw new Error('There is no such answer.');
  const turns: ContextTurn[] = [];
  let asked: ChatMessage[] = [];
  const question = (): ContextTurn => {
    const attached = asked.flatMap((m) => m.attachments ?? []);
    return {
      role: 'user',
      content: asked.map((m) => m.text).join('\n\n'),
      ...(attached.length > 0 ? { attachments: attached } : {}),
    };
  };
  for (const m of ordered.slice(0, at)) {
    if (m.role === 'user') {
      asked.push(m);
    } else if (m.text.trim() !== '' && asked.length > 0) {
      turns.push(question(), { role: 'assistant', content: m.text.trimEnd() });
      asked = [];
    } else {
      // An answer that failed empty: its question is left out with it.
      asked = [];
    }
  }
  if (asked.length === 0) throw new Error('The answer has no question before it.');
  turns.push(question());
  return turns;
}

/**
 * The turns with their attachments' bytes read as base64 (lib/attachments/attachment-store.ts); a
 * conversation without attachments is returned as it is, with no read.
 */
export async function withAttachmentData(db: PaceDB, turns: ContextTurn[]): Promise<ContextTurn[]> {
  const wanted = turns.flatMap((t) => (t.attachments ?? []).filter((a) => a.data === undefined).map((a) => a.id));
  if (wanted.length === 0) return turns;
  const data = await readAttachmentData(db, wanted);
  return turns.map((t) =>
    t.attachments ? { ...t, attachments: t.attachments.map((a) => ({ ...a, data: a.data ?? data.get(a.id) })) } : t,
  );
}

/** The context of the answer `answerId` with its attachments' bytes: what a request is built from. */
export async function requestContext(db: PaceDB, messages: ChatMessage[], answerId: string): Promise<ContextTurn[]> {
  return withAttachmentData(db, buildContext(messages, answerId));
}

/**
 * The settings a conversation's requests go with: the options' settings, with the model, the
 * thinking effort and the web search chosen for it.
 */
export async function settingsFor(db: PaceDB, settings: Settings, conversationId: string): Promise<ChatSettings> {
  const conversation = await db.conversations.get(conversationId);
  return conversation ? chatSettingsOf(settings, conversation) : settings;
}

/** The settings with a conversation's own choices (`settingsFor` once its row is read). */
export function chatSettingsOf(
  settings: Settings,
  conversation: Pick<Conversation, 'model' | 'thinking' | 'webSearch'>,
): ChatSettings {
  return {
    ...settings,
    ...(typeof conversation.model === 'string' && conversation.model !== '' ? { model: conversation.model } : {}),
    ...(conversation.thinking && conversation.thinking !== 'off' ? { thinking: conversation.thinking } : {}),
    ...(conversation.webSearch === true ? { webSearch: true } : {}),
  };
}

const MAX_TITLE_CHARS = 200;

/** A title as typed: one line, trimmed, 1 to MAX_TITLE_CHARS characters. */
export function checkTitle(input: string): { ok: true; value: string } | { ok: false; message: string } {
  const title = input.replace(/\s+/g, ' ').trim();
  if (title === '') return { ok: false, message: 'Type a name for the chat.' };
  if (title.length > MAX_TITLE_CHARS) {
    return {
      ok: false,
      message: `A chat's name can be at most ${MAX_TITLE_CHARS} characters (this one has ${title.length}).`,
    };
  }
  return { ok: true, value: title };
}

/** Renames a conversation; false when there is none with that id. The title must have passed `checkTitle`. */
export async function renameConversation(db: PaceDB, id: string, title: string): Promise<boolean> {
  return (await db.conversations.update(id, { title })) === 1;
}

/** Keeps `model` for the conversation's next messages; false when there is none with that id. */
export async function chooseModel(db: PaceDB, id: string, model: string): Promise<boolean> {
  return (await db.conversations.update(id, { model })) === 1;
}

/**
 * Keeps the thinking effort and the web search switch for the conversation's next messages (an
 * absent one is left as it is); the conversation's choices after, or null when there is none with that id.
 */
export async function setConversationOptions(
  db: PaceDB,
  id: string,
  options: { thinking?: ThinkingEffort; webSearch?: boolean },
): Promise<{ thinking: ThinkingEffort; webSearch: boolean } | null> {
  return db.transaction('rw', db.conversations, async () => {
    const row = await db.conversations.get(id);
    if (!row) return null;
    const thinking = options.thinking ?? row.thinking ?? 'off';
    const webSearch = options.webSearch ?? row.webSearch === true;
    await db.conversations.update(id, {
      thinking: thinking === 'off' ? undefined : thinking,
      webSearch: webSearch ? true : undefined,
    });
    return { thinking, webSearch };
  });
}

/**
 * Deletes conversations with everything that holds their text: their messages, their attachments, their jobs and the
 * cached answers they got. The usage ledger keeps its rows and totals, which hold ids, counts and
 * costs but no text. Stop the answers in flight first (the runner's later writes to a deleted row
 * change nothing). Returns how many conversations went.
 */
export async function deleteConversations(db: PaceDB, conversationIds: readonly string[]): Promise<number> {
  const ids = new Set(conversationIds);
  if (ids.size === 0) return 0;
  return db.transaction('rw', [db.conversations, db.messages, db.jobs, db.cache, db.meta, db.attachments], async () => {
    const messages = (await Promise.all([...ids].map((id) => messagesOf(db, id).toArray()))).flat();
    const answers = new Set(messages.filter((m) => m.role === 'assistant' && m.text !== '').map((m) => m.text));
    const existing = (await db.conversations.bulkGet([...ids])).filter((c) => c !== undefined).length;
    await forgetAnswersInTx(db, answers);
    await db.messages.bulkDelete(messages.map((m) => m.id));
    await deleteAttachmentsInTx(db, [...ids]);
    await removeForConversationsInTx(db, ids);
    await db.conversations.bulkDelete([...ids]);
    return existing;
  });
}

/** Every conversation's id, for "Delete all". */
export async function allConversationIds(db: PaceDB): Promise<string[]> {
  return db.conversations.toCollection().primaryKeys();
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The chat retention: deletes conversations untouched for `keepDays` days (null keeps them
 * forever), except one with a message still queued or in flight. Returns how many went.
 */
export async function pruneConversations(db: PaceDB, now: number, keepDays: number | null): Promise<number> {
  if (keepDays === null) return 0;
  // One transaction from the reads to the delete: a message sent meanwhile into an old chat keeps it.
  return db.transaction('rw', [db.conversations, db.messages, db.jobs, db.cache, db.meta, db.attachments], async () => {
    const old = await db.conversations
      .where('updatedAt')
      .below(now - keepDays * DAY_MS)
      .primaryKeys();
    if (old.length === 0) return 0;
    const busy = await busyConversations(db);
    return deleteConversations(
      db,
      old.filter((id) => !busy.has(id)),
    );
  });
}

/**
 * Conversations whose title or any message contains `query` (case and accents aside), most
 * recently updated first; an empty query gives the most recent ones. Unreadable rows are left out
 * and reported.
 */
export async function searchConversations(
  db: PaceDB,
  query: string,
  limit = 50,
): Promise<{ conversations: Conversation[]; skipped: SkippedRow[] }> {
  const needle = fold(query.trim());
  if (needle === '') return loadConversations(db, limit);
  const rows = await db.conversations.orderBy('updatedAt').reverse().toArray();
  const { rows: conversations, skipped } = readable<Conversation>('conversations', rows, conversationProblem);
  const matching = new Set<string>();
  await db.messages.each((m) => {
    if (typeof m.text === 'string' && fold(m.text).includes(needle)) matching.add(m.conversationId);
  });
  const found = conversations.filter((c) => matching.has(c.id) || fold(c.title).includes(needle));
  return { conversations: found.slice(0, limit), skipped };
}

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** One conversation and its messages, for an export; null when it is gone. */
export async function loadConversation(
  db: PaceDB,
  id: string,
): Promise<{ conversation: Conversation; messages: ChatMessage[] } | null> {
  const [conversation, { messages }] = await Promise.all([db.conversations.get(id), loadMessages(db, id)]);
  return conversation && conversationProblem(conversation) === null ? { conversation, messages } : null;
}

/** Every conversation with its messages, most recent first, for "Export all". */
export async function loadAllConversations(
  db: PaceDB,
): Promise<{ conversation: Conversation; messages: ChatMessage[] }[]> {
  return db.transaction('r', db.conversations, db.messages, async () => {
    const rows = await db.conversations.orderBy('updatedAt').reverse().toArray();
    const { rows: conversations } = readable<Conversation>('conversations', rows, conversationProblem);
    return Promise.all(
      conversations.map(async (conversation) => ({
        conversation,
        messages: (await loadMessages(db, conversation.id)).messages,
      })),
    );
  });
}

/** One conversation's row (its title and chosen model); null when it is gone or unreadable. */
export async function readConversation(db: PaceDB, id: string): Promise<Conversation | null> {
  const row = await db.conversations.get(id);
  return row && conversationProblem(row) === null ? row : null;
}

/** The bytes (base64) of every attachment in these conversations, for a JSON export that includes them. */
export async function exportAttachmentData(
  db: PaceDB,
  all: readonly { messages: ChatMessage[] }[],
): Promise<Map<string, string>> {
  const ids = all.flatMap(({ messages }) => messages.flatMap((m) => (m.attachments ?? []).map((a) => a.id)));
  return readAttachmentData(db, ids);
}
