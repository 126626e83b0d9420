/** Refusals more than one namespace's handlers give. */
import { NO_KEY_ERROR } from '../../claude/errors';
import type { Deps } from './deps';
import type { PaceError } from '../../storage/rows';

/** A whole form refused: the first field's message, and every field's for the form to show in place. */
export function formRefused(errors: Partial<Record<string, string>>, fallback: string): PaceError {
  return { code: 'invalid_input', message: Object.values(errors)[0] ?? fallback, fields: errors };
}

/** Why there are no credentials: no key at all, a key still locked with its passphrase, or a gateway not confirmed. */
export async function missingKey(d: Pick<Deps, 'keys'>): Promise<PaceError> {
  return (await d.keys.blocker()) ?? NO_KEY_ERROR;
}
