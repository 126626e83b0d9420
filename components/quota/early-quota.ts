/**
 * The popup's quota line before React (issue 23: the month's quota on screen with the message box):
 * popup.html holds an empty line (`#early-quota`) where the QuotaBar draws, and the early script
 * (entrypoints/early-composer.ts) fills it from IndexedDB (lib/limits/early-quota-read.ts) with the
 * first row QuotaBar draws: this minute's and this month's requests left, and the reset. React shows
 * this line (EarlyQuota.tsx) until the live one has read the queue, then draws QuotaBar in its place.
 * No React and no Dexie here: this runs before either is loaded.
 */
import { formatCount, formatReset, formatWait } from '@/lib/limits/format';
import { quota } from '@/lib/limits/admission';
import { noMonthCap } from '@/lib/limits/plans';
import type { EarlyQuotaFigures } from '@/lib/limits/early-quota-read';

export const EARLY_QUOTA_ID = 'early-quota';
/**
 * The line before its figures are read (as in popup.html): the row with typical figures, hidden, so
 * it is as high as the figures will be (in the popup's 400 px they wrap to two lines) and filling it moves nothing.
 */
export const EMPTY_QUOTA_ROW =
  '<div class="quota-row" style="visibility: hidden"><span><strong>0</strong>/0 this minute</span><span><strong>0</strong>/0 this month · resets 1 Jan, 00:00 UTC</span><button type="button" class="link" tabindex="-1">Usage</button></div>';

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** QuotaBar's first row, as it draws it from the same figures (`quota`; colours aside: the level comes with React). */
function earlyQuotaHtml({ limits, monthCount, recentSends }: EarlyQuotaFigures, now: number): string {
  const q = quota(now, limits, { recentSends, monthCount });
  const reset =
    q.minuteResetAt !== null && q.minuteLeft < limits.perMinute
      ? ` · resets in ${formatWait(q.minuteResetAt - now)}`
      : '';
  const minute = `<span class="quota-minute level-ok"><strong>${formatCount(q.minuteLeft)}</strong>/${formatCount(limits.perMinute)} this minute${reset}</span>`;
  const month = noMonthCap(limits)
    ? `<span class="quota-month level-ok"><strong>${formatCount(q.monthUsed)}</strong> sent this month · no monthly request cap</span>`
    : `<span class="quota-month level-ok"><strong>${formatCount(q.monthLeft)}</strong>/${formatCount(limits.perMonth)} this month · resets ${escape(formatReset(q.monthResetAt, limits.monthStart))}</span>`;
  return `<div class="quota-row">${minute}${month}<button type="button" class="link" tabindex="-1">Usage</button></div>`;
}

/** Fills the early line with the figures once read; nothing when there are none (React draws them). */
export function startEarlyQuota(doc: Document, figures: Promise<EarlyQuotaFigures | null>, now: number): void {
  figures.then(
    (read) => {
      const line = doc.getElementById(EARLY_QUOTA_ID);
      if (read && line && line.dataset.filled === undefined) {
        line.innerHTML = earlyQuotaHtml(read, now);
        line.dataset.filled = '';
      }
    },
    (err: unknown) => console.warn('[pace] could not read the quota early', err),
  );
}

/** What the early line shows, for React to keep showing until the live quota is read; the empty row when nothing yet. */
export function adoptEarlyQuota(doc: Document | undefined = globalThis.document): string {
  const line = doc?.getElementById(EARLY_QUOTA_ID);
  return line?.dataset.filled !== undefined ? line.innerHTML : EMPTY_QUOTA_ROW;
}
