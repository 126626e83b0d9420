/**
 * Runs "later, half price" on the clock: `tick` answers gathered questions from the response cache
 * when it can, sends the rest as one Message Batch once the gathering window has passed, polls the
 * running batches, and places their answers. Everything it needs to go on is in IndexedDB
 * (lib/batch/batch-store.ts), and it asks to be woken (`wakeAt`: a timer while the worker lives, an
 * alarm that wakes a stopped one), so a stopped worker or a browser restart loses nothing. `tick`
 * is safe to call at any time: calls during a run fold into one more run.
 */
import { APIError } from '@anthropic-ai/sdk/core/error';
import {
  batchResults,
  BatchResultsTooLargeError,
  cancelBatch,
  createBatch,
  retrieveBatch,
  type BatchRequest,
} from '../claude/batches';
import { keyFingerprint } from '../key/key-fingerprint';
import type { ClaudeClient, Credentials } from '../claude/client';
import { errorLabel, retryAfterSeconds, toPaceError, withoutSecrets } from '../claude/errors';
import { conversationMessages, requestContext, settingsFor } from '../chat/conversation-store';
import { messageRequest } from '../claude/request';
import { coalesce } from '../coalesce';
import {
  batchGone,
  DEFAULT_BATCH_TIMING,
  ELSEWHERE_NOTE,
  gatherDecision,
  gatheredHeads,
  nextPollAfterFailure,
  nextPollAt,
  placementOf,
  resultsNotice,
  sentElsewhere,
  type BatchTiming,
} from './batch-lifecycle';
import {
  batchCreated,
  createFailed,
  endBatch,
  markCancelling,
  openBatch,
  openBatches,
  placeResult,
  pollScheduled,
  recoverBatches,
  senderChanged,
  type Candidate,
} from './batch-store';
import { admitBatchCall } from '../limits/admit';
import { maxWebSearches } from '../limits/budget';
import { inputBound } from '../limits/measure-request';
import { monthWindow } from '../limits/month-window';
import { PaceFailure } from '../protocol';
import type { PaceError } from '../storage/rows';
import * as jobStore from '../queue/job-store';
import { nextStep } from '../queue/retry-policy';
import { batchTiming, type BatchPrefs } from '../settings/batch-prefs';
import { parseHeaderLines, type Settings } from '../settings/validate';
import type { BatchRow, Job, PaceDB } from '../storage/db';
import { describeSkipped, jobProblem, readable } from '../storage/row-guards';
import { errorText } from '../error-text';

export interface BatchRunnerDeps {
  db: PaceDB;
  now: () => number;
  credentials: () => Promise<(Credentials & { demo: boolean }) | null>;
  settings: () => Promise<Settings>;
  prefs: () => Promise<BatchPrefs>;
  createClient: (c: Credentials, extraHeaders?: Record<string, string>) => ClaudeClient;
  /** Answers what it can of these jobs from the response cache (lib/cache/cached-answers.ts); how many. */
  answerFromCache: (jobs: Job[]) => Promise<number>;
  notify: (id: string, title: string, message: string) => Promise<void>;
  /** Asks for the next tick at `at` (null: nothing to wait for). */
  wakeAt: (at: number | null) => void;
  /** Questions were answered, failed or released: the queue may send what waited behind them. */
  changed: () => void;
  newId?: () => string;
  random?: () => number;
  log?: (message: string, detail?: unknown) => void;
}

export interface BatchRunner {
  tick(): Promise<void>;
  /**
   * A tick only when the last run left something to do (questions gathering, batches open): the
   * queue calls it after each of its runs, which would otherwise read the jobs and batches each time.
   */
  nudge(): void;
  /** At start-up: a batch left `creating` by a stopped worker is taken as not made (not one this runner is creating). */
  recover(): Promise<string[]>;
  /** Cancels the batch the question `jobId` is in; false when it is in none that can be cancelled. */
  cancel(jobId: string): Promise<boolean>;
}

