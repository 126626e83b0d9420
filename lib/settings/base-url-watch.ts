/**
 * Anthropic's pause and rate-limit figures were said by one server: when the settings' base URL
 * changes, they are forgotten and the queue runs, so a pause from the old server (or from a
 * broken gateway) does not hold requests to the new one. app.ts calls this once.
 */
import { clearServerWait } from '../limits/limiter-store';
import type { Settings } from './validate';
import type { PaceDB } from '../storage/db';
import { warn } from '../warn';

export interface WatchedSettings {
  watch(cb: (next: Settings, before: Settings | null) => void): () => void;
}

/** Returns the function that stops watching. */
export function forgetWaitOnNewBaseURL(deps: {
  settings: WatchedSettings;
  db: PaceDB;
  pump: () => void;
  log?: (m: string, d?: unknown) => void;
}): () => void {
  const log = deps.log ?? warn;
  return deps.settings.watch((next, before) => {
    if (next.baseURL === before?.baseURL) return;
    clearServerWait(deps.db).then(
      () => deps.pump(),
      (err: unknown) => log("could not forget the old server's pause", err),
    );
  });
}
