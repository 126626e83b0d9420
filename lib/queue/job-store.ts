/**
 * The one writer of the `jobs` table: every move of a job from one state to the next is a named
 * operation here (admit, start, checkpoint, finish, fail, stop, wait, requeue, cancel, clear,
 * retry, combine, recover, ...), and each checks its move against the table in ./job-states.ts: a
 * move the table does not allow writes nothing. An operation's own test (only an unsent job is
 * cancelled) narrows the table, never widens it. Where an answer's message must change with its
 * job, both are written in one transaction. Other modules read jobs through the readers here.
 * Every function takes the database, so tests pass a fresh one (fake-indexeddb). An ESLint rule
 * (eslint.config.js) keeps every other module from writing `jobs`.
 */
import type { Citation, PaceError, WebSource } from '../storage/rows';
import {
  ACTIVE_JOB_STATES,
  messagesOf,
  type Attempt,
  type ChatMessage,
  type Job,
  type JobState,
  type MessageStatus,
  type PaceDB,
} from '../storage/db';
import { isJob, jobProblem, messageProblem, readable } from '../storage/row-guards';
import { releaseSendInTx } from '../limits/limiter-store';
import { dropJobTokensInTx } from '../limits/token-store';
import { endStrandedUsage, releaseUnsentUsage, settleUsage } from '../usage/ledger-store';
import { INTERRUPTED } from '../usage/totals';
import { canMove, isFinished, isInFlight, isUnsent, isWaiting, UNSENT_STATES } from './job-states';

/** Whether a job in state `s`, one `among` those the operation acts on, may make its move to `to`. */
const may = (s: JobState, to: JobState, among: (s: JobState) => boolean) => among(s) && canMove(s, to);

/** Every job not yet ended (unsent, gathered, batched or in flight), as stored: check each with isJob or readable. */
export const activeJobs = (db: PaceDB): Promise<Job[]> =>
  db.jobs
    .where('state')
    .anyOf(ACTIVE_JOB_STATES as string[])
    .toArray();

/** The ids and states of the jobs of these conversations that are not yet ended. */
export async function activeJobsOf(
  db: PaceDB,
  conversationIds: readonly string[],
): Promise<{ id: string; state: string }[]> {
  const ids = new Set(conversationIds);
  return (await activeJobs(db)).filter((j) => ids.has(j.conversationId)).map((j) => ({ id: j.id, state: j.state }));
}

/** The conversations with a job not yet ended. */
export const busyConversations = async (db: PaceDB): Promise<Set<string>> =>
  new Set((await activeJobs(db)).map((j) => j.conversationId));

/** Clears a job's wait (its time and reason) in a `jobs.update`, as every move out of waiting does. */
const NOT_WAITING = { waitUntil: undefined, waitReason: undefined };

/**
 * The job of a new answer, at the back of the queue, or (`later`) gathered for the next Message
 * Batch. Call inside the caller's transaction on `jobs` (see addExchange).
 */
export async function enqueueInTx(
  db: PaceDB,
  job: Pick<Job, 'id' | 'conversationId' | 'createdAt'>,
  later = false,
): Promise<void> {
  await db.jobs.add({
    id: job.id,
    conversationId: job.conversationId,
    state: later ? 'gathering' : 'queued',
    createdAt: job.createdAt,
    attempts: 0,
    ...(later ? { later: true } : {}),
  });
}

/**
 * A gathered job goes into the batch `batchId`, counted with the ledger row `usageId`. Call inside
 * the transaction that counts it (lib/batch/batch-store.ts `openBatch`), which read `job` in it.
 */
export async function batchInTx(db: PaceDB, job: Job, batchId: string, usageId: number): Promise<void> {
  if (!canMove(job.state, 'batched')) throw new Error(`A ${job.state} job cannot go into a batch.`);
  await db.jobs.update(job.id, { state: 'batched', batchId, usageId, attempts: job.attempts + 1, ...NOT_WAITING });
}

/**
 * Batched jobs whose batch was never created (the create failed, or a restart cut it off) are
 * gathered again, held until `until` when the retry rules say to wait. Call inside the
 * transaction that releases their count.
 */
