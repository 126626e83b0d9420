/**
 * Answers a queued job from the response cache when an identical request was answered within the
 * cache's lifetime: nothing is sent, nothing is counted against any limit, and the answer is
 * marked "from cache". Tried by the scheduler before the limiter, once per job: a miss marks the
 * job so it is not looked up again while it waits.
 */
import { conversationMessages, requestContext, settingsFor } from '../chat/conversation-store';
import { cacheKey } from './cache-key';
import { lookupAnswer } from './response-cache';
import type { Credentials } from '../claude/client';
import { cacheableRequest, messageRequest } from '../claude/request';
import { serveFromCache, skipCacheLookup } from '../queue/job-store';
import type { UsagePrefs } from '../settings/usage-prefs';
import type { Settings } from '../settings/validate';
import type { Job, PaceDB } from '../storage/db';
import { recordUsage } from '../usage/ledger-store';
import { estimateCost } from '../usage/prices';

export interface CachedAnswerDeps {
  db: PaceDB;
  credentials: () => Promise<(Credentials & { demo: boolean }) | null>;
  settings: () => Promise<Settings>;
  usagePrefs: () => Promise<Pick<UsagePrefs, 'cacheHours'>>;
  now?: () => number;
}

const HOUR_MS = 60 * 60 * 1000;

/** Answers what it can of `jobs` from the cache; resolves to how many it answered. */
export function createCachedAnswers(deps: CachedAnswerDeps): (jobs: Job[]) => Promise<number> {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  const skipLookup = (id: string) => skipCacheLookup(db, id);

  return async function answerFromCache(jobs: Job[]): Promise<number> {
    const fresh = jobs.filter((j) => !j.skipCacheLookup);
    if (fresh.length === 0) return 0;
    // Read once for the batch: this runs on every pump while jobs wait.
    const [{ cacheHours }, creds, settings] = await Promise.all([
      deps.usagePrefs(),
      deps.credentials(),
      deps.settings(),
    ]);
    if (cacheHours <= 0 || !creds) return 0;
    let served = 0;
    for (const job of fresh) {
      try {
        if (await lookUp(job, cacheHours, creds, settings)) served += 1;
      } catch (err) {
        // An unreadable entry or conversation must not hold the queue: the job goes to the API.
        console.warn('[pace] the cache could not be read', err);
        await skipLookup(job.id);
      }
    }
    return served;
  };

  async function lookUp(
    job: Job,
    cacheHours: number,
    creds: Credentials & { demo: boolean },
    settings: Settings,
  ): Promise<boolean> {
    const request = messageRequest(
      await settingsFor(db, settings, job.conversationId),
      await requestContext(db, await conversationMessages(db, job.conversationId), job.id),
    );
    const key = await cacheKey(cacheableRequest(request, creds.baseURL));
    const t = now();
    const hit = await lookupAnswer(db, key, t, cacheHours * HOUR_MS);
    if (!hit) {
      await skipLookup(job.id);
      return false;
    }
    const served = await serveFromCache(db, job.id, t, {
      status: 'done',
      text: hit.text,
      model: hit.model,
      stopReason: hit.stopReason,
      usage: { inputTokens: hit.usage.inputTokens, outputTokens: hit.usage.outputTokens },
      fromCache: true,
      demo: creds.demo,
      error: undefined,
    });
    if (!served) return false;
    await recordUsage(db, {
      at: t,
      model: hit.model,
      conversationId: job.conversationId,
      messageId: job.id,
      outcome: 'cache',
      usage: hit.usage,
      ttftMs: null,
      totalMs: now() - t,
      attempt: job.attempts + 1,
      fromCache: true,
      costUsd: 0,
      savedUsd: estimateCost(hit.model, hit.usage),
    }).catch((err: unknown) => console.warn('[pace] could not record usage', err));
    return true;
  }
}
