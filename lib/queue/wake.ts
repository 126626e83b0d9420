/**
 * Wakes the queue at the time the scheduler asks for: a timer while the worker lives, and an
 * alarm that wakes a stopped one. `createWake(deps)` returns the scheduler's `wakeAt`.
 *
 * Timers are capped: a delay above 2^31-1 ms (about 24.8 days) does not wait at all in browsers
 * or Node, it fires at once, so a spend-cap pause set early in a month would spin the queue. A
 * long wait gets a timer of at most MAX_TIMER_MS (the queue then looks again and sets the next
 * one) and relies on the alarm, which takes any date.
 */

/** Far below the 2^31-1 ms every timer implementation overflows at; a look per hour costs nothing. */
export const MAX_TIMER_MS = 60 * 60 * 1000;

/** The delay to give a timer for a wake at `at`: never negative, never above MAX_TIMER_MS, never NaN. */
export function timerDelay(at: number, now: number): number {
  const delay = at - now;
  if (Number.isNaN(delay)) return MAX_TIMER_MS;
  return Math.min(MAX_TIMER_MS, Math.max(0, delay));
}

export interface WakeDeps {
  now: () => number;
  /** Runs the queue. */
  pump: () => void;
  /** Sets the one alarm that wakes a stopped worker at `at` (replacing any earlier one); null clears it. */
  alarm: (at: number | null) => void;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

export function createWake(deps: WakeDeps): (at: number | null) => void {
  const setTimer = deps.setTimer ?? ((run, ms) => setTimeout(run, ms));
  const clearTimer = deps.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  let timer: unknown;
  return (at) => {
    clearTimer(timer);
    timer = undefined;
    if (at === null) {
      deps.alarm(null);
      return;
    }
    timer = setTimer(
      () => {
        timer = undefined;
        deps.pump();
      },
      timerDelay(at, deps.now()),
    );
    // An alarm takes a date only; a wake that is not one is left to the timer's next look.
    deps.alarm(Number.isFinite(at) ? at : null);
  };
}
