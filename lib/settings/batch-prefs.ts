/**
 * The user's choices for "later, half price" (Message Batches) and their validation: whether new
 * messages go later by default, how long questions are gathered before they go as one batch, and
 * how often a running batch is polled. Kept in extension storage (lib/settings/settings-items.ts).
 */
import { formatCount } from '../limits/format';
import { DEFAULT_BATCH_TIMING, type BatchTiming } from '../batch/batch-lifecycle';
import { capital, parseWholeNumber, type Checked } from './validate';

export interface BatchPrefs {
  /** New messages go "later, half price" unless the composer says otherwise. */
  sendLater: boolean;
  gatherSeconds: number;
  firstPollSeconds: number;
  maxPollSeconds: number;
}

export const DEFAULT_BATCH_PREFS: BatchPrefs = {
  sendLater: false,
  gatherSeconds: DEFAULT_BATCH_TIMING.gatherMs / 1000,
  firstPollSeconds: DEFAULT_BATCH_TIMING.firstPollMs / 1000,
  maxPollSeconds: DEFAULT_BATCH_TIMING.maxPollMs / 1000,
};

/** A day: a batch ends within 24 hours, so nothing is gained by waiting longer. */
const MAX_BATCH_SECONDS = 24 * 60 * 60;

export function batchTiming(prefs: BatchPrefs): BatchTiming {
  return {
    gatherMs: prefs.gatherSeconds * 1000,
    firstPollMs: prefs.firstPollSeconds * 1000,
    maxPollMs: Math.max(prefs.firstPollSeconds, prefs.maxPollSeconds) * 1000,
  };
}

export interface BatchPrefsInput {
  sendLater: boolean;
  gatherSeconds: string | number;
  firstPollSeconds: string | number;
  maxPollSeconds: string | number;
}

export type BatchPrefsErrors = Partial<Record<'gatherSeconds' | 'firstPollSeconds' | 'maxPollSeconds', string>>;

function seconds(input: string | number, what: string, min: number): Checked<number> {
  const parsed = parseWholeNumber(input, what);
  if (!parsed.ok || (parsed.value >= min && parsed.value <= MAX_BATCH_SECONDS)) return parsed;
  return {
    ok: false,
    message: `${capital(what)} must be between ${formatCount(min)} and ${formatCount(MAX_BATCH_SECONDS)} seconds (got ${String(input).trim().slice(0, 20)}).`,
  };
}

export function checkBatchPrefs(
  input: BatchPrefsInput,
): { ok: true; value: BatchPrefs } | { ok: false; errors: BatchPrefsErrors } {
  const gather = seconds(input.gatherSeconds, 'the gathering window', 0);
  const first = seconds(input.firstPollSeconds, 'the first look at a batch', 1);
  const max = seconds(input.maxPollSeconds, 'the longest wait between looks', 1);
  const errors: BatchPrefsErrors = {};
  if (!gather.ok) errors.gatherSeconds = gather.message;
  if (!first.ok) errors.firstPollSeconds = first.message;
  if (!max.ok) errors.maxPollSeconds = max.message;
  else if (first.ok && max.value < first.value)
    errors.maxPollSeconds = `The longest wait between looks (${max.value} s) cannot be shorter than the first look (${first.value} s).`;
  if (!gather.ok || !first.ok || !max.ok || errors.maxPollSeconds) return { ok: false, errors };
  return {
    ok: true,
    value: {
      sendLater: input.sendLater === true,
      gatherSeconds: gather.value,
      firstPollSeconds: first.value,
      maxPollSeconds: max.value,
    },
  };
}
