/** The request limits a user can pick, and their validation. */
import { capital, parseWholeNumber } from '../settings/validate';
import { formatCount } from './format';

export type PlanId = 'free' | 'paid' | 'custom';
export type MonthStart = 'utc' | 'local';

export interface Limits {
  plan: PlanId;
  perMinute: number;
  perMonth: number;
  /** Spread sends evenly (one every 60/N s) instead of allowing a burst of N. */
  smooth: boolean;
  /** When the month turns: 00:00 UTC on the 1st (Anthropic's reset) or local midnight. */
  monthStart: MonthStart;
}

export const PLANS: Record<Exclude<PlanId, 'custom'>, { label: string; perMinute: number; perMonth: number }> = {
  free: { label: 'Free', perMinute: 10, perMonth: 5_000 },
  paid: { label: 'Paid', perMinute: 60, perMonth: 250_000 },
};

export const DEFAULT_LIMITS: Limits = { plan: 'free', ...pick(PLANS.free), smooth: false, monthStart: 'utc' };

function pick(p: { perMinute: number; perMonth: number }) {
  return { perMinute: p.perMinute, perMonth: p.perMonth };
}

export const MAX_PER_MINUTE = 100_000;
export const MAX_PER_MONTH = 1_000_000_000;

export type LimitsInput = { plan: string; perMinute: string | number; perMonth: string | number; smooth: boolean; monthStart: string };
export type LimitsErrors = Partial<Record<'plan' | 'perMinute' | 'perMonth' | 'monthStart', string>>;

function wholeNumber(label: string, raw: string | number, max: number): number | string {
  const parsed = parseWholeNumber(raw, label);
  if (!parsed.ok) return parsed.message;
  const n = parsed.value;
  if (n < 1) return `${capital(label)} must be at least 1 (got ${String(raw).trim().slice(0, 20)}).`;
  if (n > max) return `${capital(label)} can be at most ${formatCount(max)}.`;
  return n;
}

/** Checks the limits form; a named plan takes its own figures, Custom takes the typed ones. */
export function checkLimits(input: LimitsInput): { ok: true; value: Limits } | { ok: false; errors: LimitsErrors } {
  const errors: LimitsErrors = {};
  if (input.plan !== 'free' && input.plan !== 'paid' && input.plan !== 'custom') errors.plan = 'Pick Free, Paid or Custom.';
  if (input.monthStart !== 'utc' && input.monthStart !== 'local') errors.monthStart = 'Pick when the month starts: UTC or local time.';
  let perMinute: number | string;
  let perMonth: number | string;
  if (input.plan === 'free' || input.plan === 'paid') {
    ({ perMinute, perMonth } = PLANS[input.plan]);
  } else {
    perMinute = wholeNumber('requests per minute', input.perMinute, MAX_PER_MINUTE);
    perMonth = wholeNumber('requests per month', input.perMonth, MAX_PER_MONTH);
  }
  if (typeof perMinute === 'string') errors.perMinute = perMinute;
  if (typeof perMonth === 'string') errors.perMonth = perMonth;
  if (typeof perMinute === 'number' && typeof perMonth === 'number' && perMonth < perMinute) {
    errors.perMonth = `A month's limit (${perMonth.toLocaleString('en-US')}) below the per-minute one (${perMinute.toLocaleString('en-US')}) makes no sense: raise it to at least ${perMinute.toLocaleString('en-US')}.`;
  }
  if (Object.keys(errors).length > 0 || typeof perMinute !== 'number' || typeof perMonth !== 'number') return { ok: false, errors };
  return {
    ok: true,
    value: { plan: input.plan as PlanId, perMinute, perMonth, smooth: input.smooth === true, monthStart: input.monthStart as MonthStart },
  };
}
