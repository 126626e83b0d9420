/**
 * The short way for a new message: when nothing is ahead of it in the queue, it is admitted in the
 * very transaction that stores it (chat.send's), so its request can leave as soon as that
 * transaction commits, with no queue run, no second read of the conversation and no second
 * transaction in between. It is the scheduler's own decision, taken on the same rows by the same
 * pair (lib/limits/admit.ts `admitRequest`, which reads the limits, the windows and the budget once
 * for the check and the count, asks lib/limits/admission-decision.ts `decideAdmission`, and counts
 * the job, opens its ledger row and makes it `sending`): the job must be the first the queue would
 * offer (given the queue, the decision checks its turn), the response cache must have no answer for
 * it (the queue serves those, uncounted), and the limits must let it go, with what the
 * request asks of the token limits and the spend budget, measured by the queue's own pure function
 * (lib/limits/measure-request.ts). A request that wants the API's exact count (close to the token
 * limit), which cannot be asked inside a transaction, is left to the queue; so is one whose safe
 * figure the budget cannot fit (admission says no, and the queue may count it).
 * Whenever any of these says no, nothing here is written and the job simply waits in the queue as before.
 */
import { lookupAnswer } from '../cache/response-cache';
import { buildContext, conversationMessages, markStreaming } from '../chat/conversation-store';
import type { ContextTurn, messageRequest } from '../claude/request';
import { maxWebSearches } from '../limits/budget';
import { WINDOW_MS } from '../limits/admission';
import { admitRequest, type AdmissionReads, type AdmittedRequest } from '../limits/admit';
import { measureRequest } from '../limits/measure-request';
import { EMPTY_TOKEN_LOG, inputRoom } from '../limits/token-buckets';
import type { Settings } from '../settings/validate';
import type { ChatMessage, Job, PaceDB } from '../storage/db';
import { activeJobs } from './job-store';
import { jobProblem, readable } from '../storage/row-guards';

export interface AtOnce {
  jobId: string;
  conversationId: string;
  now: number;
  settings: Settings;
  /** The request as built from the conversation read before the transaction (`messageRequest`); the one looked up in the cache. */
  request: ReturnType<typeof messageRequest>;
  /** The turns it was built from, attachments as references (`buildContext`): checked again in the transaction. */
  context: ContextTurn[];
  /** Its key in the response cache, and the cache's lifetime; null when the cache is off. */
  cache: { key: string; ttlMs: number } | null;
  demo: boolean;
}

/** An admitted job, `sending`, and the conversation its request is built from; `probe`: it went as Try now's probe. */
export interface AdmittedAtOnce {
  job: Job;
  messages: ChatMessage[];
  probe: boolean;
}

/**
 * Admits the new job `jobId` at once if the queue would send it now. Call inside a read-write
 * transaction on every table (chat.send's, after the job was added): `admit` and the reads join it.
 * Null, with nothing written, when the job must wait for the queue.
 */
export async function admitAtOnceInTx(db: PaceDB, send: AtOnce): Promise<AdmittedAtOnce | null> {
  // One round trip of reads: the queue's, the conversation and the cache go with admission's own
  // (the limits, the windows, the budget), which are read once for the check and the count.
  let seen: { job: Job; messages: ChatMessage[] } | null = null;
  const admission = await admitRequest(
    db,
    send.now,
    send.jobId,
    () =>
      Promise.all([
        activeJobs(db),
        conversationMessages(db, send.conversationId),
        send.cache === null ? null : lookupAnswer(db, send.cache.key, send.now, send.cache.ttlMs),
      ]),
    ({ limits, state, budget }, [rows, messages, cached]) => {
      if (cached) return null;
      const queue = readable<Job>('jobs', rows, jobProblem).rows;
      const job = queue.find((j) => j.id === send.jobId);
      // Another send to this conversation may have landed between the reads and this transaction:
      // then the request (and its cache key) would not be the one checked, and the queue takes it.
      // The turns are compared, attachments by reference: the same turns with the same settings make the same request.
      if (JSON.stringify(buildContext(messages, send.jobId)) !== JSON.stringify(withoutData(send.context))) return null;
      const request = measure(send, limits, state, budget);
      if (request === null) return null;
      seen = job === undefined ? null : { job, messages };
      // Its turn is part of the decision: it goes only as the first job the queue would offer.
      return { request, queue };
    },
  );
  if (!admission?.ok || seen === null) return null;
  const { job, messages } = seen as { job: Job; messages: ChatMessage[] };
  await markStreaming(db, send.jobId, send.settings.model, send.demo);
  return {
    job: { ...job, state: 'sending', attempts: job.attempts + 1, usageId: admission.usageId },
    messages,
    probe: admission.probe === true,
  };
}

/** What the queue would pass to `admit` for this request; null when only the API's exact token count can tell. */
function measure(
  send: AtOnce,
  limits: AdmissionReads['limits'],
  state: AdmissionReads['state'],
  budget: AdmissionReads['budget'],
): AdmittedRequest | null {
  const measured = measureRequest({
    request: { system: send.request.system ?? '', messages: send.context },
    model: send.settings.model,
    maxTokens: send.settings.maxTokens,
    promptCache: send.settings.promptCache,
    room: inputRoom(send.now, limits, state.tokens ?? EMPTY_TOKEN_LOG, state.server, WINDOW_MS),
    budget,
    // Admission checks the budget's room itself: when the safe figure does not fit, it says no and the queue takes the job.
    budgetLeft: Infinity,
    webSearches: maxWebSearches(send.request),
  });
  return measured.ok === true ? { need: measured.need, cost: measured.cost } : null;
}

/** Turns as `buildContext` gives them: attachments without their bytes. */
function withoutData(turns: ContextTurn[]): ContextTurn[] {
  return turns.map((t) =>
    t.attachments
      ? {
          ...t,
          attachments: t.attachments.map((a) => {
            const ref = { ...a };
            delete ref.data;
            return ref;
          }),
        }
      : t,
  );
}
