/**
 * The user's API key. Background only (an ESLint rule keeps pages from importing lib/background):
 * the key is read here and handed to the SDK client, and nowhere else.
 *
 * Where it lives, by the user's choice (at most one of these holds a key):
 * - on this device: `local:apiKey`, in the clear, in the extension's own storage;
 * - until the browser closes: `session:apiKey` (storage.session, kept in memory only);
 * - on this device behind a passphrase: `local:sealedApiKey` (see key-vault.ts) with the key's last
 *   four characters. Once unlocked, the opened key is kept in `session:openedApiKey`, so a
 *   restarted service worker does not ask again; the browser closing locks it.
 */
import { defineItem } from '../storage/item';
import type { Credentials } from '../claude/client';
import { DEMO_KEY, DEMO_URL } from '../demo';
import { checkOrigins, unconfirmedOrigin, unconfirmedOriginError } from '../settings/key-origins';
import type { KeyStatus } from '../protocol';
import type { KeepKey } from './keep-keys';
import type { PaceError } from '../storage/rows';
import { keyOriginsItem, storedPrefs } from '../settings/settings-items';
import { LOCKED_ERROR, NO_KEY_ERROR } from '../claude/errors';
import { isSealedKey, openKey, sealKey, type OpenFailure, type SealedKey } from './key-vault';
import { readSettings } from '../settings/stored-settings';

interface SealedRecord {
  sealed: SealedKey;
  last4: string;
}

const apiKeyItem = defineItem<string | null>('local:apiKey', { fallback: null, version: 1 });
const sessionKeyItem = defineItem<string | null>('session:apiKey', { fallback: null });
const sealedKeyItem = defineItem<SealedRecord | null>('local:sealedApiKey', { fallback: null, version: 1 });
const openedKeyItem = defineItem<string | null>('session:openedApiKey', { fallback: null });

export type UnlockResult = { ok: true; status: KeyStatus } | { ok: false; reason: OpenFailure | 'not_sealed' };

type KeyState =
  | { kind: 'none' }
  | { kind: 'device' | 'session'; key: string }
  | { kind: 'sealed'; last4: string; key: string | null };

async function current(): Promise<KeyState> {
  const [sealed, opened, local, session] = await Promise.all([
    sealedKeyItem.getValue(),
    openedKeyItem.getValue(),
    apiKeyItem.getValue(),
    sessionKeyItem.getValue(),
  ]);
  if (sealed !== null) return { kind: 'sealed', last4: sealed.last4, key: opened };
  if (local !== null) return { kind: 'device', key: local };
  if (session !== null) return { kind: 'session', key: session };
  return { kind: 'none' };
}

export async function keyStatus(): Promise<KeyStatus> {
  const s = await current();
  if (s.kind === 'none')
    return { hasKey: false, last4: null, demo: DEMO_URL !== '', remember: null, sealed: false, locked: false };
  return {
    hasKey: true,
    last4: s.kind === 'sealed' ? s.last4 : s.key.slice(-4),
    demo: false,
    remember: s.kind === 'session' ? 'session' : 'device',
    sealed: s.kind === 'sealed',
    locked: s.kind === 'sealed' && s.key === null,
  };
}

/**
 * Saves a checked key where the user asked, replacing any other. A passphrase seals it on this
 * device (and it counts as unlocked for this session: the user just typed both).
 */
export async function saveKey(
  key: string,
  { remember, passphrase }: { remember: KeepKey; passphrase: string | null },
): Promise<KeyStatus> {
  if (passphrase !== null && remember !== 'device')
    throw new Error('Only a key kept on this device is sealed with a passphrase.');
  const sealed = passphrase === null ? null : await sealKey(key, passphrase);
  await wipe();
  if (sealed) {
    await sealedKeyItem.setValue({ sealed, last4: key.slice(-4) });
    await openedKeyItem.setValue(key);
  } else if (remember === 'session') {
    await sessionKeyItem.setValue(key);
  } else {
    await apiKeyItem.setValue(key);
  }
  return keyStatus();
}

/** Opens the sealed key for this browser session. A wrong passphrase changes nothing: try again. */
export async function unlockKey(passphrase: string): Promise<UnlockResult> {
  const record = await sealedKeyItem.getValue();
  if (record === null) return { ok: false, reason: 'not_sealed' };
  if (!isSealedKey(record.sealed)) return { ok: false, reason: 'damaged' };
  const opened = await openKey(record.sealed, passphrase);
  if (!opened.ok) return opened;
  await openedKeyItem.setValue(opened.key);
  return { ok: true, status: await keyStatus() };
}

/** Removes the key and the gateway headers with it: the user asked to forget both secrets. */
export async function removeKey(): Promise<KeyStatus> {
  await wipe();
  // Through the settings' one write path, with the stored settings as read (and checked) by the background.
  await storedPrefs.saveSettings({ ...(await readSettings()), extraHeaders: '' });
  return keyStatus();
}

async function wipe(): Promise<void> {
  await Promise.all([
    apiKeyItem.removeValue(),
    sessionKeyItem.removeValue(),
    sealedKeyItem.removeValue(),
    openedKeyItem.removeValue(),
  ]);
}

/** The key itself, or null when none is saved or it is locked. */
export async function savedKey(): Promise<string | null> {
  const s = await current();
  return s.kind === 'none' ? null : s.key;
}

/** The origins besides Anthropic's that the user confirmed may receive the key. */
export async function keyOrigins(): Promise<string[]> {
  return checkOrigins(await keyOriginsItem.getValue());
}

/**
 * The key and base URL for the next call; the demo backend (no user key) when no key is set in a
 * demo build. Null while locked, and while the saved base URL is an origin the user has not confirmed.
 */
export async function currentCredentials(): Promise<(Credentials & { demo: boolean }) | null> {
  const [s, settings, origins] = await Promise.all([current(), readSettings(), keyOrigins()]);
  if (s.kind !== 'none') {
    if (s.key === null || unconfirmedOrigin(settings.baseURL, origins) !== null) return null;
    return { apiKey: s.key, baseURL: settings.baseURL, demo: false };
  }
  if (DEMO_URL !== '') return { apiKey: DEMO_KEY, baseURL: DEMO_URL, demo: true };
  return null;
}

/** Why nothing can be sent right now (no key, a key still locked, a gateway not confirmed), or null when a call can be made. */
export async function keyBlocker(): Promise<PaceError | null> {
  // One read of each item, at once (it runs on every pump with work to do), the same answer as currentCredentials.
  const [s, settings, origins] = await Promise.all([current(), readSettings(), keyOrigins()]);
  if (s.kind === 'sealed' && s.key === null) return LOCKED_ERROR;
  if (s.kind === 'none') return DEMO_URL === '' ? NO_KEY_ERROR : null;
  const origin = unconfirmedOrigin(settings.baseURL, origins);
  return origin === null ? null : unconfirmedOriginError(origin);
}
