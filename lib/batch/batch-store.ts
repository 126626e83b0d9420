/**
 * The one writer of the `batches` table: each move of a Message Batch is a named operation here,
 * checked against lib/batch/batch-lifecycle.ts's table, and written with what it does to the
 * questions' jobs (through lib/queue/job-store.ts), the month's count (lib/limits/admit.ts)
 * and the ledger (lib/usage/ledger-store.ts) in one transaction, so a stopped worker leaves nothing
 * half counted:
 *
 * - `openBatch`: the gathered questions are counted (month, minute, budget at half price, one ledger
 *   row each) and become `batched` in a `creating` batch, before the create call goes;
 * - `batchCreated` / `createFailed`: the create answered, or it did not (all given back, gathered again
 *   or failed); `recoverBatches` treats a `creating` batch found at start-up as not created;
 * - `pollScheduled`, `markCancelling`, then `placeResult` per answer and `endBatch`.
 */
import type { PaceError } from '../storage/rows';
import type { RequestCost } from '../limits/budget';
import { decideBudget } from '../limits/budget';
import { loadSpend, reserveInTx } from '../limits/budget-store';
import { admitBatchCall } from '../limits/admit';
import { readLimits, releaseMonthInTx } from '../limits/limiter-store';
import * as jobStore from '../queue/job-store';
import type { BatchRow, Job, PaceDB } from '../storage/db';
import { openBatchedUsage, releaseUsage, settleUsage } from '../usage/ledger-store';
import { batchCostBreakdown, costBreakdown, pricedModel, webSearchUsd } from '../usage/prices';
import { canMoveBatch, type Placement } from './batch-lifecycle';

const tablesOf = (db: PaceDB) => [
  db.batches,
  db.jobs,
  db.messages,
  db.counters,
  db.meta,
  db.usage,
  db.usageDays,
  db.usageMonths,
];

export interface Candidate {
  job: Job;
  model: string;
  /** What the budget prices it by (at the batch price); null when no budget is set. */
  cost: RequestCost | null;
}

export type Opened =
  | { ok: true; batch: BatchRow; refused: { jobId: string; error: PaceError }[] }
  | { ok: false; retryAt: number; reason: string; refused: { jobId: string; error: PaceError }[] };

/**
 * Counts the candidates still gathered into a new batch `id` at `now`, oldest first, as many as
 * the month and the spend budget have room for (the rest keep gathering). A candidate the budget
 * can never fit is failed with why. Not ok (nothing counted) when the minute, the month or
 * Anthropic's pause holds the create call back, or no candidate fits: look again at `retryAt`.
 */
