/**
 * The IndexedDB schema: conversations and their messages. Opened by the background (which writes)
 * and by pages (which read with useLiveQuery; Dexie refreshes them when the background writes).
 * Only queried fields are indexed; message text never is. Version 2 adds the request queue and
 * the limiter's records; version 3 the response cache and the usage ledger with its totals;
 * version 4 indexes the ledger's outcome, so start-up finds the rows left in flight without reading
 * the month's rows; version 5 adds the Message Batches Pace sent (lib/batch/batch-store.ts); version 6 the
 * attachments' bytes (lib/attachments/).
 */
import Dexie, { type EntityTable } from 'dexie';
import type {
  AttachmentRef,
  Budget,
  Citation,
  GatewayBudgetRow,
  Limits,
  OtherDevices,
  PaceError,
  PromptTemplate,
  SpendState,
  ThinkingEffort,
  TokenLog,
  WebSource,
} from './rows';

export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  /** The model chosen for this conversation in the popup; absent: the options' model. */
  model?: string;
  /** Thinking effort chosen for this conversation; absent: off. */
  thinking?: ThinkingEffort;
  /** "Search the web" is on for this conversation's messages. */
  webSearch?: boolean;
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
  /** Answered from the response cache: nothing was sent and nothing counted. */
  fromCache?: boolean;
  /** Sent "later, half price" as part of a Message Batch (lib/batch/). */
  batch?: boolean;
  /** A user message's images and PDFs, sent before its text (the bytes are rows of `attachments`). */
  attachments?: AttachmentRef[];
  /** An answer's thinking, as the model streamed it (shown folded). */
  thinking?: string;
  /** Passages the answer cites (from an attached PDF, or the web). */
  citations?: Citation[];
  /** Pages the web search returned for this answer. */
  sources?: WebSource[];
  /** Web searches the server ran for this answer (`usage.server_tool_use.web_search_requests`). */
  webSearches?: number;
}

/** An attachment's bytes, beside its message: deleted with its conversation and by retention. */
export interface AttachmentRow extends AttachmentRef {
  conversationId: string;
  /** The user message it was sent with. */
  messageId: string;
  createdAt: number;
  blob: Blob;
}

/**
 * A request waiting for, or going through, the limiter. Its id is the id of the answer message it
 * produces. FIFO by `createdAt`; within a conversation one at a time.
 */
export type JobState =
  'queued' | 'waiting' | 'sending' | 'streaming' | 'done' | 'failed' | 'cancelled' | 'gathering' | 'batched';

export const ACTIVE_JOB_STATES: readonly JobState[] = [
  'queued',
  'waiting',
  'sending',
  'streaming',
  'gathering',
  'batched',
];

export interface Job {
  id: string;
  conversationId: string;
  state: JobState;
  createdAt: number;
  /** Requests sent for this job (each retry or resume is one more). */
  attempts: number;
  /** While `waiting`: when the limiter expects to let it go, and why it waits. */
  waitUntil?: number;
  waitReason?:
    'minute' | 'smooth' | 'month' | 'server' | 'inputTokens' | 'outputTokens' | 'backoff' | 'offline' | 'budget';
  /** Transient failures so far (overloaded, dropped, stalled...): at most MAX_ATTEMPTS tries. */
  failures?: number;
  /** Every attempt, with its outcome and the wait after it. */
  log?: Attempt[];
  /** Sent again once after a stopped worker cut it off. */
  resumed?: boolean;
  /** Ids of later jobs whose messages were combined into this job's request. */
  combined?: string[];
  /** Don't look in the response cache: "Ask again", or the cache was already checked and missed. */
  skipCacheLookup?: boolean;
  /** The usage ledger's row of the latest admitted send, written in flight when it was admitted. */
  usageId?: number;
  /**
   * Admitted and counted, its request not yet on the wire: set by the queue's admission until the
   * runner's last write before the request, and again while the wire gate (lib/queue/wire-gate.ts)
   * holds it for a 429's retry-after. A worker that stops meanwhile gives its count back at start-up.
   */
  unsent?: boolean;
  /** Sent "later, half price": `gathering` for the next batch, then `batched` in the batch `batchId`. */
  later?: boolean;
  batchId?: string;
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
  /** Who asked for the pause: a gateway's host; absent for Anthropic (and pauses saved before this was kept). */
  by?: string;
  /**
   * The popup's Try now lets one request through the pause to ask Anthropic again: 'allowed' until
   * admission lets it go, then 'used' by `probeJob` until its answer clears or replaces the pause.
   */
  probe?: 'allowed' | 'used';
  probeJob?: string;
}