export async function regatherInTx(db: PaceDB, ids: string[], until?: number): Promise<void> {
  await db.jobs
    .where('id')
    .anyOf(ids)
    .and((j) => may(j.state, 'gathering', (s) => s === 'batched'))
    .modify((j) => {
      j.state = 'gathering';
      delete j.batchId;
      delete j.usageId;
      if (until === undefined) {
        delete j.waitUntil;
        delete j.waitReason;
      } else {
        j.waitUntil = until;
        j.waitReason = 'backoff';
      }
    });
}

/**
 * A note on the questions still batched among `ids`, shown in place of "Batched" (why their batch
 * waits), or taken off (`note` undefined). Call inside the transaction that moves their batch.
 */
export async function noteBatchedInTx(db: PaceDB, ids: string[], note: PaceError | undefined): Promise<void> {
  const batched = (await db.jobs.where('id').anyOf(ids).toArray())
    .filter((j) => j.state === 'batched')
    .map((j) => j.id);
  await db.messages.where('id').anyOf(batched).modify({ error: note });
}

/**
 * The limiter admitted a send of `job`: it becomes `sending`, one attempt more, with its ledger row.
 * Call inside the admitting transaction (lib/limits/admit.ts `admitRequest`, for the queue and
 * the send at once alike), which read `job` in it. `unsent`: its request does not leave on this
 * commit but after the runner's reads and writes (the queue's way), and is marked so until then.
 */
export async function admitInTx(db: PaceDB, job: Job, usageId: number | undefined, unsent = false): Promise<void> {
  if (!canMove(job.state, 'sending')) throw new Error(`A ${job.state} job cannot be sent.`);
  await db.jobs.update(job.id, {
    state: 'sending',
    attempts: job.attempts + 1,
    usageId,
    ...NOT_WAITING,
    ...(unsent ? { unsent: true } : {}),
  });
}

/** The limiter or the network holds these jobs back: each one still waiting is marked with why, and until when. */
export async function wait(db: PaceDB, ids: string[], why: Pick<Job, 'waitReason' | 'waitUntil'>): Promise<void> {
  await db.jobs
    .where('id')
    .anyOf(ids)
    .and((j) => may(j.state, 'waiting', isWaiting))
    .modify({ state: 'waiting', waitReason: why.waitReason, waitUntil: why.waitUntil });
}

/** The response cache was asked for this job and had nothing: it is not asked again while the job waits. */
export async function skipCacheLookup(db: PaceDB, id: string): Promise<void> {
  await db.jobs
    .where('id')
    .equals(id)
    .and((j) => isUnsent(j.state))
    .modify({ skipCacheLookup: true });
}

/**
 * The admitted job's request has not left (`unsent`: it waits at the wire gate for a 429's
 * retry-after), or is about to, with nothing else written before it (not unsent). Written only
 * while it is `sending`.
 */
export async function markUnsent(db: PaceDB, id: string, unsent: boolean): Promise<void> {
  await db.jobs
    .where('id')
    .equals(id)
    .and((j) => j.state === 'sending')
    .modify((j: Job) => {
      if (unsent) j.unsent = true;
      else delete j.unsent;
    });
}

/**
 * A queued job's runner is done reading and its request goes next: `markAnswer` (its answer shows
 * as streaming: lib/chat/conversation-store.ts `markStreaming`) and the job's unsent mark going are
 * one transaction, so a worker that stops here leaves both or neither (`recover`).
 */
export async function readyForTheWire(db: PaceDB, id: string, markAnswer: () => Promise<unknown>): Promise<void> {
  await db.transaction('rw', db.jobs, db.messages, async () => {
    await Promise.all([markAnswer(), markUnsent(db, id, false)]);
  });
}

/** The request was accepted and the answer starts arriving. */
export async function start(db: PaceDB, id: string): Promise<void> {
  await db.jobs
    .where('id')
    .equals(id)
    .and((j) => canMove(j.state, 'streaming'))
    .modify({ state: 'streaming' });
}

/**
 * The answer streaming so far is kept, as the runner saves it every so often: what changed of its
 * text, thinking, citations and sources (`saved`, only those fields given), written only while its
 * job streams (a job stopped, ended or deleted meanwhile keeps what it has). A resumed answer keeps
 * the text of its cut-off attempt until new text comes: thinking alone does not replace it.
 */
