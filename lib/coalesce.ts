/**
 * Wraps an async job so that calls never overlap: a call made while a run is going returns that
 * run, which then goes round once more. Many triggers (timers, events, messages) fold into at
 * most one extra run. A failed run is reported to `onError` and does not reject the callers.
 */
export function coalesce(run: () => Promise<void>, onError: (err: unknown) => void): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await run();
        } while (again);
      } catch (err) {
        onError(err);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}
