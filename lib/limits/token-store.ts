/**
 * The token minute's record in IndexedDB (the `tokens` row of `meta`): admission adds each request's
 * estimated input (lib/limits/limiter-store.ts `admit`); the runner then puts in the real input count
 * from the answer's usage (`countInput`) and adds the output as the stream reports it (`addOutput`).
 * Each is one read and one write in a transaction, so concurrent answers cannot lose each other's tokens.
 */
import type { PaceDB, ServerLimits } from '../storage/db';
import { WINDOW_MS } from './admission';
import { goodTokenLog, saveServerLimits } from './limiter-store';
import { EMPTY_TOKEN_LOG, withInputCount, withSpend, type TokenLog } from './token-buckets';

export async function readTokenLog(db: PaceDB): Promise<TokenLog> {
  const row = await db.meta.get('tokens');
  return row?.key === 'tokens' ? goodTokenLog(row.value) : EMPTY_TOKEN_LOG;
}

async function update(db: PaceDB, change: (log: TokenLog) => TokenLog): Promise<void> {
  await db.transaction('rw', db.meta, async () => {
    const before = await readTokenLog(db);
    const after = change(before);
    if (after !== before) await db.meta.put({ key: 'tokens', value: after });
  });
}

/** `tokens` more output tokens of `job`'s answer, produced at `at`. */
export async function addOutput(db: PaceDB, job: string, tokens: number, at: number): Promise<void> {
  if (tokens <= 0) return;
  await update(db, (log) => withSpend(log, 'output', { at, tokens, job }, at, WINDOW_MS));
}

/**
 * `job`'s request read `tokens` input tokens that count against the minute (plain input and
 * prompt-cache writes: lib/limits/token-usage.ts), in place of the estimate admission recorded.
 */
export async function countInput(db: PaceDB, job: string, tokens: number): Promise<void> {
  await update(db, (log) => withInputCount(log, job, tokens));
}

/**
 * Saves the API's rate-limit figures that came with `job`'s answer, dated from just after that
 * request was admitted rather than from when its answer arrived: what Pace sent in between may have
 * reached the API after the figures were made, so it is taken off them (lib/limits/token-buckets.ts).
 */
export async function saveServerLimitsFor(db: PaceDB, server: ServerLimits, job: string): Promise<void> {
  await db.transaction('rw', db.meta, async () => {
    const own = (await readTokenLog(db)).input.findLast((s) => s.job === job);
    await saveServerLimits(db, own ? { ...server, observedAt: Math.min(server.observedAt, own.at + 1) } : server);
  });
}
