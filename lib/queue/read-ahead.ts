/**
 * What a new message needs read before its request can leave (the key, the settings, the
 * conversation, the limits, the windows, the budget, the queue, the cache's keys), read ahead while
 * the user types (`chat.prepare`), so that Enter finds it read. What was read is only used while
 * nothing it covers can have changed: every write in this worker (PaceDB.writeWatchers), every
 * write another context announces (Dexie's storagemutated) and every change to the extension's
 * storage but the draft make it out of date, and it is then read again. A send that finds nothing
 * current reads the same things itself (`readForSend`), in one read-only transaction.
 *
 * This is only a head start: the send's own transaction reads and checks everything again, and
 * admits the request only if the decision taken on these reads still holds (lib/queue/send-at-once.ts).
 */
import Dexie from 'dexie';
import { chatSettingsOf, conversationMessages } from '../chat/conversation-store';
import type { Credentials } from '../claude/client';
import type { PromptCacheMode } from '../claude/prompt-cache';
import type { WindowState } from '../limits/admission';
import { dayWindow } from '../limits/budget';
import { loadSpend, type LoadedSpend } from '../limits/budget-store';
import { monthWindow } from '../limits/month-window';
import { readQuotaState } from '../limits/limiter-store';
import type { Limits } from '../storage/rows';
import type { Settings } from '../settings/validate';
import type { ChatSettings } from '../claude/request';
import type { ChatMessage, Job, PaceDB } from '../storage/db';
import { activeJobs } from './job-store';
import { jobProblem, readable } from '../storage/row-guards';

export interface SendReads {
  creds: (Credentials & { demo: boolean }) | null;
  /** False when the conversation asked for does not exist (a new chat: true). */
  conversationFound: boolean;
  /** The options' settings. */
  settings: Settings;
  /** The conversation's: the options' with its own model, thinking and web search, when it has them. */
  chatSettings: ChatSettings;
  /** The conversation's messages so far. */
  earlier: ChatMessage[];
  /** The response cache's lifetime in hours; 0 when it is off. */
  cacheHours: number;
  /** The base URL's remembered prompt cache mode. */
  storedMode: PromptCacheMode | undefined;
  limits: Limits;
  state: WindowState;
  spent: LoadedSpend;
  /** Every job not yet ended, each a readable row. */
  active: Job[];
  /** The keys of the answers in the response cache; null when the cache is off. */
  cacheKeys: Set<string> | null;
  /** When they were read: the month's count and the day's and month's spend are those of that day. */
  at: number;
}

/** Whether reads made at `reads.at` still hold at `now`: a day or month turned since resets what they counted. */
export function sameDay(reads: Pick<SendReads, 'at' | 'limits'>, now: number): boolean {
  return (
    dayWindow(reads.at).key === dayWindow(now).key &&
    monthWindow(reads.at, reads.limits.monthStart).key === monthWindow(now, reads.limits.monthStart).key
  );
}

export interface SendReadDeps {
  db: PaceDB;
  now: () => number;
  credentials: () => Promise<(Credentials & { demo: boolean }) | null>;
  settings: () => Promise<Settings>;
  usagePrefs?: () => Promise<{ cacheHours: number }>;
  promptCacheMode?: (baseURL: string) => Promise<PromptCacheMode | undefined>;
}

/**
 * Reads what a send needs: the storage items together, the database in one read-only transaction.
 * `cacheKeys`: the response cache's keys as read before, when the cache was not written since.
 */
export async function readForSend(
  deps: SendReadDeps,
  conversationId: string | null,
  cacheKeys?: Set<string> | null,
): Promise<SendReads> {
  const { db } = deps;
  const t = deps.now();
  const creds = deps.credentials();
  const [found, settings, cacheHours, storedMode, rows] = await Promise.all([
    creds,
    deps.settings(),
    deps.usagePrefs ? deps.usagePrefs().then((p) => p.cacheHours) : 0,
    creds.then((c) => (c && deps.promptCacheMode ? deps.promptCacheMode(c.baseURL) : undefined)),
    db.transaction(
      'r',
      [db.counters, db.meta, db.jobs, db.conversations, db.messages, db.usageMonths, db.usageDays, db.cache],
      () =>
        Promise.all([
          readQuotaState(db, t),
          loadSpend(db, t),
          activeJobs(db),
          conversationId === null ? null : db.conversations.get(conversationId),
          conversationId === null ? [] : conversationMessages(db, conversationId),
          deps.usagePrefs && !cacheKeys ? db.cache.toCollection().primaryKeys() : null,
        ]),
    ),
  ]);
  const [{ limits, state }, spent, jobs, conversation, earlier, keys] = rows;
  return {
    creds: found,
    conversationFound: conversationId === null || conversation !== undefined,
    settings,
    chatSettings: conversation ? chatSettingsOf(settings, conversation) : settings,
    earlier,
    cacheHours,
    storedMode,
    limits,
    state,
    spent,
    active: readable<Job>('jobs', jobs, jobProblem).rows,
    cacheKeys: cacheHours <= 0 ? null : (cacheKeys ?? (keys ? new Set(keys) : null)),
    at: t,
  };
}

