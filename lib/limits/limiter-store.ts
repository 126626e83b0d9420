/**
 * The limiter's records in IndexedDB: a counter per month (under both its UTC and its local key,
 * so switching the mode keeps exact counts) and one row with the times of the sends still in the
 * rolling window. `admit` is the one place a request is counted: it checks both windows and
 * records the send (and admits the job: job-store `admitInTx`) in a single transaction, so no
 * interleaving of contexts can overshoot.
 */
import type { Meta, PaceDB, Pause, ServerLimits } from '../storage/db';
import { decide, isProbe, WINDOW_MS, type Decision, type WindowState } from './admission';
import { monthKeys, monthWindow } from './month-window';
import { isInFlight, isWaiting } from '../queue/job-states';
import { DEFAULT_LIMITS, type Limits } from './plans';
import { openUsage } from '../usage/ledger-store';
import { admitInTx } from '../queue/job-store';
import { serverLimitsProblem, tokenLogProblem } from '../storage/row-guards';
import { EMPTY_TOKEN_LOG, type TokenLog, type TokenNeed } from './token-buckets';
import { admitTokensInTx } from './token-store';
import { decideBudget, type Budget, type BudgetDecision, type RequestCost } from './budget';
import { loadSpend, reserveInTx } from './budget-store';

export async function readLimits(db: PaceDB): Promise<Limits> {
  const row = await db.meta.get('limits');
  return row?.key === 'limits' ? row.value : DEFAULT_LIMITS;
}

export async function readPause(db: PaceDB): Promise<Pause | null> {
  const row = await db.meta.get('pause');
  return row?.key === 'pause' ? row.value : null;
}

export async function readServerLimits(db: PaceDB): Promise<ServerLimits | null> {
  const row = await db.meta.get('server');
  return row?.key === 'server' ? goodServerLimits(row.value) ?? null : null;
}

/**
 * Holds the whole queue back until `pause.until`, after Anthropic refused `jobId`'s request. A
 * refused probe (see `allowProbe`) is Anthropic's newest word: its pause replaces the old one and
 * allows no probe. Any other refusal only lengthens the pause (never shortens it) and keeps its probe
 * while that pause is still in force at `now`: the probe of a pause that is over is not carried
 * into a new one.
 */
export async function pauseAll(db: PaceDB, pause: Pause, jobId?: string, now = Date.now()): Promise<void> {
  await db.transaction('rw', db.meta, async () => {
    const current = await readPause(db);
    if (current?.probe === 'used' && jobId !== undefined && current.probeJob === jobId) await db.meta.put({ key: 'pause', value: pause });
    else if (!current || current.until < pause.until) await db.meta.put({ key: 'pause', value: { ...pause, ...(current && current.until > now ? probeOf(current) : {}) } });
  });
}

function probeOf(pause: Pause | null): Pick<Pause, 'probe' | 'probeJob'> {
  if (pause?.probe === undefined) return {};
  return pause.probeJob === undefined ? { probe: pause.probe } : { probe: pause.probe, probeJob: pause.probeJob };
}

/**
 * The popup's Try now: the pause lets one request through (admitted by `admit`, counted as usual)
 * to ask Anthropic again, while the rest keep waiting. Its answer decides: a success lifts the pause
 * (`probeAnswered`), a refusal replaces it (`pauseAll`), anything else gives the chance back
 * (`probeLost`). Pressing it again while that one request is allowed or on its way lets no other
 * through. True if a probe is now allowed; false if there is no pause, or a probe is already out.
 * A probe whose job is no longer on its way (cut off by a restart of the background) is not out.
 */
export async function allowProbe(db: PaceDB, now: number): Promise<boolean> {
  return db.transaction('rw', db.meta, db.jobs, async () => {
    const pause = await readPause(db);
    if (!pause || pause.until <= now) return false;
    if (pause.probe === 'used') {
      const job = pause.probeJob === undefined ? undefined : await db.jobs.get(pause.probeJob);
      if (job && isInFlight(job.state)) return false;
    }
    if (pause.probe !== 'allowed') await db.meta.put({ key: 'pause', value: { ...withoutProbe(pause), probe: 'allowed' } });
    return true;
  });
}

