/** The worker's default log for what it got past: a warning with Pace's prefix and the detail, if any. */
export const warn = (message: string, detail?: unknown): void => console.warn(`[pace] ${message}`, detail ?? '');
