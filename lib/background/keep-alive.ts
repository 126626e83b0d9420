/**
 * Keeps an MV3 service worker alive while a request is in flight, as Chrome documents for long
 * work: calling an extension API resets the worker's 30-second idle timer. Counted, so it stops
 * as soon as the last request ends and the worker can sleep again.
 */
export interface KeepAlive {
  start(): void;
  stop(): void;
  readonly active: number;
}

export function createKeepAlive(
  ping: () => Promise<unknown>,
  everyMs = 20_000,
  onError: (e: unknown) => void = console.warn,
): KeepAlive {
  let active = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    start() {
      active += 1;
      if (active === 1) timer = setInterval(() => void ping().catch(onError), everyMs);
    },
    stop() {
      if (active === 0) return;
      active -= 1;
      if (active === 0) clearInterval(timer);
    },
    get active() {
      return active;
    },
  };
}