/** `jobId`'s request was the probe and Anthropic answered it: the pause is over. True if it was. */
export async function probeAnswered(db: PaceDB, jobId: string): Promise<boolean> {
  return db.transaction('rw', db.meta, async () => {
    const pause = await readPause(db);
    if (pause?.probe !== 'used' || pause.probeJob !== jobId) return false;
    await db.meta.delete('pause');
    return true;
  });
}

/**
 * `jobId`'s request was the probe and ended without Anthropic's word on the pause (stopped, a
 * network or server fault): the pause stays and Try now may be pressed again.
 */
export async function probeLost(db: PaceDB, jobId: string): Promise<void> {
  await db.transaction('rw', db.meta, async () => {
    const pause = await readPause(db);
    if (pause?.probe !== 'used' || pause.probeJob !== jobId) return;
    await db.meta.put({ key: 'pause', value: withoutProbe(pause) });
  });
}

/** The pause as the server set it (who asked included), with no probe allowed or out. */
function withoutProbe(pause: Pause): Pause {
  return { until: pause.until, reason: pause.reason, message: pause.message, ...(pause.by === undefined ? {} : { by: pause.by }) };
}

/**
 * Forgets what Anthropic said about waiting: the pause and its rate-limit figures. Both belong to
 * one key at one base URL, so a new key or base URL drops them, and the queue goes as Pace's own
 * limits allow. True if there was anything to forget.
 */
export async function clearServerWait(db: PaceDB): Promise<boolean> {
  return db.transaction('rw', db.meta, async () => {
    const had = (await db.meta.bulkGet(['pause', 'server'])).some((row) => row !== undefined);
    await db.meta.bulkDelete(['pause', 'server']);
    return had;
  });
}

export async function saveServerLimits(db: PaceDB, server: ServerLimits): Promise<void> {
  await db.meta.put({ key: 'server', value: server });
}

export async function saveLimits(db: PaceDB, limits: Limits): Promise<void> {
  await db.meta.put({ key: 'limits', value: limits });
}

/**
 * The limits and what the windows hold at `now`, in one go: the reads admission makes, for the
 * screens, the badge, the alerts and the estimate of queued jobs. Call inside a transaction on
 * `counters` and `meta` (or let `readQuotaState` open one).
 */
async function loadWindow(db: PaceDB, now: number, monthStart?: Limits['monthStart']) {
  const keys = [RECENT_KEY, ...monthKeys(now)];
  const [metaRows, counters] = await Promise.all([db.meta.bulkGet(['limits', 'pause', 'server', 'tokens']), db.counters.bulkGet(keys)]);
  const { limits, pause, server, tokens } = fromMeta(metaRows);
  const monthKey = monthWindow(now, monthStart ?? limits.monthStart).key;
  const state: WindowState = {
    recentSends: counters[0]?.times ?? [],
    monthCount: counters.find((c) => c?.key === monthKey)?.count ?? 0,
    pauseUntil: pause?.until,
    server,
    ...(tokens ? { tokens } : {}),
    ...(pause?.probe === 'allowed' ? { probeAllowed: true } : {}),
  };
  return { keys, counters, limits, state, pause };
}

/** The saved limits and the windows' state at `now`, read together. */
export async function readQuotaState(db: PaceDB, now: number): Promise<{ limits: Limits; state: WindowState }> {
  return db.transaction('r', db.counters, db.meta, async () => {
    const { limits, state } = await loadWindow(db, now);
    return { limits, state };
  });
}

/** What the windows hold at `now`, the month counted as `limits` says. */
export async function readWindowState(db: PaceDB, now: number, limits: Limits): Promise<WindowState> {
  return db.transaction('r', db.counters, db.meta, async () => (await loadWindow(db, now, limits.monthStart)).state);
}