export async function openBatch(
  db: PaceDB,
  id: string,
  now: number,
  candidates: readonly Candidate[],
  sentWith?: Pick<BatchRow, 'baseURL' | 'keyId'>,
): Promise<Opened> {
  return db.transaction('rw', tablesOf(db), async () => {
    const [jobs, limits, spent] = await Promise.all([
      Promise.all(candidates.map((c) => db.jobs.get(c.job.id))),
      readLimits(db),
      loadSpend(db, now),
    ]);
    const refused: { jobId: string; error: PaceError }[] = [];
    const fits: { candidate: Candidate; job: Job; reserve: Awaited<ReturnType<typeof decideBudget>> }[] = [];
    let spend = spent.spend;
    let retryAt: number | null = null;
    for (const [i, candidate] of candidates.entries()) {
      const job = jobs[i];
      if (!job || job.state !== 'gathering') continue;
      const decision = decideBudget(
        now,
        limits.monthStart,
        spent.budget,
        spend,
        spent.ledger(limits.monthStart),
        candidate.cost && { ...candidate.cost, batch: true },
      );
      if (!decision.ok && decision.reason === 'refused') {
        refused.push({ jobId: job.id, error: decision.error });
        continue;
      }
      if (!decision.ok) {
        retryAt = decision.retryAt;
        break;
      }
      // The next candidate sees this one's reservation (the key is a placeholder until its row exists).
      if (decision.reserve) spend = { ...spend, reserved: { ...spend.reserved, [`pending-${i}`]: decision.reserve } };
      fits.push({ candidate, job, reserve: decision });
    }
    for (const r of refused) await jobStore.fail(db, r.jobId, { status: 'error', error: r.error, batch: true });
    if (fits.length === 0) return { ok: false, retryAt: retryAt ?? now + 60_000, reason: 'budget', refused };
    const counted = await admitBatchCall(db, now, fits.length);
    if (!counted.ok) return { ok: false, retryAt: counted.retryAt, reason: counted.reason, refused };
    if (counted.taken === 0) return { ok: false, retryAt: now + 60_000, reason: 'month', refused };
    const taken = fits.slice(0, counted.taken);
    const requests: BatchRow['requests'] = [];
    let reserved = spent.spend;
    for (const { candidate, job, reserve } of taken) {
      const usageId = await openBatchedUsage(db, {
        at: now,
        model: candidate.model,
        conversationId: job.conversationId,
        messageId: job.id,
        attempt: job.attempts + 1,
      });
      if (reserve.ok && reserve.reserve) {
        await reserveInTx(db, reserved, usageId, reserve.reserve, now);
        reserved = { ...reserved, reserved: { ...reserved.reserved, [usageId]: reserve.reserve } };
      }
      await jobStore.batchInTx(db, job, id, usageId);
      requests.push({ jobId: job.id, conversationId: job.conversationId, model: candidate.model, usageId });
    }
    const batch: BatchRow = { id, state: 'creating', createdAt: now, requests, polls: 0, ...sentWith };
    await db.batches.add(batch);
    return { ok: true, batch, refused };
  });
}

async function move(db: PaceDB, id: string, to: BatchRow['state'], patch: Partial<BatchRow>): Promise<BatchRow | null> {
  return db.transaction('rw', db.batches, async () => {
    const batch = await db.batches.get(id);
    if (!batch || !canMoveBatch(batch.state, to)) return null;
    const next = { ...batch, ...patch, state: to };
    await db.batches.put(next);
    return next;
  });
}

/** The create call answered: the API's id, and the first poll. */
export const batchCreated = (db: PaceDB, id: string, apiId: string, nextPollAt: number) =>
  move(db, id, 'running', { apiId, nextPollAt, failures: 0, lastError: undefined });

/**
 * The create call did not make the batch: every request is given back (month, ledger row,
 * reservation). Its questions are gathered again, held until `retry.until` (the retry rules'
 * time), or fail with `retry.error` when they say to give up.
 */
export async function createFailed(
  db: PaceDB,
  id: string,
  retry: { until?: number; failures: number } | { error: PaceError },
): Promise<void> {
  await db.transaction('rw', tablesOf(db), async () => {
    const batch = await db.batches.get(id);
    if (!batch || batch.state !== 'creating') return;
    let released = 0;
    for (const r of batch.requests) if (await releaseUsage(db, r.usageId)) released += 1;
    await releaseMonthInTx(db, batch.createdAt, released);
    const ids = batch.requests.map((r) => r.jobId);
    await jobStore.regatherInTx(db, ids, 'until' in retry ? retry.until : undefined);
    if ('error' in retry)
      for (const jobId of ids) await jobStore.fail(db, jobId, { status: 'error', error: retry.error, batch: true });
    await db.batches.put({
      ...batch,
      state: 'ended',
      endedAt: batch.createdAt,
      lastError: 'error' in retry ? retry.error.message : 'not created',
    });
  });
}

/**
 * At start-up: a batch still `creating` lost its create call with the worker that made it (its
 * answer, and so the batch's id, never arrived): it is taken as not created, and its questions
 * gathered again (except those in `inFlight`). Resolves to the batches so released.
 */
