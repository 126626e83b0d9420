/**
 * The settings as the background uses them: read from storage and checked again on every read
 * (lib/settings/validate.ts), so a damaged or hand-edited value never reaches a request. A field
 * that fails is replaced by its default and named in the log, once for each new set of failing
 * fields (only names, never values: a base URL or a header may hold a secret).
 */
import { checkStoredSettings, type Settings } from './validate';
import { settingsItem } from './settings-items';

// Only to say each problem once; a restarted worker saying it again is harmless.
let lastReported = '';

export async function readSettings(warn: (message: string) => void = console.warn): Promise<Settings> {
  const { value, invalid } = checkStoredSettings(await settingsItem.getValue());
  const report = invalid.join(', ');
  if (report !== lastReported) {
    lastReported = report;
    if (report) warn(`[pace] stored settings not valid, using the default for: ${report}`);
  }
  return value;
}
