/**
 * The IndexedDB schema: conversations and their messages. Opened by the background (which writes)
 * and by pages (which read with useLiveQuery; Dexie refreshes them when the background writes).
 * Only queried fields are indexed; message text never is. Version 2 adds the request queue and
 * the limiter's records.
 */
import Dexie, { type EntityTable } from 'dexie';
import type { Limits } from '../limits/plans';
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
  /** Set when the answer was cut off by a stopped worker and sent again automatically. */
  resumed?: boolean;
  /** Every attempt at this answer (copied from its job), so the user can see why it took long. */
  attempts?: Attempt[];
}

/**
 * A request waiting for, or going through, the limiter. Its id is the id of the answer message it
 * produces. FIFO by `createdAt`; within a conversation one at a time.
 */
export type JobState = 'queued' | 'waiting' | 'sending' | 'streaming' | 'done' | 'failed' | 'cancelled';

export const ACTIVE_JOB_STATES: readonly JobState[] = ['queued', 'waiting', 'sending', 'streaming'];

export interface Job {
  id: string;
  conversationId: string;
  state: JobState;
  createdAt: number;
  /** Requests sent for this job (each retry or resume is one more). */
  attempts: number;
  /** While `waiting`: when the limiter expects to let it go, and why it waits. */
  waitUntil?: number;
  waitReason?: 'minute' | 'smooth' | 'month' | 'server' | 'backoff' | 'offline';
  /** Transient failures so far (overloaded, dropped, stalled...): at most MAX_ATTEMPTS tries. */
  failures?: number;
  /** Every attempt, with its outcome and the wait after it. */
  log?: Attempt[];
  /** Sent again once after a stopped worker cut it off. */
  resumed?: boolean;
  /** Ids of later jobs whose messages were combined into this job's request. */
  combined?: string[];
}

/**
 * Requests sent in a month, by key (`utc:2026-11`, `local:2026-11`); the row `recent` holds the
 * times of the sends still inside the rolling minute.
 */
export interface Counter {
  key: string;
  count: number;
  times?: number[];
}

/** The whole queue is held back until `until`: Anthropic asked to wait, or the spend cap is reached. */
export interface Pause {
  until: number;
  reason: 'rate_limited' | 'spend_limit';
  message: string;
}

/** What Anthropic's rate-limit headers said last (`anthropic-ratelimit-requests-*`). */
export interface ServerLimits {
  limit: number;
  remaining: number;
  reset: number;
  observedAt: number;
}

export type Meta = { key: 'limits'; value: Limits } | { key: 'pause'; value: Pause } | { key: 'server'; value: ServerLimits };

export interface Attempt {
  at: number;
  /** 'ok', or the error code that ended it. */
  outcome: string;
  status?: number;
  /** How long the queue then waited before the next attempt. */
  waitMs?: number;
}

export class PaceDB extends Dexie {
  conversations!: EntityTable<Conversation, 'id'>;
  messages!: EntityTable<ChatMessage, 'id'>;
  jobs!: EntityTable<Job, 'id'>;
  counters!: EntityTable<Counter, 'key'>;
  meta!: EntityTable<Meta, 'key'>;

  constructor(name = 'pace', options: { durability?: 'default' | 'strict' | 'relaxed' } = {}) {
    super(name, options.durability ? { chromeTransactionDurability: options.durability } : {});
    this.version(1).stores({
      conversations: 'id, updatedAt',
      messages: 'id, [conversationId+createdAt], status',
    });
    this.version(2).stores({
      jobs: 'id, state, createdAt',
      counters: 'key',
      meta: 'key',
    });
  }
}

let shared: PaceDB | null = null;

/** The database of this extension context, opened on first use. */
export function getDb(): PaceDB {
  shared ??= new PaceDB();
  return shared;
}
