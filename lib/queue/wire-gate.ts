/**
 * The last door before the network, in the worker. Every request for an answer passes it after the
 * transaction that admits it has committed and just before it goes on the wire (the runner,
 * lib/queue/chat-runner.ts), so what the API said a moment ago holds for requests admitted
 * before it said it:
 * - A 429 or a 529 that asks to wait `close`s the door until its retry-after has passed, the moment
 *   its status is known and before anything is written: a request already admitted, of any
 *   conversation, waits there and is sent then, counted once. Only Try now's probe passes it.
 * - Rate-limit figures that have arrived but whose write has not committed are `track`ed: the queue
 *   waits for them (`settled`) before it admits anything, so no admission decides on figures older
 *   than the last response's headers.
 * - The requests on the wire whose headers have not come back are known (`sent`, `answered`): a
 *   response's figures may not include them yet, so they are taken off it (lib/limits/token-store.ts).
 * It keeps nothing across a stopped worker: the pause itself is in IndexedDB (lib/limits/limiter-store.ts
 * `pauseAll`), which admission reads, and a restarted worker admits nothing that was not admitted again.
 */

export interface WireGate {
  /** Nothing passes before `until` (a 429's or 529's retry-after); a later close wins. */
  close(until: number): void;
  /** Try now's probe was answered: Anthropic accepts requests again. */
  open(): void;
  /** When the door opens again, or null when it is open at `now`. */
  closedUntil(now: number): number | null;
  /**
   * Resolves once a request may go on the wire: at once when open (or for the probe), else when the
   * door opens. Rejects with the signal's reason when `signal` aborts first (Stop while it waits).
   */
  pass(options: { probe?: boolean; signal?: AbortSignal }): Promise<void>;
  /** A write of rate-limit figures that the queue's next admission must see. */
  track(write: Promise<unknown>): void;
  /** Resolves when every tracked write has ended (committed or failed). */
  settled(): Promise<void>;
  /** `jobId`'s request is on the wire; its headers have not come back. */
  sent(jobId: string): void;
  /** `jobId`'s response (or failure) has come back. */
  answered(jobId: string): void;
  /** The jobs whose requests are on the wire without an answer yet. */
  onTheWire(): string[];
}

export interface WireGateDeps {
  now: () => number;
  /** Resolves after `ms` (setTimeout by default). */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createWireGate(deps: WireGateDeps): WireGate {
  const sleep = deps.sleep ?? defaultSleep;
  let until = 0;
  const pending = new Set<Promise<unknown>>();
  const wire = new Set<string>();

  const abortError = (signal: AbortSignal) =>
    signal.reason instanceof Error ? signal.reason : new DOMException('Aborted', 'AbortError');
  /** Rejects when `signal` aborts: raced against each wait at a closed door. */
  const aborted = (signal: AbortSignal) =>
    new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(abortError(signal)), { once: true }),
    );

  return {
    close(at) {
      if (Number.isFinite(at) && at > until) until = at;
    },
    open() {
      until = 0;
    },
    closedUntil(now) {
      return until > now ? until : null;
    },
    async pass({ probe = false, signal }) {
      if (signal?.aborted) throw abortError(signal);
      if (probe || until <= deps.now()) return;
      const stop = signal ? aborted(signal) : null;
      stop?.catch(() => undefined);
      // A close that comes while it waits moves the time on: it looks again after each wait.
      for (let t = deps.now(); until > t; t = deps.now()) {
        const wait = sleep(until - t);
        await (stop ? Promise.race([wait, stop]) : wait);
      }
    },
    track(write) {
      const settled = write.then(
        () => undefined,
        () => undefined,
      );
      pending.add(settled);
      void settled.then(() => pending.delete(settled));
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    sent(jobId) {
      wire.add(jobId);
    },
    answered(jobId) {
      wire.delete(jobId);
    },
    onTheWire() {
      return [...wire];
    },
  };
}