function fromMeta(rows: (Meta | undefined)[]): { limits: Limits; pause?: Pause; server?: ServerLimits; tokens?: TokenLog } {
  const out: { limits: Limits; pause?: Pause; server?: ServerLimits; tokens?: TokenLog } = { limits: DEFAULT_LIMITS };
  for (const row of rows) {
    if (row?.key === 'limits') out.limits = row.value;
    else if (row?.key === 'pause') out.pause = row.value;
    else if (row?.key === 'server') out.server = goodServerLimits(row.value);
    else if (row?.key === 'tokens') out.tokens = goodTokenLog(row.value);
  }
  return out;
}

/** A damaged `server` row (an older or broken build) is not believed: Pace goes by its own limits until the next response. */
function goodServerLimits(value: ServerLimits): ServerLimits | undefined {
  const problem = serverLimitsProblem(value);
  if (problem === null) return value;
  console.warn(`[pace] ignored the saved rate-limit figures: ${problem}`);
  return undefined;
}

/** A damaged `tokens` row starts the token minute afresh rather than stop the queue. */
export function goodTokenLog(value: TokenLog): TokenLog {
  const problem = tokenLogProblem(value);
  if (problem === null) return value;
  console.warn(`[pace] ignored the saved token counts: ${problem}`);
  return EMPTY_TOKEN_LOG;
}

/** An admitted send of a job comes with the id of its row in the usage ledger (lib/usage/ledger-store.ts). */
export type Admission = { ok: true; usageId?: number } | Exclude<Decision, { ok: true }> | Exclude<BudgetDecision, { ok: true }> | { ok: false; reason: 'gone' };

/**
 * What admission knows of the request: what it asks of the token limits (lib/limits/token-buckets.ts)
 * and what it would be priced by for the spend budget (lib/limits/budget.ts). Either may be absent
 * when no such limit is set.
 */
export interface AdmittedRequest {
  need?: TokenNeed;
  cost?: RequestCost | null;
}

/** The row that holds the times of the sends still inside the rolling window: one read, not a range scan. */
export const RECENT_KEY = 'recent';

/**
 * Admits one request for `jobId` at `now` if both windows allow it. With a job id, the job must
 * still be queued or waiting, and becomes `sending` in the same transaction, which also uses up the
 * pause's probe (only one request goes through it) and writes the send's row in the usage ledger (in
 * flight, ended by the runner): the count and the ledger cannot disagree, whatever happens to the
 * worker. The reads go out together and so do the writes: IndexedDB pipelines them within one
 * transaction. With a spend budget set, `cost` (the request's model, estimated input and max_tokens)
 * is checked against it and its worst case reserved for the send's ledger row (lib/limits/budget.ts).
 */
export async function admit(db: PaceDB, now: number, jobId: string | null, request: AdmittedRequest = {}): Promise<Admission> {
  return (await admitMeasured(db, now, jobId, () => null, () => request))!;
}

/** What admission has read of the limits, the windows and the budget, for `admitMeasured`'s `measure`. */
export interface AdmissionReads {
  limits: Limits;
  state: WindowState;
  budget: Budget | null;
}

/**
 * `admit`, for a request measured against what admission reads itself (the limits, the windows,
 * the budget), so nothing is read twice: `read` starts the caller's own reads in the same round
 * trip as admission's (call it inside the caller's read-write transaction), and `measure` gets
 * both and returns the request's figures, or null to admit nothing (then nothing is written and
 * the result is null).
 */
