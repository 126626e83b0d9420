/**
 * The token limits' arithmetic, pure: input and output tokens per rolling minute, Pace's own and
 * what Anthropic's headers said. `tokenDecision` is the token part of admission (lib/limits/
 * admission.ts `decide` calls it); the rest tells the screens what the minute holds.
 *
 * A bucket here refills as the minute rolls: every token spent comes back exactly one window
 * (60 s and the safety margin) after it was spent. A request is logged when it is admitted: its
 * estimated input, and its answer's whole output room (max_tokens, at most the limit), each later
 * replaced by the real count from the answer's usage; an answer cut off before its usage arrived
 * keeps the room until it leaves the window. So answers on their way count: no 60 s window ever
 * holds more output than the limit (an answer whose max_tokens exceeds it goes alone, once the
 * window is empty), nor more input than the limit plus what the answers on their way read beyond
 * their estimates (none when count_tokens gave the figure). Anthropic's bucket refills continuously
 * at limit/60 s from a capacity of the limit, which admits anything this one does (and up to twice
 * the limit in a 60 s window): within those figures Pace is never the one that collects a 429.
 *
 * Anthropic's figures (remaining, rounded, and when the bucket is full again) are read the same way:
 * between the read and the reset the bucket is believed to refill in a straight line from the least
 * the rounded remaining can be to the limit, so a request waits only until enough has come back,
 * not for the whole bucket. A gateway's figures are believed only at their reset.
 */
import type { LimitFigure, ServerLimits } from '../storage/db';
import type { TokenLog, TokenSpend } from '../storage/rows';

/**
 * What the next request asks of the buckets: its input tokens (estimated before sending) and the
 * room its answer needs in the output bucket (its max_tokens; the whole limit when that is less).
 */
export interface TokenNeed {
  inputTokens: number;
  outputTokens: number;
}

export const EMPTY_TOKEN_LOG: TokenLog = { input: [], output: [] };
export const NO_NEED: TokenNeed = { inputTokens: 0, outputTokens: 0 };

/**
 * Anthropic rounds every `*-tokens-remaining` to the nearest thousand: the true figure may be up
 * to 500 less than it says. Pace believes the least it can be.
 */
const REMAINING_ROUNDING = 500;

type TokenKind = 'inputTokens' | 'outputTokens';
export type TokenWait = { ok: false; reason: TokenKind; retryAt: number };

/** The spends inside the window ending at `now`, oldest first; a spend stamped later than `now` (the clock went back) counts as now. */
function inWindow(spends: readonly TokenSpend[], now: number, windowMs: number): TokenSpend[] {
  return spends
    .map((s) => (s.at > now ? { ...s, at: now } : s))
    .filter((s) => s.at > now - windowMs)
    .sort((a, b) => a.at - b.at);
}

/** Tokens spent in the rolling window ending at `now`. */
export function tokensInWindow(spends: readonly TokenSpend[], now: number, windowMs: number): number {
  return inWindow(spends, now, windowMs).reduce((sum, s) => sum + s.tokens, 0);
}

/**
 * The first moment from `now` at which `need` more tokens fit under `limit`: `now` if they fit
 * already, else when enough of the window's spends have left it. A need above the whole limit is
 * taken as the limit (it goes alone, once the window is empty), so the answer is always a time.
 */
export function fitsAt(
  spends: readonly TokenSpend[],
  now: number,
  limit: number,
  need: number,
  windowMs: number,
): number {
  const want = Math.min(Math.max(0, need), limit);
  const window = inWindow(spends, now, windowMs);
  let used = window.reduce((sum, s) => sum + s.tokens, 0);
  if (used + want <= limit) return now;
  for (const s of window) {
    used -= s.tokens;
    if (used + want <= limit) return s.at + windowMs;
  }
  return now;
}

/** The output room a request needs: its answer's max_tokens, at most the whole limit, at least one token (the bucket is not empty). */
function outputRoom(need: number, limit: number): number {
  return Math.max(1, Math.min(need, limit));
}

/**
 * A reset is given to the second: the bucket may be full up to a second after it says. Refill is
 * reckoned to one second past it, so that rounding never makes Pace believe in tokens not yet there.
 */
const RESET_ROUNDING_MS = 1_000;

/**
 * Where a figure's refill starts: the moment its response was read (`readAt`), the latest moment
 * its bucket could have been measured; null for a gateway's figures (`by`), which may reset
 * all at once rather than refill, so only their reset is believed.
 */
function refillFrom(server: Pick<ServerLimits, 'observedAt' | 'readAt' | 'by'>): number | null {
  return server.by === undefined ? (server.readAt ?? server.observedAt) : null;
}

