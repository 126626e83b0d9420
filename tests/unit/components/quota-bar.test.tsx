import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { QuotaBar } from '@/components/quota/QuotaBar';
import { startEarlyQuota } from '@/components/quota/early-quota';
import { BADGE_COLORS, badgeFor, countedFigure } from '@/lib/badge/badge-text';
import { quota } from '@/lib/limits/admission';
import { DEFAULT_LIMITS, PLANS } from '@/lib/limits/plans';
import type { Limits } from '@/lib/storage/rows';
import type { QueueView } from '@/lib/queue/queue-view';

const NOW = Date.UTC(2026, 10, 27, 12);
const start: Limits = {
  ...DEFAULT_LIMITS,
  plan: 'start',
  perMinute: PLANS.start.perMinute,
  perMonth: PLANS.start.perMonth,
};

function view(limits: Limits, monthCount: number, sentThisMinute: number): QueueView {
  return {
    quota: quota(NOW, limits, { recentSends: Array<number>(sentThisMinute).fill(NOW - 1_000), monthCount }),
    waiting: 0,
    inFlight: 0,
    pausedUntil: null,
    serverPause: null,
    probe: null,
    server: null,
    tokens: { input: null, output: null },
    jobs: new Map(),
  };
}

/** The class of the quota bar's element with this test id. */
function classOf(html: string, testId: string): string {
  return new RegExp(`class="([^"]*)" data-testid="${testId}"`).exec(html)?.[1] ?? '';
}

const render = (limits: Limits, v: QueueView) =>
  renderToStaticMarkup(
    <QuotaBar view={v} limits={limits} now={NOW} onClear={() => undefined} onTryNow={() => undefined} />,
  );

describe('QuotaBar', () => {
  it('colours the figure the badge counts down, as the badge colours it: the minute under a tier preset with no monthly cap', () => {
    const v = view(start, 12, 900);
    expect(countedFigure(start, v.quota)).toEqual({ per: 'minute', left: 100, level: 'low' });
    expect(badgeFor(NOW, start, v.quota, { waiting: 0, minuteWaitUntil: null }).color).toBe(BADGE_COLORS.low);
    const html = render(start, v);
    expect(classOf(html, 'quota-minute')).toContain('level-low');
    expect(classOf(html, 'quota-month')).toContain('level-ok');
  });

  it('colours the month, and leaves the minute plain, where there is a monthly cap', () => {
    const v = view(DEFAULT_LIMITS, 4_000, 9);
    expect(countedFigure(DEFAULT_LIMITS, v.quota)).toEqual({ per: 'month', left: 1_000, level: 'low' });
    const html = render(DEFAULT_LIMITS, v);
    expect(classOf(html, 'quota-month')).toContain('level-low');
    expect(classOf(html, 'quota-minute')).toContain('level-ok');
  });
});

describe("the popup's early quota line", () => {
  /** The text of the element whose class starts with `cls` (tags dropped). */
  const textOf = (html: string, cls: string) =>
    (new RegExp(`<span class="${cls}[^"]*"[^>]*>([\\s\\S]*?)</span>`).exec(html)?.[1] ?? '').replace(/<[^>]+>/g, '');

  it('says what QuotaBar then says, a send near the end of the rolling minute included', async () => {
    // 60.1 s ago: past a plain minute, still inside the limiter's (it has a 250 ms safety margin), so it still counts.
    const recentSends = [NOW - 60_100, NOW - 10_000];
    const line = { dataset: {} as Record<string, string>, innerHTML: '' };
    const doc = { getElementById: () => line } as unknown as Document;
    startEarlyQuota(doc, Promise.resolve({ limits: start, monthCount: 7, recentSends }), NOW);
    await expect.poll(() => line.innerHTML).not.toBe('');
    const live = render(start, { ...view(start, 7, 0), quota: quota(NOW, start, { recentSends, monthCount: 7 }) });
    for (const cls of ['quota-minute', 'quota-month']) {
      expect(textOf(line.innerHTML, cls)).not.toBe('');
      expect(textOf(line.innerHTML, cls)).toBe(textOf(live, cls));
    }
  });
});
