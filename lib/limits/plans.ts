/** The request and token limits a user can pick, the plans that preset them, and their validation. */
import { capital, parseWholeNumber } from '../settings/validate';
import { formatCount } from './format';
import { MONTH_STARTS, type Limits, type MonthStart, type PlanId } from '../storage/rows';

export interface Plan {
  label: string;
  perMinute: number;
  perMonth: number;
  inputPerMinute: number | null;
  outputPerMinute: number | null;
  /** Anthropic's monthly spend cap for the tier, in US dollars (shown with the preset; Pace's spend budget is its own setting). */
  spendCapUsd?: number;
}

export const MAX_PER_MINUTE = 100_000;
export const MAX_PER_MONTH = 1_000_000_000;
export const MAX_TOKENS_PER_MINUTE = 1_000_000_000;

/**
 * Whether the month counts no requests: Anthropic's tiers (Start, Build, Scale) cap spend, not
 * requests, so their month is set to the largest figure, which the screens say as "no monthly cap"
 * instead of showing a billion.
 */
export function noMonthCap(limits: Pick<Limits, 'perMonth'>): boolean {
  return limits.perMonth >= MAX_PER_MONTH;
}

/**
 * When Anthropic's tier figures below were read (docs, autumn 2026: Start, Build and Scale, for the
 * Sonnet 5 / Opus 5 / Haiku 4.5 classes). Data, not logic: update them together with this date.
 * Anthropic counts no requests per month; its tiers cap spend instead, so their month is unlimited here.
 */
export const TIERS_AS_OF = '2026-11';

export const PLANS: Record<Exclude<PlanId, 'custom'>, Plan> = {
  free: { label: 'Free', perMinute: 10, perMonth: 5_000, inputPerMinute: null, outputPerMinute: null },
  paid: { label: 'Paid', perMinute: 60, perMonth: 250_000, inputPerMinute: null, outputPerMinute: null },
  start: {
    label: 'Start',
    perMinute: 1_000,
    perMonth: MAX_PER_MONTH,
    inputPerMinute: 2_000_000,
    outputPerMinute: 400_000,
    spendCapUsd: 500,
  },
  build: {
    label: 'Build',
    perMinute: 5_000,
    perMonth: MAX_PER_MONTH,
    inputPerMinute: 5_000_000,
    outputPerMinute: 1_000_000,
    spendCapUsd: 1_000,
  },
  scale: {
    label: 'Scale',
    perMinute: 10_000,
    perMonth: MAX_PER_MONTH,
    inputPerMinute: 10_000_000,
    outputPerMinute: 2_000_000,
    spendCapUsd: 200_000,
  },
};

export const PLAN_IDS = Object.keys(PLANS) as Exclude<PlanId, 'custom'>[];

const isNamedPlan = (plan: string): plan is Exclude<PlanId, 'custom'> => Object.hasOwn(PLANS, plan);

export const DEFAULT_LIMITS: Limits = {
  plan: 'free',
  perMinute: PLANS.free.perMinute,
  perMonth: PLANS.free.perMonth,
  smooth: false,
  monthStart: 'utc',
};

/** "Start (1,000/min, 2,000,000 input and 400,000 output tokens/min; Anthropic caps spend at $500/month)". */
export function planLabel(id: Exclude<PlanId, 'custom'>): string {
  const p = PLANS[id];
  const month = p.perMonth >= MAX_PER_MONTH ? '' : `, ${formatCount(p.perMonth)}/month`;
  const tokens =
    p.inputPerMinute !== null && p.outputPerMinute !== null
      ? `, ${formatCount(p.inputPerMinute)} input and ${formatCount(p.outputPerMinute)} output tokens/min`
      : '';
  const cap = p.spendCapUsd === undefined ? '' : `; Anthropic caps spend at $${formatCount(p.spendCapUsd)}/month`;
  return `${p.label} (${formatCount(p.perMinute)}/min${month}${tokens}${cap})`;
}

export type LimitsInput = {
  plan: string;
  perMinute: string | number;
  perMonth: string | number;
  smooth: boolean;
  monthStart: string;
  /** Empty, null or absent: no token limit. */
  inputPerMinute?: string | number | null;
  outputPerMinute?: string | number | null;
};
export type LimitsErrors = Partial<
  Record<'plan' | 'perMinute' | 'perMonth' | 'monthStart' | 'inputPerMinute' | 'outputPerMinute', string>
>;

function wholeNumber(label: string, raw: string | number, max: number): number | string {
  const parsed = parseWholeNumber(raw, label);
  if (!parsed.ok) return parsed.message;
  const n = parsed.value;
  if (n < 1) return `${capital(label)} must be at least 1 (got ${String(raw).trim().slice(0, 20)}).`;
  if (n > max) return `${capital(label)} can be at most ${formatCount(max)}.`;
  return n;
}

/** An optional token limit: empty (or null) is none, else a whole number from 1 to MAX_TOKENS_PER_MINUTE. */
function optionalTokens(label: string, raw: string | number | null | undefined): number | null | string {
  if (raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return null;
  return wholeNumber(label, raw, MAX_TOKENS_PER_MINUTE);
}

/** Checks the limits form; a named plan takes its own figures, Custom takes the typed ones. */
export function checkLimits(input: LimitsInput): { ok: true; value: Limits } | { ok: false; errors: LimitsErrors } {
  const errors: LimitsErrors = {};
  if (!isNamedPlan(input.plan) && input.plan !== 'custom')
    errors.plan = 'Pick Free, Paid, Start, Build, Scale or Custom.';
  if (!(MONTH_STARTS as readonly string[]).includes(input.monthStart))
    errors.monthStart = 'Pick when the month starts: UTC or local time.';
  let perMinute: number | string;
  let perMonth: number | string;
  let inputPerMinute: number | null | string;
  let outputPerMinute: number | null | string;
  if (isNamedPlan(input.plan)) {
    ({ perMinute, perMonth, inputPerMinute, outputPerMinute } = PLANS[input.plan]);
  } else {
    perMinute = wholeNumber('requests per minute', input.perMinute, MAX_PER_MINUTE);
    perMonth = wholeNumber('requests per month', input.perMonth, MAX_PER_MONTH);
    inputPerMinute = optionalTokens('input tokens per minute', input.inputPerMinute);
    outputPerMinute = optionalTokens('output tokens per minute', input.outputPerMinute);
  }
  if (typeof perMinute === 'string') errors.perMinute = perMinute;
  if (typeof perMonth === 'string') errors.perMonth = perMonth;
  if (typeof inputPerMinute === 'string') errors.inputPerMinute = inputPerMinute;
  if (typeof outputPerMinute === 'string') errors.outputPerMinute = outputPerMinute;
  if (typeof perMinute === 'number' && typeof perMonth === 'number' && perMonth < perMinute) {
    errors.perMonth = `A month's limit (${formatCount(perMonth)}) below the per-minute one (${formatCount(perMinute)}) makes no sense: raise it to at least ${formatCount(perMinute)}.`;
  }
  if (
    Object.keys(errors).length > 0 ||
    typeof perMinute !== 'number' ||
    typeof perMonth !== 'number' ||
    typeof inputPerMinute === 'string' ||
    typeof outputPerMinute === 'string'
  ) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    value: {
      plan: input.plan as PlanId,
      perMinute,
      perMonth,
      smooth: input.smooth === true,
      monthStart: input.monthStart as MonthStart,
      // No token limit is left out, as limits saved before there were token limits have it.
      ...(inputPerMinute === null ? {} : { inputPerMinute }),
      ...(outputPerMinute === null ? {} : { outputPerMinute }),
    },
  };
}