/** The least the figure's bucket held when read: its rounded remaining at its least. */
const leastRemaining = (figure: LimitFigure) => Math.min(figure.remaining, figure.limit) - REMAINING_ROUNDING;

/** The least the figure's bucket held at `now` before Pace's spends since: what it held when read, refilled towards its reset. */
function bucketAt(figure: LimitFigure, now: number, from: number | null): number {
  const least = leastRemaining(figure);
  if (from === null || now <= from) return least;
  // Anthropic's buckets refill continuously: from at least `least` when read to the limit at the reset.
  return least + ((figure.limit - least) * (now - from)) / (figure.reset + RESET_ROUNDING_MS - from);
}

/**
 * What Anthropic's figure leaves for Pace at `now`, at the least, given `spent`: what Pace spent
 * since the figure was read. `from` is where the bucket's refill is reckoned from (`refillFrom`);
 * null believes nothing between the read and the reset.
 */
function serverLeft(figure: LimitFigure, spent: number, now: number, from: number | null = null): number {
  // After the reset the bucket was full, less what Pace spent since.
  return now < figure.reset ? bucketAt(figure, now, from) - spent : figure.limit - spent;
}

type ServerFigures = Pick<ServerLimits, 'observedAt'> &
  Partial<Pick<ServerLimits, 'readAt' | 'by' | 'tokens' | 'inputTokens' | 'outputTokens'>>;

/**
 * When `need` fits what one of Anthropic's figures leaves, given Pace's spends since it was read
 * (`spends`, still inside the window): `now`; before the reset, once the bucket has refilled enough
 * (or at the reset, for a figure that is not refilled); after the reset, when enough of Pace's own
 * spends have left the minute.
 */
function serverFitsAt(
  figure: LimitFigure,
  spends: TokenSpend[],
  need: number,
  now: number,
  windowMs: number,
  from: number | null,
): number {
  const spent = tokensInWindow(spends, now, windowMs);
  if (serverLeft(figure, spent, now, from) >= need) return now;
  if (now >= figure.reset) return fitsAt(spends, now, figure.limit, need, windowMs);
  if (from === null) return figure.reset;
  // The moment the refill covers the need and what Pace spent since (bucketAt solved for the time): before the reset, or the reset.
  const least = leastRemaining(figure);
  const at = from + ((need + spent - least) * (figure.reset + RESET_ROUNDING_MS - from)) / (figure.limit - least);
  return at < figure.reset ? Math.max(now + 1, Math.ceil(at)) : figure.reset;
}

/**
 * The token part of admission: Pace's own input and output limits (`limits`), then Anthropic's
 * figures (`server`, unless `probe`: Try now asks Anthropic again). Null when the request may go.
 */
export function tokenDecision(
  now: number,
  limits: { inputPerMinute?: number | null; outputPerMinute?: number | null },
  log: TokenLog,
  need: TokenNeed,
  server: ServerFigures | undefined,
  windowMs: number,
): TokenWait | null {
  if (limits.inputPerMinute) {
    const at = fitsAt(log.input, now, limits.inputPerMinute, need.inputTokens, windowMs);
    if (at > now) return { ok: false, reason: 'inputTokens', retryAt: at };
  }
  if (limits.outputPerMinute) {
    const at = fitsAt(
      log.output,
      now,
      limits.outputPerMinute,
      outputRoom(need.outputTokens, limits.outputPerMinute),
      windowMs,
    );
    if (at > now) return { ok: false, reason: 'outputTokens', retryAt: at };
  }
  if (!server) return null;
  const since = (spends: TokenSpend[]) => spends.filter((s) => s.at >= server.observedAt);
  const { inputTokens: input, outputTokens: output, tokens: both } = server;
  const checks: [LimitFigure | undefined, TokenSpend[], number, TokenKind][] = [
    [input, since(log.input), input ? Math.min(need.inputTokens, input.limit) : 0, 'inputTokens'],
    [both, since([...log.input, ...log.output]), both ? Math.min(need.inputTokens, both.limit) : 0, 'inputTokens'],
    [output, since(log.output), output ? outputRoom(need.outputTokens, output.limit) : 0, 'outputTokens'],
  ];
  for (const [figure, spends, wanted, reason] of checks) {
    if (!figure) continue;
    const at = serverFitsAt(figure, spends, wanted, now, windowMs, refillFrom(server));
    if (at > now) return { ok: false, reason, retryAt: at };
  }
  return null;
}

/** The log with `spend` added and what has left the window at `now` dropped (spends stamped in the future stay). */
export function withSpend(
  log: TokenLog,
  kind: 'input' | 'output',
  spend: TokenSpend,
  now: number,
  windowMs: number,
): TokenLog {
  const keep = (s: TokenSpend) => s.at > now - windowMs;
  return { input: log.input.filter(keep), output: log.output.filter(keep), [kind]: [...log[kind].filter(keep), spend] };
}

