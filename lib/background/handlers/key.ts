/** key.*: the API key's status, test, save, unlock and removal, and the gateway origins it may go to. */
import { listModels } from '../../claude/client';
import { LOCKED_ERROR, NO_KEY_ERROR, toPaceError, withoutSecrets } from '../../claude/errors';
import type { UnlockResult } from '../../key/key-store';
import { passphraseProblem } from '../../key/key-vault';
import { clearServerWait } from '../../limits/limiter-store';
import { PaceFailure, type ReplyOf, type RequestOf } from '../../protocol';
import { isGatewayOrigin, unconfirmedOrigin, unconfirmedOriginError } from '../../settings/key-origins';
import { checkApiKey, checkBaseURL } from '../../settings/validate';
import { forgetGatewayBudget } from '../../usage/gateway-budget';
import type { Deps } from './deps';
import type { PaceError } from '../../storage/rows';

export function keyStatus(d: Deps): Promise<ReplyOf<'key.status'>> {
  return d.keys.status();
}

export async function keyConfirmOrigin(
  d: Deps,
  { origin }: RequestOf<'key.confirmOrigin'>,
): Promise<ReplyOf<'key.confirmOrigin'>> {
  if (!isGatewayOrigin(origin)) {
    throw new PaceFailure({
      code: 'invalid_input',
      message: `"${origin.slice(0, 60)}" is not a gateway's origin: use https (such as https://gateway.example), or plain http only for this computer (localhost, 127.0.0.1, [::1]).`,
    });
  }
  await d.prefs.confirmOrigin(origin);
  return { origins: await d.keys.origins() };
}

/** The key a test is for: the one typed, else the saved one, which goes only to the saved base URL. */
async function keyToTest(d: Deps, key: string | null, url: string): Promise<string> {
  if (key !== null && key.trim() !== '') {
    const checked = checkApiKey(key);
    if (!checked.ok) throw new PaceFailure({ code: 'invalid_input', message: checked.message, field: 'key' });
    return checked.value;
  }
  const saved = await d.keys.saved();
  if (saved === null && (await d.keys.status()).locked) {
    throw new PaceFailure({
      ...LOCKED_ERROR,
      message: 'The saved key is locked. Unlock it in the popup, or paste the key here to test it.',
      field: 'key',
    });
  }
  if (saved === null)
    throw new PaceFailure({ ...NO_KEY_ERROR, message: 'Paste a key to test: none is saved yet.', field: 'key' });
  // The saved key goes only to the saved base URL, never to one typed in the form and not saved.
  const savedURL = (await d.settings()).baseURL;
  if (url !== savedURL) {
    throw new PaceFailure({
      code: 'invalid_input',
      message: `The saved key is sent only to the saved base URL (${savedURL}). Save the settings to use ${url}, or paste the key to test it there.`,
      field: 'baseURL',
    });
  }
  return saved;
}

export async function keyTest(d: Deps, { key, baseURL }: RequestOf<'key.test'>): Promise<ReplyOf<'key.test'>> {
  const url = checkBaseURL(baseURL);
  if (!url.ok) throw new PaceFailure({ code: 'invalid_input', message: url.message, field: 'baseURL' });
  const apiKey = await keyToTest(d, key, url.value);
  const unconfirmed = unconfirmedOrigin(url.value, await d.keys.origins());
  if (unconfirmed !== null) throw new PaceFailure({ ...unconfirmedOriginError(unconfirmed), field: 'baseURL' });
  try {
    const models = await listModels(
      d.createClient({ apiKey, baseURL: url.value }),
      AbortSignal.timeout(d.keyTestTimeoutMs ?? 15_000),
    );
    await d.rememberModels(models);
    return { models };
  } catch (err) {
    throw new PaceFailure(withoutSecrets(toPaceError(err, 'key-test', url.value), [apiKey]));
  }
}

export async function keySave(
  d: Deps,
  { key, remember, passphrase }: RequestOf<'key.save'>,
): Promise<ReplyOf<'key.save'>> {
  const checked = checkApiKey(key);
  if (!checked.ok) throw new PaceFailure({ code: 'invalid_input', message: checked.message, field: 'key' });
  if (passphrase !== null && remember === 'session') {
    throw new PaceFailure({
      code: 'invalid_input',
      message:
        'A key kept only until the browser closes is never written to disk, so it takes no passphrase. Keep it on this device to protect it with one.',
      field: 'passphrase',
    });
  }
  const problem = passphrase === null ? null : passphraseProblem(passphrase);
  if (problem) throw new PaceFailure({ code: 'invalid_input', message: problem, field: 'passphrase' });
  const status = await d.keys.save(checked.value, { remember, passphrase });
  // Anthropic's pause was about the old key, and so was the gateway's budget.
  await clearServerWait(d.db);
  await forgetGatewayBudget(d.db);
  void d.pump();
  return status;
}

const UNLOCK_ERRORS: Record<Exclude<UnlockResult, { ok: true }>['reason'], PaceError> = {
  wrong_passphrase: {
    code: 'invalid_input',
    message:
      'That passphrase does not unlock the saved key. Check it and try again, or remove the key on the options page and paste it again.',
    field: 'passphrase',
  },
  damaged: {
    code: 'locked',
    message: 'The saved key is damaged and cannot be unlocked. Remove it on the options page and paste your key again.',
    action: 'open_options',
  },
  not_sealed: { code: 'invalid_input', message: 'No saved key is locked with a passphrase.' },
};

export async function keyUnlock(d: Deps, { passphrase }: RequestOf<'key.unlock'>): Promise<ReplyOf<'key.unlock'>> {
  if (passphrase === '')
    throw new PaceFailure({ code: 'invalid_input', message: 'Type your passphrase first.', field: 'passphrase' });
  const result = await d.keys.unlock(passphrase);
  if (!result.ok) throw new PaceFailure(UNLOCK_ERRORS[result.reason]);
  void d.pump();
  return result.status;
}

export async function keyRemove(d: Deps): Promise<ReplyOf<'key.remove'>> {
  const status = await d.keys.remove();
  await clearServerWait(d.db);
  await forgetGatewayBudget(d.db);
  return status;
}
