/**
 * The IndexedDB schema: conversations and their messages. Opened by the background (which writes)
 * and by pages (which read with useLiveQuery; Dexie refreshes them when the background writes).
 * Only queried fields are indexed; message text never is.
 */
import Dexie, { type EntityTable } from 'dexie';
import type { PaceError } from '../protocol';

export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * An assistant message moves pending -> streaming -> done | error | stopped; `interrupted` marks
 * one cut off when the background stopped mid-answer. A user message is always `done`.
 */
export type MessageStatus = 'pending' | 'streaming' | 'done' | 'error' | 'stopped' | 'interrupted';

export interface ChatMessage {
  id: string;
  conversationId: string;
  role: 'user' | 'assistant';
  text: string;
  createdAt: number;
  status: MessageStatus;
  error?: PaceError;
  model?: string;
  stopReason?: string | null;
  usage?: { inputTokens: number; outputTokens: number };
  /** Set when the answer came from the local demo backend, not Claude. */
  demo?: boolean;
}

export class PaceDB extends Dexie {
  conversations!: EntityTable<Conversation, 'id'>;
  messages!: EntityTable<ChatMessage, 'id'>;

  constructor(name = 'pace') {
    super(name);
    this.version(1).stores({
      conversations: 'id, updatedAt',
      messages: 'id, [conversationId+createdAt], status',
    });
  }
}

let shared: PaceDB | null = null;

/** The database of this extension context, opened on first use. */
export function getDb(): PaceDB {
  shared ??= new PaceDB();
  return shared;
}
