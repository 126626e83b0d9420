/**
 * What the popup shows about the limits and the queue at a moment, from the stored records. Pure:
 * the screen reads the records live and calls this every second.
 */
import { estimateStarts, quota, type Quota } from '../limits/admission';
import { RECENT_KEY } from '../limits/limiter-store';
import { monthWindow } from '../limits/month-window';
import type { Limits, OtherDevices, TokenLog } from '../storage/rows';
import { othersMonth as othersMonthOf } from '../sync/device-entry';
import { WINDOW_MS } from '../limits/admission';
import { tokensInWindow } from '../limits/token-buckets';
import type { Counter, Job, Pause, ServerLimits } from '../storage/db';
import { isInFlight, waitingOrder } from './job-states';

export interface QueueRecords {
  limits: Limits;
  pause: Pause | null;
  server: ServerLimits | null;
  /** Month counters and the row of recent send times. */
  counters: Counter[];
  /** Jobs not yet ended. */
  jobs: Job[];
  /** The tokens spent in the rolling minute (absent: none recorded). */
  tokens?: TokenLog;
  /** What browser sync says of the user's other devices: their month counts too. */
  others?: OtherDevices | null;
}

/** Tokens spent in the rolling minute against one of Pace's token limits. */
export interface TokenMinute {
  used: number;
  limit: number;
}

export interface JobView {
  state: Job['state'];
  /** 1 for the next to go; null once it is on its way. */
  position: number | null;
  /** When it is expected to be sent. */
  eta: number | null;
  waitReason?: Job['waitReason'];
  resumed: boolean;
}

export interface QueueView {
  quota: Quota;
  waiting: number;
  inFlight: number;
  /** Sending is paused until the month turns (the month's limit is used). */
  pausedUntil: number | null;
  /** Anthropic asked to wait, or its spend cap is reached: the reason, while it lasts. */
  serverPause: Pause | null;
  /** Try now's one request through that pause: allowed to go, or on its way (null: none, or it was cut off). */
  probe: 'allowed' | 'sending' | null;
  /** Anthropic's own figures for the key (or a gateway's, named by its host in `by`), while its window lasts. */
  server: { limit: number; left: number; reset: number; by?: string } | null;
  /** Input and output tokens this rolling minute, for each token limit that is set. */
  tokens: { input: TokenMinute | null; output: TokenMinute | null };
  jobs: Map<string, JobView>;
}

export function queueView(now: number, records: QueueRecords): QueueView {
  const { limits } = records;
  const monthKey = monthWindow(now, limits.monthStart).key;
  const recentSends = records.counters.find((c) => c.key === RECENT_KEY)?.times ?? [];
  const srv = records.server && now < records.server.reset ? records.server : null;
  const othersMonth = othersMonthOf(records.others ?? null, monthKey).requests;
  const state = {
    recentSends,
    monthCount: (records.counters.find((c) => c.key === monthKey)?.count ?? 0) + othersMonth,
    pauseUntil: records.pause?.until,
    probeAllowed: records.pause?.probe === 'allowed',
    server: srv ?? undefined,
    tokens: records.tokens,
  };
  const q = quota(now, limits, state);
  const order = waitingOrder(records.jobs);
  const etas = estimateStarts(now, limits, state, order.length);
  const jobs = new Map<string, JobView>();
  order.forEach((job, i) => {
    // Anthropic's pause and figures are in the estimate already, as they stand now: Try now's probe
    // may have replaced the pause the job was marked with.
    const eta = Math.max(etas[i] ?? now, job.waitReason === 'server' ? 0 : (job.waitUntil ?? 0));
    jobs.set(job.id, { state: job.state, position: i + 1, eta, waitReason: job.waitReason, resumed: !!job.resumed });
  });
  for (const job of records.jobs) {
    if (!jobs.has(job.id)) jobs.set(job.id, { state: job.state, position: null, eta: null, resumed: !!job.resumed });
  }
  return {
    quota: q,
    waiting: order.length,
    inFlight: records.jobs.filter((j) => isInFlight(j.state)).length,
    pausedUntil: q.monthLeft === 0 ? q.monthResetAt : null,
    serverPause: records.pause && records.pause.until > now ? records.pause : null,
    probe: probeOf(now, records),
    server: srv
      ? {
          limit: srv.limit,
          left: Math.max(0, srv.remaining - recentSends.filter((t) => t >= srv.observedAt).length),
          reset: srv.reset,
          ...(srv.by === undefined ? {} : { by: srv.by }),
        }
      : null,
    tokens: {
      input: limits.inputPerMinute
        ? { used: tokensInWindow(records.tokens?.input ?? [], now, WINDOW_MS), limit: limits.inputPerMinute }
        : null,
      output: limits.outputPerMinute
        ? { used: tokensInWindow(records.tokens?.output ?? [], now, WINDOW_MS), limit: limits.outputPerMinute }
        : null,
    },
    jobs,
  };
}

function probeOf(now: number, { pause, jobs }: QueueRecords): QueueView['probe'] {
  if (!pause || pause.until <= now) return null;
  if (pause.probe === 'allowed') return 'allowed';
  return pause.probe === 'used' && jobs.some((j) => j.id === pause.probeJob && isInFlight(j.state)) ? 'sending' : null;
}
