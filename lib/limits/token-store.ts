/**
 * The token minute's record in IndexedDB (the `tokens` row of `meta`); only this module writes it.
 * Admission adds each request's estimated input and its answer's output room (`admitTokensInTx`,
 * inside lib/limits/admit.ts `admit`'s transaction); the runner then puts in the real input
 * count from the answer's usage (`countInput`) and, when the answer ends, its real output in place of
 * the room (`countOutput`). Each is one read and one write in a transaction, so concurrent answers
 * cannot lose each other's tokens.
 */
import type { PaceDB, ServerLimits } from '../storage/db';
import { WINDOW_MS } from './admission';
import { goodTokenLog, saveServerLimits } from './limiter-store';
import { EMPTY_TOKEN_LOG, withAdmitted, withInputCount, withOutputCount, type TokenNeed } from './token-buckets';
import type { TokenLog } from '../storage/rows';

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

/**
 * Admission's write, inside its transaction (lib/limits/admit.ts `admit`), which has read
 * `log` already: the request's input and output room count against the minute from `now`.
 */
export function admitTokensInTx(
  db: PaceDB,
  log: TokenLog,
  need: TokenNeed,
  outputLimits: readonly (number | null | undefined)[],
  job: string | null,
  now: number,
): Promise<unknown> | null {
  const after = withAdmitted(log, need, outputLimits, job, now, WINDOW_MS);
  return after === log ? null : db.meta.put({ key: 'tokens', value: after });
}

/** `job`'s request never left: its input and output room leave the minute. Call inside a transaction on `meta`. */
export async function dropJobTokensInTx(db: PaceDB, job: string): Promise<void> {
  const log = await readTokenLog(db);
  const mine = (s: { job?: string }) => s.job === job;
  if (!log.input.some(mine) && !log.output.some(mine)) return;
  await db.meta.put({
    key: 'tokens',
    value: { input: log.input.filter((s) => !mine(s)), output: log.output.filter((s) => !mine(s)) },
  });
}

/**
 * `job`'s answer ended having produced `tokens` output tokens: they replace the room admission
 * reserved for it (or are added at `at` if it reserved none).
 */
export async function countOutput(db: PaceDB, job: string, tokens: number, at: number): Promise<void> {
  await update(db, (log) => withOutputCount(log, job, tokens, at, WINDOW_MS));
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
 * `onTheWire` names the other requests sent and not yet answered: the API may not have counted them
 * when it made these figures, whenever they were admitted, so the figures are dated from the earliest
 * of them too (what was sent since is taken off, at worst twice, never forgotten).
 */
export async function saveServerLimitsFor(
  db: PaceDB,
  server: ServerLimits,
  job: string,
  onTheWire: readonly string[] = [],
): Promise<void> {
  await db.transaction('rw', db.meta, async () => {
    const input = (await readTokenLog(db)).input;
    const own = input.findLast((s) => s.job === job);
    const others = onTheWire.filter((j) => j !== job).map((j) => input.findLast((s) => s.job === j)?.at ?? Infinity);
    const observedAt = Math.min(server.observedAt, own ? own.at + 1 : Infinity, ...others);
    await saveServerLimits(
      db,
      observedAt < server.observedAt ? { ...server, observedAt, readAt: server.observedAt } : server,
    );
  });
}
