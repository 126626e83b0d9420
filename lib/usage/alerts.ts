/**
 * When to tell the user that the month's requests run low, or that Anthropic refuses requests
 * (pure). The caller keeps the returned state (one small record) and shows a notification for each
 * threshold in `fire`, with `alertText`.
 *
 * Rules:
 * - each threshold (80, 95, 100 % of the month's limit) fires at most once a month, when used/limit
 *   first reaches it; a new month key starts over;
 * - a disabled threshold neither fires nor is marked, so turning it on mid-month still warns once
 *   the next time usage is checked (if usage is past it by then);
 * - when one check passes several enabled thresholds at once (say the limit was lowered), only the
 *   highest fires: one notification, not three. The lower ones are marked as passed.
 */
import { formatCount } from '../limits/format';
import type { UsagePrefs } from '../settings/usage-prefs';
import type { AlertState as StoredAlertState } from '../storage/db';

export type Threshold = 80 | 95 | 100;
const THRESHOLDS: readonly Threshold[] = [80, 95, 100];

/** What was shown this month: the stored record (lib/storage/db.ts) without the refusal time. */
export type AlertState = Pick<StoredAlertState, 'month' | 'fired'>;

export type AlertToggles = Pick<UsagePrefs['alerts'], 'at80' | 'at95' | 'at100'>;

const enabledFor = (t: Threshold, e: AlertToggles) => (t === 80 ? e.at80 : t === 95 ? e.at95 : e.at100);

export function dueAlerts(
  state: AlertState | null,
  monthKey: string,
  used: number,
  limit: number,
  enabled: AlertToggles,
): { fire: Threshold[]; state: AlertState } {
  const fired = state?.month === monthKey ? [...state.fired] : [];
  const reached = THRESHOLDS.filter(
    (t) => limit > 0 && used * 100 >= t * limit && enabledFor(t, enabled) && !fired.includes(t),
  );
  const fire = reached.length > 0 ? [reached[reached.length - 1]!] : [];
  return { fire, state: { month: monthKey, fired: [...fired, ...reached].sort((a, b) => a - b) } };
}

export const REFUSAL_ALERT_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Anthropic started refusing (429s): tell the user, unless that was already said in the last hour.
 * A `lastAt` in the future (the clock was set back) does not silence alerts.
 */
export function refusalAlertDue(lastAt: number | null, now: number): boolean {
  return lastAt === null || now < lastAt || now - lastAt >= REFUSAL_ALERT_INTERVAL_MS;
}

/** The notification for a threshold; `resetText` is when the month turns ("1 Dec, 00:00 UTC"). */
export function alertText(
  threshold: Threshold,
  used: number,
  limit: number,
  resetText: string,
): { title: string; body: string } {
  if (threshold === 100) {
    return {
      title: "Pace: this month's requests are used up",
      body: `All ${formatCount(limit)} requests of this month are used. Pace refuses new questions until ${resetText}, so nothing goes over; raise the monthly limit in the options if your plan allows more.`,
    };
  }
  const left = Math.max(0, limit - used);
  return {
    title: `Pace: ${threshold}% of this month's requests used`,
    body: `${formatCount(used)} of ${formatCount(limit)} requests used; ${formatCount(left)} left until ${resetText}.`,
  };
}

export type Refusal = 'rate_limited' | 'spend_limit';

/**
 * The notification when Anthropic (or the gateway `by`, named by its host) refuses requests. For a 429 `waitText` is how long it asked to
 * wait ("23 s"); for the spend limit, when sending resumes ("1 Dec, 00:00 UTC").
 */
export function refusalAlertText(
  reason: Refusal,
  waitText: string | null,
  by = 'Anthropic',
): { title: string; body: string } {
  if (reason === 'spend_limit') {
    return {
      title: "Pace: your organization's spend limit is reached",
      body: `${by} refuses requests until ${waitText ?? 'the limit resets'}. Pace has paused sending until then; an admin can raise the limit in the Anthropic Console.`,
    };
  }
  return {
    title: `Pace: ${by} is refusing requests`,
    body: `${by} answered "rate limited" (429)${waitText ? ` and asked to wait ${waitText}` : ''}. Queued questions are sent when it allows again.`,
  };
}
