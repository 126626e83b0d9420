/**
 * The user's choices for the response cache, the usage ledger and the usage alerts, and their
 * validation. Kept in extension storage next to the chat settings (lib/settings/settings-items.ts).
 */
import { formatCount } from '../limits/format';
import { capital, parseWholeNumber, type Checked } from './validate';

export interface UsagePrefs {
  /** How long an answer stays in the response cache; 0 turns the cache off. */
  cacheHours: number;
  /** Ledger rows older than this are pruned; the day and month totals are kept. */
  retentionDays: number;
  alerts: {
    /** This month's use passes 80%, 95%, 100% of the monthly limit. */
    at80: boolean;
    at95: boolean;
    at100: boolean;
    /** Anthropic starts refusing requests (429 or the spend cap). */
    refused: boolean;
  };
}

export const DEFAULT_USAGE_PREFS: UsagePrefs = {
  cacheHours: 24,
  retentionDays: 365,
  alerts: { at80: true, at95: true, at100: true, refused: true },
};

export const MAX_CACHE_HOURS = 24 * 30;
export const MIN_RETENTION_DAYS = 31;
export const MAX_RETENTION_DAYS = 3660;

export interface UsagePrefsInput {
  cacheHours: string | number;
  retentionDays: string | number;
  alerts: UsagePrefs['alerts'];
}

export type UsagePrefsErrors = Partial<Record<'cacheHours' | 'retentionDays', string>>;

function wholeNumber(input: string | number, what: string, min: number, max: number): Checked<number> {
  const parsed = parseWholeNumber(input, what);
  if (!parsed.ok || (parsed.value >= min && parsed.value <= max)) return parsed;
  return {
    ok: false,
    message: `${capital(what)} must be between ${formatCount(min)} and ${formatCount(max)} (got ${String(input).trim().slice(0, 20)}).`,
  };
}

export function checkUsagePrefs(
  input: UsagePrefsInput,
): { ok: true; value: UsagePrefs } | { ok: false; errors: UsagePrefsErrors } {
  const cacheHours = wholeNumber(
    input.cacheHours,
    'the cache lifetime in hours (0 turns the cache off)',
    0,
    MAX_CACHE_HOURS,
  );
  const retentionDays = wholeNumber(
    input.retentionDays,
    'how many days of usage detail to keep',
    MIN_RETENTION_DAYS,
    MAX_RETENTION_DAYS,
  );
  if (cacheHours.ok && retentionDays.ok) {
    const a = input.alerts;
    return {
      ok: true,
      value: {
        cacheHours: cacheHours.value,
        retentionDays: retentionDays.value,
        alerts: {
          at80: a?.at80 === true,
          at95: a?.at95 === true,
          at100: a?.at100 === true,
          refused: a?.refused === true,
        },
      },
    };
  }
  const errors: UsagePrefsErrors = {};
  if (!cacheHours.ok) errors.cacheHours = cacheHours.message;
  if (!retentionDays.ok) errors.retentionDays = retentionDays.message;
  return { ok: false, errors };
}