export async function checkpoint(
  db: PaceDB,
  id: string,
  saved: string | Partial<Pick<ChatMessage, 'text' | 'thinking' | 'citations' | 'sources'>>,
): Promise<void> {
  const patch = typeof saved === 'string' ? { text: saved } : saved;
  if (Object.keys(patch).length === 0) return;
  await db.transaction('rw', db.jobs, db.messages, async () => {
    if ((await db.jobs.get(id))?.state === 'streaming') await db.messages.update(id, patch);
  });
}

/**
 * Answers a waiting job from the response cache: done, nothing sent. False, with nothing written,
 * if it no longer waits (cancelled, or taken meanwhile).
 */
export async function serveFromCache(
  db: PaceDB,
  id: string,
  at: number,
  answer: Partial<ChatMessage>,
): Promise<boolean> {
  return db.transaction('rw', db.jobs, db.messages, async () => {
    const current = await db.jobs.get(id);
    if (!current || !may(current.state, 'done', isUnsent)) return false;
    const log = [...(current.log ?? []), { at, outcome: 'cache' }];
    await db.jobs.update(id, { state: 'done', ...NOT_WAITING, log });
    await db.messages.update(id, { ...answer, attempts: log });
    return true;
  });
}

type EndState = Extract<JobState, 'done' | 'failed' | 'cancelled'>;
export interface EndedAnswer {
  status: MessageStatus;
  text?: string;
  error?: PaceError;
  stopReason?: string | null;
  usage?: { inputTokens: number; outputTokens: number };
  model?: string;
  /** The answer came (or failed) through a Message Batch. */
  batch?: boolean;
  /**
   * What the answer thought, cited and found on the web, and the searches it ran. Unlike the fields
   * above, undefined here is written (Dexie deletes the field): a complete answer never keeps the
   * thinking or sources of an attempt before it. Leave the key out to keep what is there.
   */
  thinking?: string;
  citations?: Citation[];
  sources?: WebSource[];
  webSearches?: number;
}

/** EndedAnswer's fields written even when undefined (cleared): see there. */
const CLEARED_WHEN_UNDEFINED = new Set(['error', 'thinking', 'citations', 'sources', 'webSearches']);

/**
 * Ends a job and its answer together (`finish`, `fail` and `stop` name the three ends). A job the
 * table does not let end so (already ended) is left as it is, and so is its answer.
 */
async function end(db: PaceDB, id: string, state: EndState, message: EndedAnswer, attempt?: Attempt): Promise<void> {
  // Absent fields are left as they are (Dexie deletes a field set to undefined): an answer that
  // failed before any new text keeps the text it had. `error: undefined` is meant: it clears the
  // note a retry left.
  const patch = Object.fromEntries(
    Object.entries(message).filter(([k, v]) => v !== undefined || CLEARED_WHEN_UNDEFINED.has(k)),
  );
  await db.transaction('rw', db.jobs, db.messages, async () => {
    const job = await db.jobs.get(id);
    if (isJob(job) && !canMove(job.state, state)) return;
    const log = attempt ? [...(job?.log ?? []), attempt] : job?.log;
    await db.jobs.update(id, { state, ...NOT_WAITING, log });
    await db.messages.update(id, { ...patch, attempts: log });
  });
}

export const finish = (db: PaceDB, id: string, message: EndedAnswer, attempt?: Attempt) =>
  end(db, id, 'done', message, attempt);
export const fail = (db: PaceDB, id: string, message: EndedAnswer, attempt?: Attempt) =>
  end(db, id, 'failed', message, attempt);
/** The user stopped the answer in flight. */
export const stop = (db: PaceDB, id: string, message: EndedAnswer, attempt?: Attempt) =>
  end(db, id, 'cancelled', message, attempt);

/**
 * Puts a job in flight back at its place in the queue (it keeps its age, so it goes first), to wait
 * as `patch` says; its text stays on screen. Nothing is written if it is no longer in flight.
 */
export async function requeue(
  db: PaceDB,
  id: string,
  text: string,
  error: PaceError,
  attempt: Attempt,
  patch: Partial<Job>,
): Promise<void> {
  await db.transaction('rw', db.jobs, db.messages, async () => {
    const current = await db.jobs.get(id);
    if (!current || !may(current.state, 'waiting', isInFlight)) return;
    const log = [...(current.log ?? []), attempt];
    await db.jobs.update(id, { state: 'waiting', waitUntil: undefined, log, ...patch });
    await db.messages.update(id, { status: 'pending', error, attempts: log, ...(text ? { text } : {}) });
  });
}