/** The log with `job`'s latest input spend set to `tokens` (its real count, from the answer's usage); unchanged when it has none. */
export function withInputCount(log: TokenLog, job: string, tokens: number): TokenLog {
  const i = log.input.findLastIndex((s) => s.job === job);
  if (i < 0 || log.input[i]!.tokens === tokens) return log;
  return { ...log, input: log.input.map((s, j) => (j === i ? { ...s, tokens } : s)) };
}

/**
 * The log with `job`'s latest output spend (the room reserved at admission) set to `tokens`, its
 * answer's real output, kept at the admission's time so the window it counts in does not move;
 * added at `at` when admission reserved none.
 */
export function withOutputCount(log: TokenLog, job: string, tokens: number, at: number, windowMs: number): TokenLog {
  const i = log.output.findLastIndex((s) => s.job === job);
  if (i < 0) return tokens > 0 ? withSpend(log, 'output', { at, tokens, job }, at, windowMs) : log;
  if (log.output[i]!.tokens === tokens) return log;
  return { ...log, output: log.output.map((s, j) => (j === i ? { ...s, tokens } : s)) };
}

/**
 * What admission adds to the log for a request admitted at `now`: its input `need` (for a job, even
 * 0, so the real count can replace it), and its
 * answer's output room, at most the smallest output limit in force (Pace's, Anthropic's figure),
 * so answers on their way count against the output minute before their tokens arrive.
 */
export function withAdmitted(
  log: TokenLog,
  need: TokenNeed,
  outputLimits: readonly (number | null | undefined)[],
  job: string | null,
  now: number,
  windowMs: number,
): TokenLog {
  const named = job === null ? {} : { job };
  let next = log;
  // A job's input goes in even at 0 (nothing measured): its real count replaces it when the answer says.
  if (need.inputTokens > 0 || job !== null)
    next = withSpend(next, 'input', { at: now, tokens: Math.max(0, need.inputTokens), ...named }, now, windowMs);
  if (need.outputTokens > 0) {
    const limit = Math.min(...outputLimits.filter((l): l is number => typeof l === 'number' && l > 0));
    next = withSpend(
      next,
      'output',
      { at: now, tokens: Number.isFinite(limit) ? outputRoom(need.outputTokens, limit) : need.outputTokens, ...named },
      now,
      windowMs,
    );
  }
  return next;
}

/**
 * The peak of a series of spends: the most tokens in any window of `windowMs`, for the usage page.
 * Only window ends at a spend need checking: the sum inside changes only there.
 */
export function peakPerWindow(
  spends: readonly { at: number; tokens: number }[],
  windowMs: number,
): { tokens: number; at: number | null } {
  const sorted = [...spends].sort((a, b) => a.at - b.at);
  let best = { tokens: 0, at: null as number | null };
  let sum = 0;
  let start = 0;
  for (const s of sorted) {
    sum += s.tokens;
    while (sorted[start]!.at <= s.at - windowMs) sum -= sorted[start++]!.tokens;
    if (sum > best.tokens) best = { tokens: sum, at: s.at };
  }
  return best;
}

/**
 * The least input room left at `now` under Pace's input limit and Anthropic's input figures, with
 * the smallest of those limits; null when no input limit is in force. The runner's estimate is
 * worth an exact count (count_tokens) when it is close to this room, and a request above `limit`
 * can never be sent.
 */
export function inputRoom(
  now: number,
  limits: { inputPerMinute?: number | null },
  log: TokenLog,
  server: ServerFigures | null | undefined,
  windowMs: number,
): { room: number; limit: number; by: 'pace' | 'server' } | null {
  const options: { room: number; limit: number; by: 'pace' | 'server' }[] = [];
  if (limits.inputPerMinute)
    options.push({
      room: limits.inputPerMinute - tokensInWindow(log.input, now, windowMs),
      limit: limits.inputPerMinute,
      by: 'pace',
    });
  for (const f of [server?.inputTokens, server?.tokens]) {
    if (f && server)
      options.push({
        room: serverLeft(
          f,
          tokensInWindow(
            log.input.filter((s) => s.at >= server.observedAt),
            now,
            windowMs,
          ),
          now,
          refillFrom(server),
        ),
        limit: f.limit,
        by: 'server',
      });
  }
  if (options.length === 0) return null;
  const tightest = options.reduce((a, b) => (b.limit < a.limit ? b : a));
  return { room: Math.min(...options.map((o) => o.room)), limit: tightest.limit, by: tightest.by };
}

/** An estimate over half the room left is close enough to the limit to be worth the API's exact count. */
export function needsExactInputCount(estimate: number, room: number): boolean {
  return estimate > room / 2;
}
