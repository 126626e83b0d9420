import { countedFigure } from '@/lib/badge/badge-text';
import { browser } from 'wxt/browser';
import { formatCount, formatReset, formatWait } from '@/lib/limits/format';
import { noMonthCap } from '@/lib/limits/plans';
import type { Limits } from '@/lib/storage/rows';
import type { QueueView } from '@/lib/queue/queue-view';
import { TokenFigures } from './TokenFigures';
import { BudgetLeft } from './BudgetLeft';

/** Always on screen in the popup: what is left this minute and this month, and what waits. */
export function QuotaBar({
  view,
  limits,
  now,
  onClear,
  onTryNow,
}: {
  view: QueueView;
  limits: Limits;
  now: number;
  onClear: () => void;
  onTryNow: () => void;
}) {
  const q = view.quota;
  // The figure the badge counts down is coloured as the badge is; the other stays plain.
  const counted = countedFigure(limits, q);
  const levelOf = (per: 'minute' | 'month') => `level-${counted.per === per ? counted.level : 'ok'}`;
  // A gateway's pause is named by its host: its word is not passed off as Anthropic's.
  const pauseBy = view.serverPause?.by ?? 'Anthropic';
  return (
    <section className="quota" aria-label="Requests left" data-testid="quota">
      <div className="quota-row">
        <span className={`quota-minute ${levelOf('minute')}`} data-testid="quota-minute">
          <strong>{formatCount(q.minuteLeft)}</strong>/{formatCount(limits.perMinute)} this minute
          {q.minuteResetAt !== null && q.minuteLeft < limits.perMinute && (
            <> · resets in {formatWait(q.minuteResetAt - now)}</>
          )}
        </span>
        {noMonthCap(limits) ? (
          <span className="quota-month level-ok" data-testid="quota-month">
            <strong>{formatCount(q.monthUsed)}</strong> sent this month · no monthly request cap
          </span>
        ) : (
          <span className={`quota-month ${levelOf('month')}`} data-testid="quota-month">
            <strong>{formatCount(q.monthLeft)}</strong>/{formatCount(limits.perMonth)} this month · resets{' '}
            {formatReset(q.monthResetAt, limits.monthStart)}
          </span>
        )}
        <button
          type="button"
          className="link"
          data-testid="quota-usage"
          onClick={() => void browser.tabs.create({ url: browser.runtime.getURL('/usage.html') })}
        >
          Usage
        </button>
      </div>
      <TokenFigures tokens={view.tokens} />
      <BudgetLeft now={now} />
      {view.server && (
        <div className="quota-row" data-testid="quota-server">
          <span>
            {view.server.by ?? 'Anthropic'}: {formatCount(view.server.left)} of {formatCount(view.server.limit)} left
            this minute
          </span>
        </div>
      )}
      {view.serverPause && (
        <p className="quota-paused" role="status" data-testid="quota-pause">
          {view.serverPause.reason === 'rate_limited'
            ? `${pauseBy} asked us to wait: sending resumes in ${formatWait(view.serverPause.until - now)}.`
            : view.serverPause.message}{' '}
          {view.probe ? (
            <span data-testid="quota-probe">
              {view.probe === 'allowed' && view.waiting === 0
                ? `Your next message goes now, to ask ${pauseBy} again.`
                : `One message goes now, to ask ${pauseBy} again; the rest wait for its answer.`}
            </span>
          ) : (
            <button
              type="button"
              className="link"
              onClick={onTryNow}
              title={`Send the next message now to ask ${pauseBy} again; the rest wait for its answer`}
            >
              Try now
            </button>
          )}
        </p>
      )}
      {view.pausedUntil !== null && (
        <p className="quota-paused" role="status">
          This month&apos;s limit is used: sending is paused until {formatReset(view.pausedUntil, limits.monthStart)}.
        </p>
      )}
      {view.waiting > 0 && (
        <div className="quota-row" data-testid="quota-waiting">
          <span>{formatCount(view.waiting)} waiting to be sent</span>
          <button type="button" className="link" onClick={onClear}>
            Clear queue
          </button>
        </div>
      )}
    </section>
  );
}