/** One of the server's per-minute limits as its headers gave it: the limit, what remains, and when it is full again. */
export interface LimitFigure {
  limit: number;
  remaining: number;
  reset: number;
}

/**
 * What the server's rate-limit headers said last. The top-level figures are the requests'
 * (`anthropic-ratelimit-requests-*`); the token figures are present when the response carried them
 * (`anthropic-ratelimit-{tokens,input-tokens,output-tokens}-*`, or a gateway's `x-ratelimit-*`).
 */
export interface ServerLimits {
  limit: number;
  remaining: number;
  reset: number;
  observedAt: number;
  /**
   * When the response bringing them was read, if later than `observedAt` (which is dated from the
   * request's admission: lib/limits/token-store.ts): the latest moment the buckets were measured.
   */
  readAt?: number;
  /** Input and output together (`anthropic-ratelimit-tokens-*`, a gateway's `x-ratelimit-*-tokens`). */
  tokens?: LimitFigure;
  inputTokens?: LimitFigure;
  outputTokens?: LimitFigure;
  /** A gateway's host when a gateway's headers gave the figures; absent for Anthropic. */
  by?: string;
  /**
   * The response said nothing of requests, only of tokens: `limit`, `remaining` and `reset` hold
   * nothing (0, 0, the read's time) and no request figure is believed or shown.
   */
  noRequests?: true;
}

/** Which usage alerts were shown this month, and when Anthropic's refusals were last announced. */
export interface AlertState {
  month: string;
  fired: number[];
  refusedAt: number | null;
}

/** The spend budget's alerts shown this month and today (thresholds in percent). */
export interface BudgetAlertState {
  month: { month: string; fired: number[] };
  day: { month: string; fired: number[] };
}

export type Meta =
  | { key: 'limits'; value: Limits }
  | { key: 'pause'; value: Pause }
  | { key: 'server'; value: ServerLimits }
  /** Input and output tokens spent in the rolling minute (lib/limits/token-store.ts writes it). */
  | { key: 'tokens'; value: TokenLog }
  /** Total size of the response cache's answers, kept with every write so eviction needs no scan. */
  | { key: 'cacheBytes'; value: number }
  | { key: 'alerts'; value: AlertState }
  /** A team gateway's budget for the key, as lib/usage/gateway-budget.ts keeps it. */
  | { key: 'gatewayBudget'; value: GatewayBudgetRow }
  /** The spend budget (lib/limits/budget.ts), and what is spent and reserved against it. */
  | { key: 'budget'; value: Budget }
  | { key: 'spend'; value: SpendState }
  /** Which spend budget alerts were shown, per period. */
  | { key: 'budgetAlerts'; value: BudgetAlertState }
  /** The context menu's prompt templates (lib/reach/template-store.ts); absent: the defaults. */
  | { key: 'templates'; value: PromptTemplate[] }
  /** The other devices' month figures through browser sync (lib/sync/devices-store.ts). */
  | { key: 'devices'; value: OtherDevices };

export interface Attempt {
  at: number;
  /** 'ok', or the error code that ended it. */
  outcome: string;
  status?: number;
  /** How long the queue then waited before the next attempt. */
  waitMs?: number;
  /** Prompt tokens Anthropic's prompt cache read (the prefix came from it) and wrote, when it did either. */
  promptCache?: { readTokens: number; writtenTokens: number };
}

