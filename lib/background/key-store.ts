/**
 * The user's API key. Background only (an ESLint rule keeps pages from importing lib/background):
 * the key is read here and handed to the SDK client, and nowhere else.
 */
import { storage } from 'wxt/utils/storage';
import type { Credentials } from '../claude/client';
import { DEMO_KEY, DEMO_URL } from '../demo';
import type { KeyStatus } from '../protocol';
import { settingsItem } from '../storage/settings';

const apiKeyItem = storage.defineItem<string | null>('local:apiKey', { fallback: null, version: 1 });

export async function keyStatus(): Promise<KeyStatus> {
  const key = await apiKeyItem.getValue();
  return { hasKey: key !== null, last4: key ? key.slice(-4) : null, demo: key === null && DEMO_URL !== '' };
}

export async function saveKey(key: string): Promise<KeyStatus> {
  await apiKeyItem.setValue(key);
  return keyStatus();
}

export async function removeKey(): Promise<KeyStatus> {
  await apiKeyItem.removeValue();
  return keyStatus();
}

export async function savedKey(): Promise<string | null> {
  return apiKeyItem.getValue();
}

/** The key and base URL for the next call; the demo backend when no key is set in a demo build. */
export async function currentCredentials(): Promise<(Credentials & { demo: boolean }) | null> {
  const [key, settings] = await Promise.all([apiKeyItem.getValue(), settingsItem.getValue()]);
  if (key !== null) return { apiKey: key, baseURL: settings.baseURL, demo: false };
  if (DEMO_URL !== '') return { apiKey: DEMO_KEY, baseURL: DEMO_URL, demo: true };
  return null;
}
