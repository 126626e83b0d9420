/**
 * Keeps the toolbar badge right: recomputed on every change of the queue or the windows, every
 * second while a job counts down to its send, and at the next window boundary otherwise.
 */
import { browser as defaultBrowser, type WxtBrowser } from 'wxt/browser';
import { badgeFor, type BadgeView } from './badge-text';
import { coalesce } from '../coalesce';
import { quota } from '../limits/admission';
import { readQuotaState } from '../limits/limiter-store';
import { readBudgetView } from '../limits/budget-store';
import type { PaceDB } from '../storage/db';
import { isJob } from '../storage/row-guards';

export interface BadgeTarget {
  show(view: BadgeView): Promise<void>;
}

/** The toolbar button: `action` in MV3, `browserAction` in Firefox's MV2. */
export function toolbarBadge(browser: Pick<WxtBrowser, 'action' | 'browserAction'> = defaultBrowser): BadgeTarget {
  const action = import.meta.env.MANIFEST_VERSION === 3 ? browser.action : browser.browserAction;
  return {
    async show(view) {
      await Promise.all([
        action.setBadgeText({ text: view.text }),
        action.setBadgeBackgroundColor({ color: view.color }),
        action.setTitle({ title: view.title }),
      ]);
    },
  };
}

export async function currentBadge(db: PaceDB, now: number): Promise<{ view: BadgeView; nextChangeAt: number }> {
  const { limits, state } = await readQuotaState(db, now);
  const q = quota(now, limits, state);
  const waiting = (await db.jobs.where('state').anyOf('queued', 'waiting').toArray()).filter(isJob);
  const minuteWaits = waiting
    .filter(
      (j) =>
        (j.waitReason === 'minute' ||
          j.waitReason === 'smooth' ||
          j.waitReason === 'inputTokens' ||
          j.waitReason === 'outputTokens') &&
        j.waitUntil !== undefined &&
        j.waitUntil > now,
    )
    .map((j) => j.waitUntil!);
  const minuteWaitUntil = minuteWaits.length ? Math.min(...minuteWaits) : null;
  const budget = await readBudgetView(db, now);
  const view = badgeFor(
    now,
    limits,
    q,
    { waiting: waiting.length, minuteWaitUntil },
    budget && { count: budget.budget.badge, periods: budget.periods },
  );
  const boundaries = [
    q.monthResetAt,
    q.minuteResetAt ?? Infinity,
    minuteWaitUntil !== null ? now + 1000 - (now % 1000) : Infinity,
    ...(budget?.periods.map((p) => p.end) ?? []),
  ];
  return { view, nextChangeAt: Math.min(...boundaries) };
}

export function createBadgeUpdater(db: PaceDB, target: BadgeTarget, now: () => number = Date.now, log = console.warn) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = '';

  async function refreshOnce() {
    const t = now();
    const { view, nextChangeAt } = await currentBadge(db, t);
    const key = JSON.stringify(view);
    if (key !== last) {
      await target.show(view);
      last = key;
    }
    clearTimeout(timer);
    // setTimeout cannot wait longer than about 24 days; the month's alarm covers the rest.
    timer = setTimeout(() => void refresh(), Math.min(Math.max(50, nextChangeAt - t + 5), 3_600_000));
  }

  const refresh = coalesce(refreshOnce, (err) => log('[pace] could not update the badge', err));

  return { refresh };
}