/** Token counts from the API's `usage` fields. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  /** Web searches the server ran (`usage.server_tool_use.web_search_requests`), priced per search; absent: none. */
  webSearches?: number;
}

/** A complete, successful answer kept for identical requests; `key` is a hash of the request. */
export interface CachedAnswer {
  key: string;
  createdAt: number;
  lastUsedAt: number;
  model: string;
  text: string;
  stopReason: string | null;
  usage: TokenUsage;
  /** Size of `text` in bytes (UTF-16), for the cache's size cap. */
  bytes: number;
}

/**
 * One row per attempt sent to the API, and one per answer served from the cache. Rows older than
 * the retention setting are pruned; the day and month totals below are not.
 */
export interface UsageRow {
  id?: number;
  at: number;
  model: string;
  conversationId: string;
  messageId: string;
  /**
   * 'ok', 'cache', or the error code that ended the attempt; 'sending' while the attempt is in
   * flight, 'interrupted' when a stopped worker cut it off (lib/usage/totals.ts).
   */
  outcome: string;
  status?: number;
  /** The API's error type (`overloaded_error`, ...) when it sent one. */
  errorType?: string;
  usage: TokenUsage;
  /** From sending to the first text; null when no text came. */
  ttftMs: number | null;
  totalMs: number;
  /** 1 for the first attempt at an answer, 2 for its first retry... */
  attempt: number;
  fromCache: boolean;
  /** Estimated from lib/usage/prices.ts; null when the model's price is unknown. 0 from the cache. */
  costUsd: number | null;
  /** 'gateway' when `costUsd` is the team gateway's own figure for the request (`x-litellm-response-cost`), not Pace's estimate. */
  costFrom?: 'gateway';
  /** With `costFrom: 'gateway'`: Pace's own figure at list prices (null when unknown), which the spend budget never counts below. */
  listCostUsd?: number | null;
  /** For a cache hit: what the original answer cost, i.e. what the cache saved. */
  savedUsd?: number | null;
  /** The prompt's part of `costUsd` (input, cache writes and reads); null when unknown, absent in older rows. */
  inputCostUsd?: number | null;
  /** What Anthropic's prompt cache saved on this request (lib/usage/prices.ts costBreakdown); null when unknown. */
  promptCacheSavedUsd?: number | null;
  /** A request of a Message Batch: its cost is at the batch price (half). */
  batch?: boolean;
  /**
   * The answer came without usage Pace could believe (none at all, or a results file too large to
   * read): what it cost is unknown, and the spend budget counts its worst case, as for a send cut off.
   */
  usageUnknown?: boolean;
}

/**
 * A Message Batch Pace sent (lib/batch/batch-lifecycle.ts names its states): `creating` from the
 * moment its requests are counted until the API has answered the create, `running` while Pace
 * polls it, `cancelling` after the user cancelled it, `ended` once every answer is placed.
 */
export interface BatchRow {
  id: string;
  state: 'creating' | 'running' | 'cancelling' | 'ended';
  createdAt: number;
  /** The API's id, once the create has answered. */
  apiId?: string;
  /** Its requests: `custom_id` is the job's (and answer's) id. */
  requests: { jobId: string; conversationId: string; model: string; usageId: number }[];
  /** Polls made so far, and when the next one is due. */
  polls: number;
  nextPollAt?: number;
  /** Calls that failed in a row (the retry rules of lib/queue/retry-policy.ts). */
  failures?: number;
  /** Why the last call failed, for the popup. */
  lastError?: string;
  endedAt?: number;
  /**
   * The base URL and the key (lib/key/key-fingerprint.ts: a fingerprint, never the key) it was
   * created with: it is polled and read only there. Absent in batches made before they were kept.
   */
  baseURL?: string;
  keyId?: string;
  /** Pace holds its polls: the key or the base URL saved now is not the one it was sent with. */
  elsewhere?: boolean;
}