export async function recoverBatches(db: PaceDB, inFlight: ReadonlySet<string> = new Set()): Promise<string[]> {
  // `inFlight`: the batches this worker is creating now (their create call may still answer).
  const creating = (await db.batches.where('state').equals('creating').primaryKeys()).filter((id) => !inFlight.has(id));
  for (const id of creating) await createFailed(db, id, { failures: 0 });
  return creating;
}

/** The batch still runs: look again at `nextPollAt` (after `polls` polls; `failures` calls failed in a row, the last for `lastError`). */
export async function pollScheduled(
  db: PaceDB,
  id: string,
  patch: Pick<BatchRow, 'nextPollAt' | 'polls'> & Partial<Pick<BatchRow, 'failures' | 'lastError'>>,
): Promise<void> {
  const batch = await db.batches.get(id);
  if (!batch) return;
  await move(db, id, batch.state === 'cancelling' ? 'cancelling' : 'running', {
    failures: 0,
    lastError: undefined,
    ...patch,
  });
}

/**
 * The key or the base URL saved now is not the one `batch` was sent with (`note`: what its questions
 * say while it waits), or it is again (`note` undefined: they say "Batched" again). Its polls are
 * held meanwhile, and nothing else about it changes.
 */
export async function senderChanged(db: PaceDB, id: string, note: PaceError | undefined): Promise<void> {
  await db.transaction('rw', db.batches, db.jobs, db.messages, async () => {
    const batch = await db.batches.get(id);
    if (
      !batch ||
      batch.state === 'ended' ||
      batch.state === 'creating' ||
      (batch.elsewhere === true) === (note !== undefined)
    )
      return;
    await db.batches.put({
      ...batch,
      elsewhere: note !== undefined,
      ...(note ? { lastError: note.message } : { lastError: undefined }),
    });
    await jobStore.noteBatchedInTx(
      db,
      batch.requests.map((r) => r.jobId),
      note,
    );
  });
}

/** The user cancelled the batch; its results (what ran, and cancelled entries for the rest) come as usual. */
export const markCancelling = (db: PaceDB, id: string, nextPollAt: number) =>
  move(db, id, 'cancelling', { nextPollAt });

/** The running batches, for the runner and the popup. */
export async function openBatches(db: PaceDB): Promise<BatchRow[]> {
  return db.batches.where('state').anyOf('creating', 'running', 'cancelling').toArray();
}

/** What placing one result did, for the notification: null when it was placed before (a repeated read of the results). */
export type Placed = { kind: Placement['kind']; savedUsd: number | null } | null;

/**
 * Places one result of `batch` for the question `jobId` at `now`: its answer (marked batch, the
 * ledger row ended with the real tokens at half price), its failure, or its release (expired or
 * cancelled: the month's count, the ledger row and the reservation are given back). Each question
 * is placed once whatever the retries: a question no longer batched in this batch is left alone.
 */
export async function placeResult(
  db: PaceDB,
  batch: BatchRow,
  jobId: string,
  placement: Placement,
  now: number,
): Promise<Placed> {
  const request = batch.requests.find((r) => r.jobId === jobId);
  if (!request) return null;
  return db.transaction('rw', tablesOf(db), async () => {
    const job = await db.jobs.get(jobId);
    // Its chat was deleted while the batch ran: what ran is still billed, so its ledger row ends all the same.
    if (!job) return settleDeleted(db, batch, request, placement, now);
    if (job.state !== 'batched' || job.batchId !== batch.id) return null;
    const attempt = {
      at: now,
      outcome:
        placement.kind === 'answer'
          ? 'batch'
          : placement.kind === 'released'
            ? `batch_${placement.why}`
            : 'batch_errored',
    };
    if (placement.kind === 'answer') {
      const model = pricedModel(request.model, placement.model, placement.usage);
      const cost = batchCostBreakdown(model, placement.usage);
      const full = costBreakdown(model, placement.usage);
      await settleAnswered(db, batch, request, placement, now);
      await jobStore.finish(
        db,
        jobId,
        {
          status: 'done',
          text: placement.text,
          stopReason: placement.stopReason,
          model: placement.model,
          usage: { inputTokens: placement.usage.inputTokens, outputTokens: placement.usage.outputTokens },
          error: undefined,
          batch: true,
          thinking: placement.thinking,
          citations: placement.citations,
          sources: placement.sources,
          webSearches: placement.usage.webSearches,
        },
        attempt,
      );
      return { kind: 'answer', savedUsd: full && cost ? full.total - cost.total : null };
    }
    if (placement.kind === 'failed') {
      await settleFailed(db, batch, request.usageId, placement, now);
      await jobStore.fail(db, jobId, { status: 'error', error: placement.error, batch: true }, attempt);
      return { kind: 'failed', savedUsd: 0 };
    }
    if (await releaseUsage(db, request.usageId)) await releaseMonthInTx(db, batch.createdAt, 1);
    const byUser = batch.state === 'cancelling' && placement.why === 'canceled';
    const ended = { status: byUser ? ('stopped' as const) : ('error' as const), error: placement.error, batch: true };
    await (byUser ? jobStore.stop(db, jobId, ended, attempt) : jobStore.fail(db, jobId, ended, attempt));
    return { kind: 'released', savedUsd: 0 };
  });
}

