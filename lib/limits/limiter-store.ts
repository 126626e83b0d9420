/**
 * The limiter's records in IndexedDB: a counter per month (under both its UTC and its local key,
 * so switching the mode keeps exact counts) and one row with the times of the sends still in the
 * rolling window; the limits, Anthropic's pause and figures, and the token minute. Requests are
 * counted only by the admission transaction, in ./admit.ts.
 */
import type { Meta, PaceDB, Pause, ServerLimits } from '../storage/db';
import type { WindowState } from './admission';
import { monthKeys, monthWindow } from './month-window';
import { isInFlight } from '../queue/job-states';
import { DEFAULT_LIMITS } from './plans';
import type { Limits, TokenLog } from '../storage/rows';
import { serverLimitsProblem, tokenLogProblem } from '../storage/row-guards';
import { EMPTY_TOKEN_LOG } from './token-buckets';
import { othersIn } from '../sync/devices-store';

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
  return row?.key === 'server' ? (goodServerLimits(row.value) ?? null) : null;
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
    if (current?.probe === 'used' && jobId !== undefined && current.probeJob === jobId)
      await db.meta.put({ key: 'pause', value: pause });
    else if (!current || current.until < pause.until)
      await db.meta.put({
        key: 'pause',
        value: { ...pause, ...(current && current.until > now ? probeOf(current) : {}) },
      });
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
    if (pause.probe !== 'allowed')
      await db.meta.put({ key: 'pause', value: { ...withoutProbe(pause), probe: 'allowed' } });
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
  return {
    until: pause.until,
    reason: pause.reason,
    message: pause.message,
    ...(pause.by === undefined ? {} : { by: pause.by }),
  };
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

/**
 * A send counted at `at` never left (its worker stopped while the wire gate held it): it leaves the
 * rolling minute and the month. Call inside a transaction on `counters`.
 */
export async function releaseSendInTx(db: PaceDB, at: number): Promise<void> {
  const recent = await db.counters.get(RECENT_KEY);
  const times = recent?.times ?? [];
  const i = times.indexOf(at);
  const kept = times.filter((_, j) => j !== i);
  await Promise.all([
    i >= 0 ? db.counters.put({ key: RECENT_KEY, count: kept.length, times: kept }) : null,
    releaseMonthInTx(db, at, 1),
  ]);
}

/** Gives back `n` requests counted against the month at `at` (batched requests Anthropic did not run). */
export async function releaseMonthInTx(db: PaceDB, at: number, n: number): Promise<void> {
  if (n <= 0) return;
  const keys = monthKeys(at);
  const rows = await db.counters.bulkGet(keys);
  await db.counters.bulkPut(keys.map((key, i) => ({ ...rows[i], key, count: Math.max(0, (rows[i]?.count ?? 0) - n) })));
}

export async function saveLimits(db: PaceDB, limits: Limits): Promise<void> {
  await db.meta.put({ key: 'limits', value: limits });
}

/**
 * The limits and what the windows hold at `now`, in one go: the reads admission makes, for the
 * screens, the badge, the alerts and the estimate of queued jobs. Call inside a transaction on
 * `counters` and `meta` (or let `readQuotaState` open one).
 */
/** The row that holds the times of the sends still inside the rolling window: one read, not a range scan. */
export const RECENT_KEY = 'recent';

/** The limits, the windows' rows and the pause, read inside the caller's transaction (over counters and meta). */
export async function loadWindow(db: PaceDB, now: number, monthStart?: Limits['monthStart']) {
  const keys = [RECENT_KEY, ...monthKeys(now)];
  const [metaRows, counters] = await Promise.all([
    db.meta.bulkGet(['limits', 'pause', 'server', 'tokens', 'devices']),
    db.counters.bulkGet(keys),
  ]);
  const { limits, pause, server, tokens } = fromMeta(metaRows);
  const monthKey = monthWindow(now, monthStart ?? limits.monthStart).key;
  // The other devices' sends this month count as this device's do (their entries in browser sync).
  const others = othersIn(metaRows[4], monthKey).requests;
  const state: WindowState = {
    recentSends: counters[0]?.times ?? [],
    monthCount: (counters.find((c) => c?.key === monthKey)?.count ?? 0) + others,
    ...(others > 0 ? { othersMonth: others } : {}),
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

function fromMeta(rows: (Meta | undefined)[]): {
  limits: Limits;
  pause?: Pause;
  server?: ServerLimits;
  tokens?: TokenLog;
} {
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