/** Sums over a set of usage rows: a local day (`2026-11-27`) or a month (`utc:2026-11`, `local:2026-11`). */
export interface UsageTotals {
  requests: number;
  ok: number;
  errors: number;
  rateLimited: number;
  cacheHits: number;
  inputTokens: number;
  outputTokens: number;
  cacheTokens: number;
  costUsd: number;
  /** Rows whose cost is unknown (model not in the price table). */
  unknownCost: number;
  savedUsd: number;
  /** What Anthropic's prompt cache saved (absent in totals written before it was counted). */
  promptCacheSavedUsd?: number;
  /** Web searches run and what they cost (absent in totals written before searches were counted). */
  webSearches?: number;
  webSearchUsd?: number;
  /** Histograms of total time and time to first token, bucketed by lib/usage/totals.ts. */
  latency: number[];
  ttft: number[];
}

export interface UsageDay extends UsageTotals {
  day: string;
}

export interface UsageMonth extends UsageTotals {
  month: string;
  /** Estimated cost per conversation id this month. */
  conversations: Record<string, number>;
  /** The prompt's part of that cost per conversation id (absent in months written before it was counted). */
  conversationsInput?: Record<string, number>;
}

export class PaceDB extends Dexie {
  conversations!: EntityTable<Conversation, 'id'>;
  messages!: EntityTable<ChatMessage, 'id'>;
  jobs!: EntityTable<Job, 'id'>;
  counters!: EntityTable<Counter, 'key'>;
  meta!: EntityTable<Meta, 'key'>;
  cache!: EntityTable<CachedAnswer, 'key'>;
  usage!: EntityTable<UsageRow, 'id'>;
  usageDays!: EntityTable<UsageDay, 'day'>;
  usageMonths!: EntityTable<UsageMonth, 'month'>;
  batches!: EntityTable<BatchRow, 'id'>;
  attachments!: EntityTable<AttachmentRow, 'id'>;

  /**
   * Told the table's name as each write is made in this context, before it is carried out: what
   * was read ahead of a send (lib/queue/read-ahead.ts) knows at once that it may be out of date.
   */
  readonly writeWatchers = new Set<(table: string) => void>();

  constructor(name = 'pace', options: { durability?: 'default' | 'strict' | 'relaxed' } = {}) {
    super(name, options.durability ? { chromeTransactionDurability: options.durability } : {});
    this.use({
      stack: 'dbcore',
      name: 'write-watch',
      create: (down) => ({
        ...down,
        table: (tableName) => {
          const table = down.table(tableName);
          return {
            ...table,
            mutate: (req) => {
              for (const watcher of this.writeWatchers) watcher(tableName);
              return table.mutate(req);
            },
          };
        },
      }),
    });
    this.version(1).stores({
      conversations: 'id, updatedAt',
      messages: 'id, [conversationId+createdAt], status',
    });
    this.version(2).stores({
      jobs: 'id, state, createdAt',
      counters: 'key',
      meta: 'key',
    });
    this.version(3).stores({
      cache: 'key, lastUsedAt',
      usage: '++id, at',
      usageDays: 'day',
      usageMonths: 'month',
    });
    this.version(4).stores({
      usage: '++id, at, outcome',
    });
    this.version(5).stores({
      batches: 'id, state',
    });
    this.version(6).stores({
      attachments: 'id, messageId, conversationId, createdAt',
    });
  }
}

/** A conversation's messages in the order they were written (the compound index's range). */
export function messagesOf(db: PaceDB, conversationId: string) {
  return db.messages
    .where('[conversationId+createdAt]')
    .between([conversationId, -Infinity], [conversationId, Infinity]);
}

let shared: PaceDB | null = null;

/** The database of this extension context, opened on first use. */
export function getDb(): PaceDB {
  shared ??= new PaceDB();
  return shared;
}
