/**
 * The pure rules of "later, half price" (Message Batches): which gathered questions go into the
 * next batch and when, when a running batch is polled, what each result does to its question, and
 * what the one notification says. lib/batch/batch-store.ts writes what these decide;
 * lib/batch/batch-runner.ts runs them on the clock.
 *
 * A question sent later is `gathering` until a batch takes it, then `batched` until its answer
 * arrives (lib/queue/job-states.ts). Questions gathered in one conversation go in the same batch,
 * each with the conversation as it stands when the batch goes (an earlier question of the batch
 * has no answer yet, so it is not in the later one's context); one that follows a message still
 * on its way (queued, sending, or in an earlier batch) waits for that answer.
 */
import type { BatchResultEntry } from '../claude/batches';
import { assembleContent, capAnswerText, SIZE_CAP_STOP } from '../claude/stream';
import type { Citation, PaceError, WebSource } from '../storage/rows';
import type { BatchRow, Job, TokenUsage } from '../storage/db';
import { isFinished } from '../queue/job-states';

export interface BatchTiming {
  /** How long gathered questions wait for others before they go as one batch. */
  gatherMs: number;
  /** The first poll after a batch is created. */
  firstPollMs: number;
  /** Polls back off (doubling) up to this interval. */
  maxPollMs: number;
}

export const DEFAULT_BATCH_TIMING: BatchTiming = { gatherMs: 2 * 60_000, firstPollMs: 60_000, maxPollMs: 10 * 60_000 };

/** Which state of a batch may follow which: the only moves lib/batch/batch-store.ts makes. */
export const BATCH_TRANSITIONS: Readonly<Record<BatchRow['state'], readonly BatchRow['state'][]>> = {
  creating: ['running', 'ended'],
  running: ['running', 'cancelling', 'ended'],
  cancelling: ['cancelling', 'ended'],
  ended: [],
};

export const canMoveBatch = (from: BatchRow['state'], to: BatchRow['state']) => BATCH_TRANSITIONS[from].includes(to);

const byAge = (a: Job, b: Job) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The gathered questions with nothing older in their conversation still on its way but other gathered ones, oldest first. */
export function gatheredHeads(jobs: readonly Job[]): Job[] {
  const active = jobs.filter((j) => !isFinished(j.state)).sort(byAge);
  const blocked = new Set<string>();
  const heads: Job[] = [];
  for (const job of active) {
    if (blocked.has(job.conversationId)) continue;
    if (job.state === 'gathering') heads.push(job);
    else blocked.add(job.conversationId);
  }
  return heads;
}

/** When a gathered question may go: when its gathering window ends, or (held back after a failed create) when the retry rules say. */
const dueAt = (job: Job, gatherMs: number) =>
  job.waitReason === 'backoff' && job.waitUntil !== undefined ? job.waitUntil : job.createdAt + gatherMs;

/**
 * What to do with the gathered questions at `now`: send `due` as one batch now (the oldest has
 * waited the gathering window; every head not held back joins it), or look again at `wakeAt`.
 */
export function gatherDecision(
  jobs: readonly Job[],
  now: number,
  timing: Pick<BatchTiming, 'gatherMs'>,
): { due: Job[]; wakeAt: number | null } {
  const heads = gatheredHeads(jobs);
  if (heads.length === 0) return { due: [], wakeAt: null };
  const goAt = Math.min(...heads.map((j) => dueAt(j, timing.gatherMs)));
  if (goAt > now) return { due: [], wakeAt: goAt };
  const held = (j: Job) => j.waitReason === 'backoff' && (j.waitUntil ?? 0) > now;
  const due = heads.filter((j) => !held(j));
  const later = heads.filter(held).map((j) => j.waitUntil!);
  return { due, wakeAt: later.length ? Math.min(...later) : null };
}

/** When to poll a batch that has been polled `polls` times (`at`: the create or the last poll): after the first interval, doubling, up to the longest. */
export function nextPollAt(at: number, polls: number, timing: Pick<BatchTiming, 'firstPollMs' | 'maxPollMs'>): number {
  const interval = Math.min(timing.maxPollMs, timing.firstPollMs * 2 ** Math.min(polls, 30));
  return at + Math.max(interval, 0);
}

/** Anthropic keeps a batch's results this long after its create: until then a batch is never given up on a failed call alone. */
const RESULTS_KEPT_MS = 29 * 24 * 60 * 60_000;

/** The longest wait between polls that failed: they back off, doubling, up to an hour. */
const MAX_FAILED_POLL_MS = 60 * 60_000;

/** When to poll again after `failures` failed polls in a row at `now`: the first interval, doubling, up to an hour. */
export function nextPollAfterFailure(now: number, failures: number, timing: Pick<BatchTiming, 'firstPollMs'>): number {
  return (
    now +
    Math.min(MAX_FAILED_POLL_MS, Math.max(timing.firstPollMs, 1000) * 2 ** Math.min(Math.max(failures - 1, 0), 30))
  );
}

/**
 * Whether a poll that failed with `status` (null: no HTTP answer) at `now` ends the batch: only a
 * 404 (Anthropic no longer has it) or 29 days after its create (its results are gone). Anything
 * else (a 5xx, a 401 after a key change, a dropped connection) is waited out: the batch holds
 * answers that may already be billed.
 */
export function batchGone(batch: Pick<BatchRow, 'createdAt'>, status: number | null, now: number): boolean {
  return status === 404 || now - batch.createdAt >= RESULTS_KEPT_MS;
}