/**
 * Whether the answer's job may be retried: finished, and still the one the caller saw (`seen`,
 * read before: another retry may have queued it since). Null `seen`: there was no readable job.
 */
export async function canRetry(
  db: PaceDB,
  id: string,
  seen?: Pick<Job, 'createdAt' | 'attempts'> | null,
): Promise<boolean> {
  const found = await db.jobs.get(id);
  // A damaged job row is no obstacle: the retry writes a fresh one.
  const job = isJob(found) ? found : undefined;
  if (job && !may(job.state, 'queued', isFinished)) return false;
  return seen === undefined || (job?.createdAt === seen?.createdAt && job?.attempts === seen?.attempts);
}

/**
 * Clears an answer and queues its job again, at the back of the queue: a retry is a new request.
 * Null, with nothing written, unless `canRetry` holds in the same transaction, so one click makes
 * one request whatever the timing.
 */
export async function retry(
  db: PaceDB,
  id: string,
  now: number,
  seen?: Pick<Job, 'createdAt' | 'attempts'> | null,
): Promise<ChatMessage | null> {
  return db.transaction('rw', db.messages, db.jobs, async () => {
    const message = await db.messages.get(id);
    if (!message || message.role !== 'assistant') throw new Error('Only an answer can be retried.');
    if (!(await canRetry(db, id, seen))) return null;
    const job = await db.jobs.get(id);
    await db.messages.update(id, {
      status: 'pending',
      text: '',
      error: undefined,
      stopReason: null,
      resumed: undefined,
      fromCache: undefined,
      batch: undefined,
      thinking: undefined,
      citations: undefined,
      sources: undefined,
      webSearches: undefined,
    });
    await db.jobs.put({
      id,
      conversationId: message.conversationId,
      state: 'queued',
      createdAt: now,
      attempts: isJob(job) ? job.attempts : 0,
      // Retry and "Ask again" want a new answer: the cache is not asked.
      skipCacheLookup: true,
    });
    return { ...message, status: 'pending', text: '' };
  });
}

/** Cancels a job that has not been sent (queued, or gathered for a batch): it is not counted. False if it was already on its way. */
export async function cancel(db: PaceDB, id: string): Promise<boolean> {
  return db.transaction('rw', db.messages, db.jobs, async () => {
    const job = await db.jobs.get(id);
    if (!job || !may(job.state, 'cancelled', isUnsent)) return false;
    await db.jobs.update(id, { state: 'cancelled', ...NOT_WAITING });
    await db.messages.update(id, {
      status: 'stopped',
      error: {
        code: 'cancelled',
        message: 'Cancelled before it was sent: not counted against your limits.',
        action: 'retry',
      },
    });
    return true;
  });
}

/** Cancels every job that has not been sent yet; returns how many. */
export async function clear(db: PaceDB): Promise<number> {
  // One transaction for the lot: open pages see the queue empty at once, not job by job.
  return db.transaction('rw', db.messages, db.jobs, async () => {
    const waiting = await db.jobs.where('state').anyOf(UNSENT_STATES).primaryKeys();
    let cancelled = 0;
    for (const id of waiting) if (await cancel(db, id)) cancelled += 1;
    return cancelled;
  });
}

/**
 * Folds the later waiting messages of the job's conversation into its request (one user turn,
 * one answer), to save quota. Their answer placeholders are removed and the answer moves after
 * the last of them. Returns the ids folded in.
 */