/** The searches a request may run, for its worst case (none without the web search tool). */
function searchesOf(request: object): { webSearches?: number } {
  const n = maxWebSearches(request);
  return n > 0 ? { webSearches: n } : {};
}

/** How soon gathered questions are looked at again when no key can send them. */
const NO_KEY_RECHECK_MS = 60_000;

export function createBatchRunner(deps: BatchRunnerDeps): BatchRunner {
  const { db, now } = deps;
  const newId = deps.newId ?? (() => crypto.randomUUID());
  const log = deps.log ?? ((m: string, d?: unknown) => console.info(`[pace] ${m}`, d ?? ''));
  /** The batches whose create call this runner has made and not yet heard back from. */
  const creating = new Set<string>();
  /** The last run found questions gathering or batches open (true until a run has looked). */
  let busy = true;

  async function runOnce(): Promise<void> {
    const wakes: (number | null)[] = [];
    // Whatever fails below, the runner looks again while anything may still need it: one failed run never stops the polls.
    let fallback: number | null = now() + DEFAULT_BATCH_TIMING.maxPollMs;
    try {
      const [prefs, rows, batches] = await Promise.all([deps.prefs(), jobStore.activeJobs(db), openBatches(db)]);
      const jobs = readable<Job>('jobs', rows, jobProblem, (s) => log(describeSkipped(s))).rows;
      const timing = batchTiming(prefs);
      // A question held behind a message on its way has no time of its own to go: it is looked at again at the latest then.
      busy = batches.length > 0 || jobs.some((j) => j.state === 'gathering');
      fallback = busy ? now() + timing.maxPollMs : null;
      // Cache first: a question the cache can answer is answered at once and never batched.
      const heads = gatheredHeads(jobs);
      if (
        heads.length > 0 &&
        (await deps.answerFromCache(heads).catch((err: unknown) => (log('the cache could not be read', err), 0))) > 0
      ) {
        deps.changed();
        void tick();
        return;
      }
      const gathered = gatherDecision(jobs, now(), timing);
      wakes.push(gathered.wakeAt);
      if (gathered.due.length > 0)
        wakes.push(
          await send(gathered.due, timing).catch(
            (err: unknown) => (log('the gathered questions could not be sent', err), null),
          ),
        );
      let placed = false;
      for (const batch of batches) {
        const looked = await look(batch, timing).catch(
          (err: unknown) => (log('could not look at a batch', err), { at: null, placed: false }),
        );
        wakes.push(looked.at);
        placed ||= looked.placed;
      }
      // A question held behind one of the placed answers may go now: the gathering is decided again.
      if (placed) void tick();
    } finally {
      const due = [...wakes, fallback].filter((t): t is number => t !== null);
      deps.wakeAt(due.length ? Math.min(...due) : null);
    }
  }

  /** Sends `due` as one batch; resolves to when to look at it (or at the questions again). */
  async function send(due: Job[], timing: BatchTiming): Promise<number | null> {
    const [creds, settings] = await Promise.all([deps.credentials(), deps.settings()]);
    if (!creds) return now() + NO_KEY_RECHECK_MS;
    // Each request carries its conversation's context as it is now.
    // Each goes with its conversation's model (the one chosen in the popup, else the options').
    // A question that cannot be read (its conversation broken) fails alone, saying why; the others go.
    const read = await Promise.all(
      due.map(async (job) => {
        try {
          const [own, messages] = await Promise.all([
            settingsFor(db, settings, job.conversationId),
            conversationMessages(db, job.conversationId),
          ]);
          const turns = await requestContext(db, messages, job.id);
          return { job, request: messageRequest(own, turns), turns };
        } catch (err) {
          log('a gathered question could not be read', err);
          const why = errorText(err);
          await jobStore.fail(db, job.id, {
            status: 'error',
            error: { code: 'bad_request', message: `This question could not be put in a batch: ${why}` },
            batch: true,
          });
          deps.changed();
          return null;
        }
      }),
    );
    const built = read.filter((b) => b !== null);
    if (built.length === 0) return null;
    const candidates: Candidate[] = built.map(({ job, request, turns }) => ({
      job,
      model: request.model,
      cost: {
        model: request.model,
        inputTokens: inputBound({ system: request.system ?? '', messages: turns }),
        maxTokens: request.max_tokens,
        estimated: true,
        // Its web_search tool's max_uses, at full price: the batch halves tokens only.
        ...searchesOf(request),
      },
    }));
    const id = newId().replace(/[^A-Za-z0-9_-]/g, '');
    // It is polled and read only with the key and at the address it is sent with (the key's fingerprint is kept, never the key).
    const opened = await openBatch(db, id, now(), candidates, {
      baseURL: creds.baseURL,
      keyId: await keyFingerprint(creds.apiKey),
    });
    if (opened.refused.length > 0) deps.changed();
    if (!opened.ok) return opened.retryAt;
    deps.changed();
    const requests: BatchRequest[] = opened.batch.requests.map((r) => ({
      custom_id: r.jobId,
      params: built.find((b) => b.job.id === r.jobId)!.request,
    }));
    const { headers } = parseHeaderLines(settings.extraHeaders);
    creating.add(id);
    try {
      const client = deps.createClient(creds, headers);
      const created = await createBatch(client, requests);
      const at = nextPollAt(now(), 0, timing);
      if (!(await batchCreated(db, id, created.id, at))) {
        // Its questions were given back meanwhile: the batch made at Anthropic has nobody waiting for it.
        log('a batch was made after its questions were given back; cancelling it', created.id);
        await cancelBatch(client, created.id).catch((err: unknown) => log('could not cancel it', errorLabel(err)));
        return null;
      }
      log(`batch of ${requests.length} sent`, created.id);
      return at;
    } catch (err) {
      const attempts =
        Math.max(...opened.batch.requests.map((r) => due.find((j) => j.id === r.jobId)?.attempts ?? 0)) + 1;
      const { error, step } = afterFailedCall(err, attempts, creds, headers);
      log(`the batch could not be created: ${error.code}`, errorLabel(err));
      if (step.action === 'retry') {
        await createFailed(db, id, { until: step.at, failures: attempts });
        return step.at;
      }
      await createFailed(db, id, {
        error: {
          ...error,
          message: `The batch could not be sent: ${error.message} Press Send now to send this question normally.`,
          action: 'retry',
        },
      });
      deps.changed();
      return null;
    } finally {
      creating.delete(id);
    }
  }

  /** Polls `batch` if it is due, and places its results once it has ended; resolves to when to look again. */
  async function look(batch: BatchRow, timing: BatchTiming): Promise<{ at: number | null; placed: boolean }> {
    if (batch.state === 'creating' || batch.apiId === undefined) return { at: null, placed: false };
    const t = now();
    if ((batch.nextPollAt ?? 0) > t) return { at: batch.nextPollAt!, placed: false };
    const [creds, settings] = await Promise.all([deps.credentials(), deps.settings()]);
    if (!creds) return { at: t + NO_KEY_RECHECK_MS, placed: false };
    // Sent with another key or address: Anthropic holds its results there, and the one saved now is never asked for them.
    if (sentElsewhere(batch, { baseURL: creds.baseURL, keyId: await keyFingerprint(creds.apiKey) })) {
      await senderChanged(db, batch.id, ELSEWHERE_NOTE);
      return { at: t + timing.maxPollMs, placed: false };
    }
    if (batch.elsewhere) await senderChanged(db, batch.id, undefined);
    const { headers } = parseHeaderLines(settings.extraHeaders);
    const client = deps.createClient(creds, headers);
    const call = await admitBatchCall(db, t);
    if (!call.ok) {
      await pollScheduled(db, batch.id, {
        nextPollAt: call.retryAt,
        polls: batch.polls,
        failures: batch.failures ?? 0,
      });
      return { at: call.retryAt, placed: false };
    }
    try {
      const found = await retrieveBatch(client, batch.apiId);
      // Not a status the API names today, but if Anthropic says so the batch is gone.
      if ((found.processing_status as string) === 'expired') {
        await giveUp(batch, 'Anthropic says the batch expired');
        return { at: null, placed: true };
      }
      if (found.processing_status !== 'ended') {
        const at = nextPollAt(now(), batch.polls + 1, timing);
        await pollScheduled(db, batch.id, { nextPollAt: at, polls: batch.polls + 1 });
        return { at, placed: false };
      }
      const read = await admitBatchCall(db, now());
      if (!read.ok) {
        await pollScheduled(db, batch.id, { nextPollAt: read.retryAt, polls: batch.polls + 1 });
        return { at: read.retryAt, placed: false };
      }
      const results = await batchResults(client, found, { onSkip: (why) => log(`${why}: skipped`) });
      await place(batch, results, [creds.apiKey, ...Object.values(headers)]);
      return { at: null, placed: true };
    } catch (err) {
      if (err instanceof BatchResultsTooLargeError) {
        await tooLarge(batch, err.message);
        return { at: null, placed: true };
      }
      const failures = (batch.failures ?? 0) + 1;
      const { error, step } = afterFailedCall(err, failures, creds, headers);
      log(`could not look at the batch: ${error.code}`, errorLabel(err));
      // Only a 404, or Anthropic's 29 days, ends the batch: until then it may hold answers already billed.
      const status: unknown = err instanceof APIError ? err.status : null;
      if (batchGone(batch, typeof status === 'number' ? status : null, now())) {
        await giveUp(batch, error.message);
        return { at: null, placed: true };
      }
      // Until then the polls back off, doubling up to an hour, never sooner than the server asked.
      const at = Math.max(nextPollAfterFailure(now(), failures, timing), step.action === 'retry' ? step.at : 0);
      await pollScheduled(db, batch.id, { nextPollAt: at, polls: batch.polls, failures, lastError: error.message });
      return { at, placed: false };
    }
  }

  /** Ends `batch` without its results: each question still in it is given back (month, ledger row, reservation) and fails with why. */
  async function giveUp(batch: BatchRow, why: string): Promise<void> {
    const error: PaceError = {
      code: 'cancelled',
      message: `Pace could not get this question's batch from Anthropic (${why}), so it was given up: not counted. Press Send now to send it normally.`,
      action: 'retry',
    };
    for (const r of batch.requests)
      await placeResult(db, batch, r.jobId, { kind: 'released', why: 'expired', error }, now());
    await endBatch(db, batch.id, now());
    log('gave up a batch that could not be read', batch.apiId);
    deps.changed();
  }

  /**
   * The results file is larger than Pace reads: each question still in the batch fails saying so.
   * Anthropic may have billed its answers, and what is not known: the budget keeps each one's worst case.
   */
  async function tooLarge(batch: BatchRow, why: string): Promise<void> {
    const error: PaceError = {
      code: 'bad_answer',
      message: `${why}: what this question cost is not known, and the spend budget counts its most. Press Send now to send it normally.`,
      action: 'retry',
    };
    for (const r of batch.requests)
      await placeResult(db, batch, r.jobId, { kind: 'failed', error, unknownCost: true }, now());
    await endBatch(db, batch.id, now());
    log("a batch's results were too large to read", batch.apiId);
    deps.changed();
  }

  /** Places each result; `secrets` (the key, the extra headers) are taken out of what an errored one says, as a gateway may echo them. */
  async function place(
    batch: BatchRow,
    results: Awaited<ReturnType<typeof batchResults>>,
    secrets: readonly string[],
  ): Promise<void> {
    const cancelled = batch.state === 'cancelling';
    let answers = 0;
    let others = 0;
    let saved: number | null = 0;
    const seen = new Set<string>();
    for (const entry of results) {
      seen.add(entry.custom_id);
      const placement = placementOf(entry, cancelled);
      const safe =
        placement.kind === 'answer' ? placement : { ...placement, error: withoutSecrets(placement.error, secrets) };
      const placed = await placeResult(db, batch, entry.custom_id, safe, now());
      if (!placed) continue;
      if (placed.kind === 'answer') answers += 1;
      else if (!(cancelled && placed.kind === 'released')) others += 1;
      saved = saved === null || placed.savedUsd === null ? null : saved + placed.savedUsd;
    }
    // A question the results leave out has no answer coming: it fails, and may be sent normally.
    const missing: PaceError = {
      code: 'bad_answer',
      message: 'The batch ended without a result for this question. Press Send now to send it normally.',
      action: 'retry',
    };
    for (const r of batch.requests) {
      if (seen.has(r.jobId)) continue;
      if (await placeResult(db, batch, r.jobId, { kind: 'failed', error: missing }, now())) others += 1;
    }
    await endBatch(db, batch.id, now());
    deps.changed();
    if (answers + others > 0) {
      const notice = resultsNotice(answers, others, saved);
      await deps
        .notify(`pace-batch-${batch.id}`, notice.title, notice.message)
        .catch((err: unknown) => log('could not show the notification', err));
    }
  }

  /** The retry rules of messages (lib/queue/retry-policy.ts) for a failed batch call. */
  function afterFailedCall(err: unknown, attempt: number, creds: Credentials, headers: Record<string, string>) {
    const error = withoutSecrets(toPaceError(err, 'chat', creds.baseURL), [creds.apiKey, ...Object.values(headers)]);
    const t = now();
    const apiError: APIError | null = err instanceof APIError ? err : null;
    const retryAfter = apiError ? retryAfterSeconds(apiError.headers, t) : null;
    const step = nextStep(
      attempt,
      {
        code: error.code,
        retryAfterMs: retryAfter === null ? null : retryAfter * 1000,
        resetAt: monthWindow(t, 'utc').end,
      },
      t,
      deps.random,
    );
    return {
      error,
      step: step.action === 'pause' ? ({ action: 'retry', at: step.until, pauseAll: false } as const) : step,
    };
  }

  const tick = coalesce(runOnce, (err) => log('the batches could not run', err));

  return {
    tick,
    nudge: () => {
      if (busy) void tick();
    },
    recover: () => recoverBatches(db, creating),
    async cancel(jobId) {
      const job = await db.jobs.get(jobId);
      if (job?.state !== 'batched' || job.batchId === undefined) return false;
      const batch = await db.batches.get(job.batchId);
      // Its create call has not answered yet: there is nothing at Anthropic to cancel until it does.
      if (batch?.state === 'creating')
        throw new PaceFailure({
          code: 'busy',
          message: 'Its batch is being sent to Anthropic right now: try cancelling again in a few seconds.',
        });
      if (!batch || batch.state !== 'running' || batch.apiId === undefined) return false;
      const creds = await deps.credentials();
      if (!creds) return false;
      if (sentElsewhere(batch, { baseURL: creds.baseURL, keyId: await keyFingerprint(creds.apiKey) })) {
        throw new PaceFailure({
          code: 'wrong_key',
          message: 'Its batch was sent with another key or address: switch back to cancel it.',
        });
      }
      const t = now();
      const call = await admitBatchCall(db, t);
      if (!call.ok)
        throw new PaceFailure({
          code: 'rate_limited',
          message: 'The limits allow no call to Anthropic right now: try cancelling again in a minute.',
        });
      const { headers } = parseHeaderLines((await deps.settings()).extraHeaders);
      try {
        await cancelBatch(deps.createClient(creds, headers), batch.apiId);
      } catch (err) {
        throw new PaceFailure(
          withoutSecrets(toPaceError(err, 'chat', creds.baseURL), [creds.apiKey, ...Object.values(headers)]),
        );
      }
      await markCancelling(db, batch.id, t);
      void tick();
      return true;
    },
  };
}