/** The batch was sent with another key or base URL than the ones saved now (a batch from before they were kept is read with any). */
export function sentElsewhere(
  batch: Pick<BatchRow, 'baseURL' | 'keyId'>,
  now: { baseURL: string; keyId: string },
): boolean {
  if (batch.baseURL === undefined || batch.keyId === undefined) return false;
  return batch.baseURL.replace(/\/+$/, '') !== now.baseURL.replace(/\/+$/, '') || batch.keyId !== now.keyId;
}

/** What the questions of a batch sent with another key or address say while it waits. */
export const ELSEWHERE_NOTE: PaceError = {
  code: 'wrong_key',
  message: 'Waiting: this batch was sent with another key/address; switch back to read its results.',
};

/** The earliest time any batch needs a call. */
export function nextBatchWake(batches: readonly BatchRow[]): number | null {
  const due = batches
    .filter((b) => (b.state === 'running' || b.state === 'cancelling') && b.nextPollAt !== undefined)
    .map((b) => b.nextPollAt!);
  return due.length ? Math.min(...due) : null;
}

/** What one result does to its question. */
export type Placement =
  | {
      kind: 'answer';
      text: string;
      model: string;
      stopReason: string | null;
      /** With the web searches it ran (`usage.server_tool_use.web_search_requests`), when any. */
      usage: TokenUsage;
      /** Its thinking, citations and the pages its searches found, when it has any. */
      thinking?: string;
      citations?: Citation[];
      sources?: WebSource[];
    }
  /** `unknownCost`: Anthropic may have billed it, and what is not known: its budget reservation stays as its spend. */
  | { kind: 'failed'; error: PaceError; unknownCost?: boolean }
  /** Anthropic did not run it and does not bill it: its count is given back. */
  | { kind: 'released'; why: 'expired' | 'canceled'; error: PaceError };

/**
 * A result's text: its text blocks, joined as written where they follow each other (the pieces of a
 * cited sentence), and set off by a blank line where a search or other block came between.
 */
function batchText(content: readonly { type: string; text?: unknown }[]): string {
  let text = '';
  let between = false;
  for (const block of content) {
    if (block.type !== 'text' || typeof block.text !== 'string') {
      between = true;
      continue;
    }
    if (between && text !== '') text += '\n\n';
    between = false;
    text += block.text;
  }
  return text;
}

export function placementOf(entry: BatchResultEntry, cancelledByUser: boolean): Placement {
  const r = entry.result;
  switch (r.type) {
    case 'malformed':
      return {
        kind: 'failed',
        error: {
          code: 'bad_answer',
          message: `Anthropic's batch result for this question was malformed (${r.problem}); nothing was counted. Send now to ask again.`,
          action: 'retry',
        },
      };
    case 'succeeded': {
      const m = r.message;
      // Checked by lib/claude/batches.ts as the stream is; the text is cut at the stream's cap.
      const { text, truncated } = capAnswerText(batchText(m.content));
      const u = m.usage;
      const searches = u.server_tool_use?.web_search_requests ?? 0;
      const { thinking, citations, sources } = assembleContent(m.content);
      return {
        kind: 'answer',
        text,
        model: m.model,
        stopReason: truncated ? SIZE_CAP_STOP : (m.stop_reason ?? null),
        usage: {
          inputTokens: u.input_tokens,
          outputTokens: u.output_tokens,
          cacheReadTokens: u.cache_read_input_tokens ?? 0,
          cacheCreationTokens: u.cache_creation_input_tokens ?? 0,
          ...(searches > 0 ? { webSearches: searches } : {}),
        },
        ...(thinking === '' ? {} : { thinking }),
        ...(citations.length === 0 ? {} : { citations }),
        ...(sources.length === 0 ? {} : { sources }),
      };
    }
    case 'errored': {
      const detail = (r.error as { error?: { type?: string; message?: string } }).error;
      const why = detail?.message ? `${detail.type ?? 'error'}: ${detail.message}` : 'no reason given';
      return {
        kind: 'failed',
        error: {
          code: 'bad_request',
          message: `The batch could not answer this question (${why}). Press Send now to send it normally.`,
          action: 'retry',
        },
      };
    }
    case 'expired':
      return {
        kind: 'released',
        why: 'expired',
        error: {
          code: 'cancelled',
          message:
            'The batch expired before this question ran (Anthropic gives a batch 24 hours): not billed, and not counted. Press Send now to send it normally.',
          action: 'retry',
        },
      };
    case 'canceled':
      return {
        kind: 'released',
        why: 'canceled',
        error: cancelledByUser
          ? {
              code: 'cancelled',
              message: 'Cancelled with its batch before it ran: not billed, and not counted.',
              action: 'retry',
            }
          : {
              code: 'cancelled',
              message:
                'Its batch was cancelled before this question ran: not billed, and not counted. Press Send now to send it normally.',
              action: 'retry',
            },
      };
  }
}

/** The one notification for a batch's results: how many answers arrived and what the batch price saved. */
export function resultsNotice(
  answers: number,
  others: number,
  savedUsd: number | null,
): { title: string; message: string } {
  const title = answers === 1 ? '1 answer arrived from your batch' : `${answers} answers arrived from your batch`;
  const saved = savedUsd === null ? 'half price' : `half price: saved ${formatSaved(savedUsd)}`;
  const rest =
    others === 0
      ? ''
      : ` ${others} ${others === 1 ? 'question' : 'questions'} did not get an answer: open Pace to see why.`;
  return { title, message: `Sent later at ${saved}.${rest}` };
}

function formatSaved(usd: number): string {
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  if (usd > 0) return `$${usd.toPrecision(2)}`;
  return '$0.00';
}