export async function admitMeasured<T>(
  db: PaceDB,
  now: number,
  jobId: string | null,
  read: () => Promise<T> | T,
  measure: (reads: AdmissionReads, own: T) => AdmittedRequest | null,
): Promise<Admission | null> {
  // `cache` too: the send-at-once path looks its answer up in the same round trip, and an expired entry is dropped there.
  return db.transaction('rw', [db.counters, db.meta, db.jobs, db.messages, db.usage, db.usageDays, db.usageMonths, db.cache], async () => {
    const [{ keys, counters, limits, state, pause }, job, message, spent, own] = await Promise.all([
      loadWindow(db, now),
      jobId === null ? undefined : db.jobs.get(jobId),
      jobId === null ? undefined : db.messages.get(jobId),
      loadSpend(db, now),
      read(),
    ]);
    const request = measure({ limits, state, budget: spent.budget }, own);
    if (request === null) return null;
    const { need, cost = null } = request;
    const decision = decide(now, limits, state, need);
    if (!decision.ok) return decision;
    if (jobId !== null && (!job || !isWaiting(job.state))) return { ok: false, reason: 'gone' } as const;
    const budget = decideBudget(now, limits.monthStart, spent.budget, spent.spend, spent.ledger(limits.monthStart), cost);
    if (!budget.ok) return budget;
    // Sends stamped in the future (a clock that went back) stay until the clock passes them.
    const times = [...state.recentSends.filter((t) => t > now - WINDOW_MS), now];
    const [usageId] = await Promise.all([
      job ? openUsage(db, { at: now, model: message?.model ?? 'unknown', conversationId: job.conversationId, messageId: job.id, attempt: job.attempts + 1 }) : undefined,
      db.counters.bulkPut([
        { key: RECENT_KEY, count: times.length, times },
        ...keys.slice(1).map((key, i) => ({ key, count: (counters[i + 1]?.count ?? 0) + 1 })),
      ]),
      pause && isProbe(now, state) ? db.meta.put({ key: 'pause', value: { ...pause, probe: 'used', ...(job ? { probeJob: job.id } : {}) } }) : null,
      // The request's input and output room count against the token minute now; the runner puts the real counts in (lib/limits/token-store.ts).
      need ? admitTokensInTx(db, state.tokens ?? EMPTY_TOKEN_LOG, need, [limits.outputPerMinute, state.server?.outputTokens?.limit], jobId, now) : null,
    ]);
    if (!job) return decision;
    await Promise.all([admitInTx(db, job, usageId), budget.reserve && usageId !== undefined ? reserveInTx(db, spent.spend, usageId, budget.reserve, now) : null]);
    return { ok: true, usageId };
  });
}

/**
 * One call to the Message Batch endpoints at `now` (create, poll, results, cancel): it counts in
 * the rolling minute as any request does. A create also counts its `requests` against the month,
 * each once, as many as the month has room for: resolves to how many it took (0 for other calls).
 * The month does not hold back a call that counts none (a poll of a batch already counted).
 * Call inside the transaction that records what was counted, or let it open one.
 */
export async function admitBatchCall(db: PaceDB, now: number, requests = 0): Promise<{ ok: true; taken: number } | Exclude<Decision, { ok: true }>> {
  return db.transaction('rw', db.counters, db.meta, async () => {
    const { keys, counters, limits, state } = await loadWindow(db, now);
    const decision = decide(now, limits, requests > 0 ? state : { ...state, monthCount: 0 });
    if (!decision.ok) return decision;
    const taken = Math.min(requests, Math.max(0, limits.perMonth - state.monthCount));
    const times = [...state.recentSends.filter((t) => t > now - WINDOW_MS), now];
    await db.counters.bulkPut([
      { key: RECENT_KEY, count: times.length, times },
      ...keys.slice(1).map((key, i) => ({ key, count: (counters[i + 1]?.count ?? 0) + taken })),
    ]);
    return { ok: true, taken };
  });
}

/** Gives back `n` requests counted against the month at `at` (batched requests Anthropic did not run). */
export async function releaseMonthInTx(db: PaceDB, at: number, n: number): Promise<void> {
  if (n <= 0) return;
  const keys = monthKeys(at);
  const rows = await db.counters.bulkGet(keys);
  await db.counters.bulkPut(keys.map((key, i) => ({ ...rows[i], key, count: Math.max(0, (rows[i]?.count ?? 0) - n) })));
}