/**
 * Ends the ledger row of an answered question with its real tokens at the batch price (and so its
 * reservation), at the dearer of the model asked for and the one the result names.
 */
async function settleAnswered(
  db: PaceDB,
  batch: BatchRow,
  request: BatchRow['requests'][number],
  answer: Extract<Placement, { kind: 'answer' }>,
  now: number,
): Promise<void> {
  const model = pricedModel(request.model, answer.model, answer.usage);
  // The tokens at half price, the web searches at full price (lib/usage/prices.ts batchCostBreakdown).
  const cost = batchCostBreakdown(model, answer.usage);
  await settleUsage(db, request.usageId, {
    model,
    outcome: 'ok',
    usage: answer.usage,
    totalMs: now - batch.createdAt,
    costUsd: cost?.total ?? null,
    inputCostUsd: cost?.input ?? null,
    promptCacheSavedUsd: cost?.promptCacheSaved ?? null,
    ...(answer.usage.webSearches ? { webSearchUsd: webSearchUsd(answer.usage.webSearches) } : {}),
  });
}

/**
 * Ends the ledger row of a question that got no answer: it costs nothing, or, when Anthropic may
 * have billed it and what is not known (`unknownCost`), its cost is unknown and the budget keeps
 * its worst case.
 */
async function settleFailed(
  db: PaceDB,
  batch: BatchRow,
  usageId: number,
  placement: Extract<Placement, { kind: 'failed' }>,
  now: number,
): Promise<void> {
  const totalMs = now - batch.createdAt;
  await settleUsage(
    db,
    usageId,
    placement.unknownCost
      ? { outcome: 'batch_errored', totalMs, costUsd: null, inputCostUsd: null, usageUnknown: true }
      : { outcome: 'batch_errored', totalMs, costUsd: 0, inputCostUsd: 0 },
  );
}

/**
 * The result of a question whose chat was deleted: an answer is billed (its row ends at the batch
 * price), a failure costs nothing, and what did not run is given back (month, row, reservation).
 * Nobody is told (null): the chat is gone.
 */
async function settleDeleted(
  db: PaceDB,
  batch: BatchRow,
  request: BatchRow['requests'][number],
  placement: Placement,
  now: number,
): Promise<Placed> {
  if (placement.kind === 'answer') await settleAnswered(db, batch, request, placement, now);
  else if (placement.kind === 'failed') await settleFailed(db, batch, request.usageId, placement, now);
  else if (await releaseUsage(db, request.usageId)) await releaseMonthInTx(db, batch.createdAt, 1);
  return null;
}

/** Every result is placed: the batch has ended. */
export const endBatch = (db: PaceDB, id: string, now: number) =>
  move(db, id, 'ended', { endedAt: now, nextPollAt: undefined });