/** Reads taken for one send, and whether they are still current (nothing they cover was written since they were read). */
interface TakenReads {
  reads: Promise<SendReads>;
  current: () => boolean;
}

export interface ReadAhead {
  /** A page's message box is in use for this conversation: read what its send will need, unless that is already read and current. Resolves once read. */
  prepare(conversationId: string | null): Promise<unknown>;
  /** The reads for a send to this conversation: those read ahead if current, else read now. */
  take(conversationId: string | null): TakenReads;
  /** Something the reads cover changed: a write to `table`, or (none named) the settings or the key. */
  changed(table?: string): void;
}

/** How long after a page last asked the reads are kept current (read again after each write). */
const WANTED_MS = 5 * 60 * 1000;
/** Reads again this long after the last write, so the writes of one step cause one read. */
const SETTLE_MS = 50;

/** The tables of `database` a Dexie storagemutated event names (its parts are keyed `idb://<database>/<table>/...`). */
function mutatedTables(parts: Record<string, unknown>, database: string): string[] {
  return Object.keys(parts).flatMap((key) => {
    const [, name, table] = /^idb:\/\/([^/]*)\/([^/]*)/.exec(key) ?? [];
    return name === database && table !== undefined ? [table] : [];
  });
}

export function createReadAhead(
  deps: SendReadDeps & { setTimer?: (run: () => void, ms: number) => unknown; clearTimer?: (timer: unknown) => void },
): ReadAhead {
  const setTimer = deps.setTimer ?? ((run, ms) => setTimeout(run, ms));
  const clearTimer = deps.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  /** Counts the changes: reads are current while it has not moved since they started. */
  let generation = 0;
  /** The same, for the response cache alone: its keys (many) are read again only when it was written. */
  let cacheGeneration = 0;
  let held: { conversationId: string | null; generation: number; reads: Promise<SendReads> } | null = null;
  let cacheKeys: { generation: number; keys: Promise<Set<string> | null> } | null = null;
  let wantedAt = -Infinity;
  let timer: unknown = null;

  const read = (conversationId: string | null) => {
    const known = cacheKeys?.generation === cacheGeneration ? cacheKeys : null;
    const reads = (known?.keys ?? Promise.resolve(null)).then((keys) => readForSend(deps, conversationId, keys));
    if (!known) {
      const entry = { generation: cacheGeneration, keys: reads.then((r) => r.cacheKeys) };
      cacheKeys = entry;
      // A failed read keeps nothing: the next one reads the keys again.
      entry.keys.catch(() => cacheKeys === entry && (cacheKeys = null));
    }
    return reads;
  };
  /** Reads for `conversationId`, held for the next send; a failed read ahead is only a lost head start, and is not kept. */
  const hold = (conversationId: string | null) => {
    const entry = { conversationId, generation, reads: read(conversationId) };
    held = entry;
    entry.reads.catch(() => held === entry && (held = null));
    return entry;
  };
  const current = (at: number) => () => generation === at;

  function changed(table?: string): void {
    generation += 1;
    if (table === undefined || table === 'cache') cacheGeneration += 1;
    if (!held || deps.now() - wantedAt > WANTED_MS) return;
    if (timer !== null) clearTimer(timer);
    const conversationId = held.conversationId;
    timer = setTimer(() => {
      timer = null;
      if (held?.conversationId === conversationId && held.generation !== generation) hold(conversationId);
    }, SETTLE_MS);
  }

  deps.db.writeWatchers.add(changed);
  // Another context's writes, announced after they are made: the send's own transaction checks again anyway.
  Dexie.on('storagemutated', (parts) => {
    for (const table of new Set(mutatedTables(parts, deps.db.name))) changed(table);
  });

  return {
    prepare(conversationId) {
      wantedAt = deps.now();
      const entry =
        held && held.conversationId === conversationId && held.generation === generation ? held : hold(conversationId);
      return entry.reads.catch(() => undefined);
    },
    take(conversationId) {
      const found = held && held.conversationId === conversationId && held.generation === generation ? held : null;
      // The send writes what was read: the next one reads again.
      held = found === null ? held : { ...found, generation: -1 };
      // A read ahead that failed is made again, by the send, which reports what fails.
      if (found) return { reads: found.reads.catch(() => read(conversationId)), current: current(found.generation) };
      const at = generation;
      return { reads: read(conversationId), current: current(at) };
    },
    changed,
  };
}
