/**
 * Browser notifications about the month's use: when it passes 80%, 95% and 100% of the monthly
 * limit (each once a month) and when Anthropic starts refusing requests (at most once an hour).
 * What was shown is kept in IndexedDB, decided and recorded in one transaction, so two triggers at
 * once never show the same alert twice. Each alert can be turned off in the options.
 */
import { coalesce } from '../coalesce';
import { formatReset } from '../limits/format';
import { readQuotaState } from '../limits/limiter-store';
import { monthWindow } from '../limits/month-window';
import type { UsagePrefs } from '../settings/usage-prefs';
import type { AlertState, PaceDB } from '../storage/db';
import { alertText, dueAlerts, refusalAlertDue, refusalAlertText, type Refusal } from './alerts';
import { warn } from '../warn';

export interface Notify {
  (id: string, title: string, message: string): Promise<void>;
}

export interface UsageAlertDeps {
  db: PaceDB;
  prefs: () => Promise<Pick<UsagePrefs, 'alerts'>>;
  notify: Notify;
  now?: () => number;
  log?: (message: string, detail?: unknown) => void;
}

export interface UsageAlerts {
  /** Looks at this month's count and shows any threshold alert due; safe to call on every change. */
  checkUsage(): Promise<void>;
  /** Anthropic refused a request (429 or the spend cap); `waitText` says for how long, or until when. */
  refused(reason: Refusal, waitText: string | null, by?: string): Promise<void>;
}

async function readState(db: PaceDB): Promise<AlertState | null> {
  const row = await db.meta.get('alerts');
  return row?.key === 'alerts' ? row.value : null;
}

export function createUsageAlerts(deps: UsageAlertDeps): UsageAlerts {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? warn;

  async function checkOnce(): Promise<void> {
    const { alerts } = await deps.prefs();
    if (!alerts.at80 && !alerts.at95 && !alerts.at100) return;
    const t = now();
    const decide = async () => {
      const [{ limits, state: window }, state] = await Promise.all([readQuotaState(db, t), readState(db)]);
      const month = monthWindow(t, limits.monthStart);
      const used = window.monthCount;
      return { limits, month, used, state, due: dueAlerts(state, month.key, used, limits.perMonth, alerts) };
    };
    // This runs on every change of the queue and almost never has anything to show: look first
    // without a write lock on the counters admission writes, then decide and record in one.
    if ((await db.transaction('r', db.counters, db.meta, decide)).due.fire.length === 0) return;
    const decided = await db.transaction('rw', db.counters, db.meta, async () => {
      const d = await decide();
      if (d.due.fire.length > 0)
        await db.meta.put({ key: 'alerts', value: { ...d.due.state, refusedAt: d.state?.refusedAt ?? null } });
      return d;
    });
    // Passing 80% and 95% in one step shows only the higher alert.
    const top = decided.due.fire.at(-1);
    if (top) {
      const { limits, month, used } = decided;
      const { title, body } = alertText(top, used, limits.perMonth, formatReset(month.end, limits.monthStart));
      await deps.notify(`pace-usage-${month.key}-${top}`, title, body);
    }
  }

  const checkUsage = coalesce(checkOnce, (err) => log('could not check the usage alerts', err));

  return {
    checkUsage,
    async refused(reason, waitText, by) {
      try {
        if (!(await deps.prefs()).alerts.refused) return;
        const t = now();
        const due = await db.transaction('rw', db.meta, async () => {
          const state = await readState(db);
          if (!refusalAlertDue(state?.refusedAt ?? null, t)) return false;
          await db.meta.put({
            key: 'alerts',
            value: { month: state?.month ?? '', fired: state?.fired ?? [], refusedAt: t },
          });
          return true;
        });
        if (!due) return;
        const { title, body } = refusalAlertText(reason, waitText, by);
        await deps.notify(`pace-refused-${t}`, title, body);
      } catch (err) {
        log('could not show the refusal alert', err);
      }
    },
  };
}
