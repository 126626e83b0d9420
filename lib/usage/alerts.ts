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
export type Threshold = 80 | 95 | 100;
export const THRESHOLDS: readonly Threshold[] = [80, 95, 100];

export interface AlertState {
  month: string;
  fired: number[];
}

export interface AlertToggles {
  at80: boolean;
  at95: boolean;
  at100: boolean;
}

const enabledFor = (t: Threshold, e: AlertToggles) => (t === 80 ? e.at80 : t === 95 ? e.at95 : e.at100);

export function dueAlerts(
  state: AlertState | null,
  monthKey: string,
  used: number,
  limit: number,
  enabled: AlertToggles,
): { fire: Threshold[]; state: AlertState } {
  const fired = state?.month === monthKey ? [...state.fired] : [];
  const reached = THRESHOLDS.filter((t) => limit > 0 && used * 100 >= t * limit && enabledFor(t, enabled) && !fired.includes(t));
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

const count = (n: number) => n.toLocaleString('en-US');

/** The notification for a threshold; `resetText` is when the month turns ("1 Dec, 00:00 UTC"). */
export function alertText(threshold: Threshold, used: number, limit: number, resetText: string): { title: string; body: string } {
  if (threshold === 100) {
    return {
      title: "Pace: this month's requests are used up",
      body: `All ${count(limit)} requests of this month are used. Pace refuses new questions until ${resetText}, so nothing goes over; raise the monthly limit in the options if your plan allows more.`,
    };
  }
  const left = Math.max(0, limit - used);
  return {
    title: `Pace: ${threshold}% of this month's requests used`,
    body: `${count(used)} of ${count(limit)} requests used; ${count(left)} left until ${resetText}.`,
  };
}

/** The notification when Anthropic refuses requests; `waitText` is how long it asked to wait ("23 s"). */
export function refusalAlertText(waitText: string | null): { title: string; body: string } {
  return {
    title: 'Pace: Anthropic is refusing requests',
    body: `Anthropic answered "rate limited" (429)${waitText ? ` and asked to wait ${waitText}` : ''}. Queued questions are sent when it allows again.`,
  };
}