export async function combine(db: PaceDB, job: Job): Promise<string[]> {
  return db.transaction('rw', db.messages, db.jobs, async () => {
    const later = readable<Job>('jobs', await db.jobs.where('state').anyOf('queued', 'waiting').toArray(), jobProblem)
      .rows.filter(
        (j) =>
          j.conversationId === job.conversationId && j.createdAt > job.createdAt && may(j.state, 'done', isWaiting),
      )
      .sort((a, b) => a.createdAt - b.createdAt);
    if (later.length === 0) return [];
    const ids = later.map((j) => j.id);
    const rows = await messagesOf(db, job.conversationId).toArray();
    const messages = readable<ChatMessage>('messages', rows, messageProblem).rows;
    const lastQuestion = messages.filter((m) => m.role === 'user' && m.createdAt < later.at(-1)!.createdAt).at(-1)!;
    for (const id of ids) {
      await db.jobs.update(id, { state: 'done', ...NOT_WAITING });
      await db.messages.delete(id);
    }
    await db.messages.update(job.id, { createdAt: lastQuestion.createdAt + 0.5 });
    await db.jobs.update(job.id, { combined: [...(job.combined ?? []), ...ids] });
    return ids;
  });
}

/** How far back start-up looks for ledger rows left in flight without a reservation: a month and a day. */
const STRANDED_SCAN_MS = 32 * 24 * 60 * 60 * 1000;

/**
 * After the background restarts: a job cut off while sending or streaming is sent again once
 * (its answer keeps the text received, marked resumed); a second cut-off fails it, text kept.
 * Either way the ledger row of the send that was cut off, still in flight, becomes 'interrupted';
 * so does any other row left in flight (lib/usage/ledger-store.ts `endStrandedUsage`). A job cut
 * off before its request left (marked `unsent`: between the queue's admission and the runner's
 * last write, or held at the wire gate) never sent it: its count, its ledger row and its tokens
 * are given back and it is queued again as it was, so the send counted is the one that leaves.
 */
export async function recover(db: PaceDB, now = Date.now()): Promise<{ resumed: string[]; failed: string[] }> {
  return db.transaction(
    'rw',
    [db.messages, db.jobs, db.usage, db.usageDays, db.usageMonths, db.meta, db.counters],
    async () => {
      const cut = readable<Job>(
        'jobs',
        await db.jobs.where('state').anyOf('sending', 'streaming').toArray(),
        jobProblem,
      ).rows;
      const resumed: string[] = [];
      const failed: string[] = [];
      for (const job of cut) {
        if (job.state === 'sending' && job.unsent && (await giveBackUnsent(db, job))) continue;
        if (!canMove(job.state, job.resumed ? 'failed' : 'queued')) continue;
        if (job.usageId !== undefined) await settleUsage(db, job.usageId, { outcome: INTERRUPTED });
        if (!job.resumed) {
          await db.jobs.update(job.id, { state: 'queued', resumed: true });
          await db.messages.update(job.id, { status: 'pending', resumed: true });
          resumed.push(job.id);
        } else {
          await db.jobs.update(job.id, { state: 'failed' });
          await db.messages.update(job.id, {
            status: 'interrupted',
            error: {
              code: 'interrupted',
              message:
                'Pace was stopped by the browser in the middle of this answer, twice. What arrived is kept; press Retry for a full answer.',
              action: 'retry',
            },
          });
          failed.push(job.id);
        }
      }
      // Rows of the periods a budget counts (a month and a day) and any that hold a reservation.
      await endStrandedUsage(db, now - STRANDED_SCAN_MS);
      return { resumed, failed };
    },
  );
}

/** `job` was counted and never sent (its worker stopped before its request left): the count goes, and the job waits in the queue again. */
async function giveBackUnsent(db: PaceDB, job: Job): Promise<boolean> {
  const row = job.usageId === undefined ? null : await releaseUnsentUsage(db, job.usageId);
  if (!row) return false;
  await Promise.all([
    releaseSendInTx(db, row.at),
    dropJobTokensInTx(db, job.id),
    db.jobs.update(job.id, {
      state: 'queued',
      attempts: Math.max(0, job.attempts - 1),
      usageId: undefined,
      unsent: undefined,
    }),
    db.messages.update(job.id, { status: 'pending' }),
  ]);
  return true;
}

/**
 * Deletes the jobs of these conversations, whatever their state (the conversations are being
 * deleted: lib/chat/conversation-store.ts). Call inside the caller's transaction on `jobs`; stop
 * the ones in flight first. Returns the ids deleted.
 */
export async function removeForConversationsInTx(db: PaceDB, conversationIds: ReadonlySet<string>): Promise<string[]> {
  const ids = await db.jobs.filter((j) => conversationIds.has(j.conversationId)).primaryKeys();
  await db.jobs.bulkDelete(ids);
  return ids;
}
