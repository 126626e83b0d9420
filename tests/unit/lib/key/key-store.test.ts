import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { createHandlers } from '@/lib/background/handlers';
import {
  currentCredentials,
  keyBlocker,
  keyOrigins,
  keyStatus,
  removeKey,
  saveKey,
  savedKey,
  unlockKey,
} from '@/lib/key/key-store';
import { addExchange } from '@/lib/chat/conversation-store';
import type { KeyStatus } from '@/lib/protocol';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { confirmKeyOrigin, settingsItem } from '@/lib/settings/settings-items';
import { readSettings } from '@/lib/settings/stored-settings';
import { PaceDB } from '@/lib/storage/db';
import { storedKeys } from '@/lib/background/app';
import { testBackground } from '../background/background-app';
import { failure, handlerDeps } from '../background/handler-deps';

const KEY = 'sk-ant-api03-key-store-test-Wx7q';
const PASS = 'a passphrase long enough';
// Sealing and unlocking run the real PBKDF2 (600,000 iterations, about a second here), so these tests get time.

let db: PaceDB;
beforeEach(() => {
  db = new PaceDB(`key-store-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

/** The handlers wired to the real key store, as lib/background/app.ts does. */
function handlers() {
  return createHandlers(
    handlerDeps(db, DEFAULT_SETTINGS.baseURL, {
      credentials: currentCredentials,
      keys: {
        status: keyStatus,
        save: saveKey,
        unlock: unlockKey,
        remove: removeKey,
        saved: savedKey,
        blocker: keyBlocker,
        origins: keyOrigins,
      },
    }),
  );
}

/** Every value in one storage area, as text, to search for what must not be there. */
async function area(name: 'local' | 'session'): Promise<string> {
  return JSON.stringify(await fakeBrowser.storage[name].get(null));
}

/** What closing the browser does to extension storage: the session area is emptied. */
async function restartBrowser() {
  await fakeBrowser.storage.session.clear();
}

const status = (s: Partial<KeyStatus>): KeyStatus => ({
  hasKey: true,
  last4: KEY.slice(-4),
  demo: false,
  remember: 'device',
  sealed: false,
  locked: false,
  ...s,
});

describe('keeping the key', { timeout: 30_000 }, () => {
  it('on this device by default: in storage.local, and still there after the browser restarts', async () => {
    const h = handlers();
    expect(await h['key.save']({ key: KEY, remember: 'device', passphrase: null })).toEqual(status({}));
    expect(await area('local')).toContain(KEY);
    expect(await area('session')).not.toContain(KEY);
    await restartBrowser();
    expect(await h['key.status']({})).toEqual(status({}));
    expect(await currentCredentials()).toMatchObject({ apiKey: KEY, demo: false });
  });

  it('for this session only: nothing in storage.local, and gone after the browser restarts', async () => {
    const h = handlers();
    expect(await h['key.save']({ key: KEY, remember: 'session', passphrase: null })).toEqual(
      status({ remember: 'session' }),
    );
    expect(await area('local')).not.toContain(KEY);
    expect(await area('local')).not.toContain(KEY.slice(-4));
    expect(await area('session')).toContain(KEY);
    expect(await currentCredentials()).toMatchObject({ apiKey: KEY });
    await restartBrowser();
    expect(await h['key.status']({})).toEqual({
      hasKey: false,
      last4: null,
      demo: false,
      remember: null,
      sealed: false,
      locked: false,
    });
    expect(await currentCredentials()).toBeNull();
    expect(await keyBlocker()).toMatchObject({ code: 'no_key' });
  });

  it('saving in one place removes the key from the other', async () => {
    const h = handlers();
    await h['key.save']({ key: KEY, remember: 'device', passphrase: null });
    await h['key.save']({ key: 'sk-ant-second-key-0002', remember: 'session', passphrase: null });
    expect(await area('local')).not.toContain('sk-ant-');
    await h['key.save']({ key: KEY, remember: 'device', passphrase: PASS });
    expect(await area('session')).not.toContain('sk-ant-second-key');
    expect(await h['key.status']({})).toEqual(status({ sealed: true }));
  });
});

describe('a key locked with a passphrase', { timeout: 30_000 }, () => {
  it('stores no plaintext key (nor the passphrase) anywhere in storage.local, only the sealed key and last four', async () => {
    const h = handlers();
    expect(await h['key.save']({ key: KEY, remember: 'device', passphrase: PASS })).toEqual(status({ sealed: true }));
    const local = await area('local');
    expect(local).not.toContain(KEY);
    expect(local).not.toContain(KEY.slice(0, 12));
    expect(local).not.toContain(PASS);
    expect(local).toContain('"iterations":600000');
    expect(local).toContain(`"last4":"${KEY.slice(-4)}"`);
    // Just saved: open for this session, without asking.
    expect(await currentCredentials()).toMatchObject({ apiKey: KEY });
  });

  it('is locked after a browser restart: no credentials, sends refused as locked, queued jobs fail as locked', async () => {
    const h = handlers();
    await h['key.save']({ key: KEY, remember: 'device', passphrase: PASS });
    const queued = await addExchange(db, {
      conversationId: null,
      text: 'queued before the restart',
      now: Date.now(),
      newId: () => crypto.randomUUID(),
      model: 'm',
    });
    await restartBrowser();

    expect(await h['key.status']({})).toEqual(status({ sealed: true, locked: true }));
    expect(await currentCredentials()).toBeNull();
    expect(await savedKey()).toBeNull();

    const refused = await failure(h['chat.send']({ conversationId: null, text: 'hello' }));
    expect(refused.code).toBe('locked');
    expect(refused.message).toContain('Unlock it');
    expect(await db.messages.count()).toBe(2);

    const tested = await failure(h['key.test']({ key: null, baseURL: DEFAULT_SETTINGS.baseURL }));
    expect(tested).toMatchObject({ code: 'locked', field: 'key' });

    // The worker starts with the key locked: the queued job fails as locked, and nothing is sent.
    await testBackground(db, DEFAULT_SETTINGS.baseURL, { keys: storedKeys }).app.start();
    expect(await db.jobs.get(queued.assistantMessageId)).toMatchObject({ state: 'failed' });
    expect(await db.messages.get(queued.assistantMessageId)).toMatchObject({
      status: 'error',
      error: expect.objectContaining({ code: 'locked' }) as unknown,
    });
  });

  it('a wrong passphrase, any number of times, says so and keeps the sealed key; the right one unlocks', async () => {
    const h = handlers();
    await h['key.save']({ key: KEY, remember: 'device', passphrase: PASS });
    await restartBrowser();
    const sealedBefore = await area('local');

    for (const wrong of ['a passphrase long enougH', 'nope', 'a passphrase long enough ']) {
      const error = await failure(h['key.unlock']({ passphrase: wrong }));
      expect(error).toMatchObject({ code: 'invalid_input', field: 'passphrase' });
      expect(error.message).toMatch(/^That passphrase does not unlock the saved key/);
      expect(JSON.stringify(error)).not.toContain(wrong);
      expect(await area('local')).toBe(sealedBefore);
      expect(await area('session')).not.toContain(KEY);
      expect((await h['key.status']({})).locked).toBe(true);
    }
    expect(await failure(h['key.unlock']({ passphrase: '' }))).toMatchObject({
      field: 'passphrase',
      message: 'Type your passphrase first.',
    });

    expect(await h['key.unlock']({ passphrase: PASS })).toEqual(status({ sealed: true }));
    expect(await currentCredentials()).toMatchObject({ apiKey: KEY });
    expect(await keyBlocker()).toBeNull();
    // Still nothing in the clear at rest: the opened key lives in the session area only.
    expect(await area('local')).toBe(sealedBefore);
    await expect(h['chat.send']({ conversationId: null, text: 'now it goes' })).resolves.toHaveProperty(
      'assistantMessageId',
    );
  });

  it('stays unlocked for a restarted service worker (a fresh module reads only storage)', async () => {
    await handlers()['key.save']({ key: KEY, remember: 'device', passphrase: PASS });
    await restartBrowser();
    await unlockKey(PASS);
    vi.resetModules();
    const fresh = await import('@/lib/key/key-store');
    expect(await fresh.keyStatus()).toEqual(status({ sealed: true }));
    expect(await fresh.savedKey()).toBe(KEY);
  });

  it('a damaged sealed key is reported as damaged, not as a wrong passphrase, and is not deleted', async () => {
    const h = handlers();
    await h['key.save']({ key: KEY, remember: 'device', passphrase: PASS });
    await restartBrowser();
    const { sealedApiKey } = (await fakeBrowser.storage.local.get('sealedApiKey')) as {
      sealedApiKey: { sealed: { ciphertext: string } };
    };
    const c = sealedApiKey.sealed.ciphertext;
    sealedApiKey.sealed.ciphertext = (c[0] === 'A' ? 'B' : 'A') + c.slice(1);
    await fakeBrowser.storage.local.set({ sealedApiKey });
    const error = await failure(h['key.unlock']({ passphrase: PASS }));
    expect(error).toMatchObject({ code: 'locked', action: 'open_options' });
    expect(error.message).toContain('damaged');
    expect(await fakeBrowser.storage.local.get('sealedApiKey')).toEqual({ sealedApiKey });
  });

  it('unlocking with no sealed key is refused', async () => {
    await handlers()['key.save']({ key: KEY, remember: 'device', passphrase: null });
    expect(await failure(handlers()['key.unlock']({ passphrase: PASS }))).toMatchObject({ code: 'invalid_input' });
  });

  it.each([
    [{ remember: 'device', passphrase: '' }, 'Type a passphrase'],
    [{ remember: 'device', passphrase: 'seven77' }, 'at least 8 characters'],
    [{ remember: 'session', passphrase: PASS }, 'never written to disk'],
  ] as const)('refuses %o with a specific message and saves nothing', async (where, words) => {
    const error = await failure(handlers()['key.save']({ key: KEY, ...where }));
    expect(error).toMatchObject({ code: 'invalid_input', field: 'passphrase' });
    expect(error.message).toContain(words);
    expect(await area('local')).not.toContain(KEY.slice(-4));
    expect(await area('session')).not.toContain(KEY);
  });
});

describe('Remove key', { timeout: 30_000 }, () => {
  it.each([
    ['on this device', { remember: 'device', passphrase: null }],
    ['for this session', { remember: 'session', passphrase: null }],
    ['sealed and unlocked', { remember: 'device', passphrase: PASS }],
  ] as const)('wipes a key kept %s from every storage area', async (_label, where) => {
    const h = handlers();
    await h['key.save']({ key: KEY, ...where });
    expect(await h['key.remove']({})).toEqual({
      hasKey: false,
      last4: null,
      demo: false,
      remember: null,
      sealed: false,
      locked: false,
    });
    for (const name of ['local', 'session'] as const) {
      const all = await area(name);
      expect(all).not.toContain(KEY.slice(-4));
      expect(all).not.toContain('ciphertext');
    }
    expect(await currentCredentials()).toBeNull();
  });

  it('wipes the gateway headers with the key, and keeps the other settings', async () => {
    const h = handlers();
    await h['key.save']({ key: KEY, remember: 'device', passphrase: null });
    const settings = { ...DEFAULT_SETTINGS, maxTokens: 777, extraHeaders: 'x-team-token: team-secret-0123456789' };
    await settingsItem.setValue(settings);
    await h['key.remove']({});
    expect(await settingsItem.getValue()).toEqual({ ...settings, extraHeaders: '' });
    expect(await area('local')).not.toContain('team-secret');
  });

  it('removes a locked key without its passphrase, and a new one can be saved', async () => {
    const h = handlers();
    await h['key.save']({ key: KEY, remember: 'device', passphrase: PASS });
    await restartBrowser();
    await h['key.remove']({});
    expect(await area('local')).not.toContain('ciphertext');
    expect(await h['key.save']({ key: 'sk-ant-replacement-9999', remember: 'device', passphrase: null })).toEqual(
      status({ last4: '9999' }),
    );
  });
});

describe('settings as the background reads them', () => {
  it('a stored base URL the form would refuse is never used with the key: the default is, and the log names the field once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await handlers()['key.save']({ key: KEY, remember: 'device', passphrase: null });
    await settingsItem.setValue({
      ...DEFAULT_SETTINGS,
      baseURL: 'http://gateway.example.com',
      extraHeaders: 'x-team: secret-team-token',
    });
    expect(await currentCredentials()).toEqual({ apiKey: KEY, baseURL: DEFAULT_SETTINGS.baseURL, demo: false });
    expect(await readSettings()).toMatchObject({ baseURL: DEFAULT_SETTINGS.baseURL, extraHeaders: '' });
    const said = warn.mock.calls.map((c) => c.join(' ')).filter((t) => t.includes('stored settings'));
    expect(said).toEqual(['[pace] stored settings not valid, using the default for: baseURL']);
    expect(said.join()).not.toContain(KEY);
    expect(said.join()).not.toContain('gateway.example.com');
    warn.mockRestore();
  });
});

describe('a gateway the user has not confirmed', () => {
  const GATEWAY = 'http://127.0.0.1:1234';

  it('gets no key: nothing is sent and every refusal says to confirm it on the options page, until the user does', async () => {
    const h = handlers();
    await h['key.save']({ key: KEY, remember: 'device', passphrase: null });
    await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: `${GATEWAY}/anthropic` });
    expect(await currentCredentials()).toBeNull();
    const blocked = await keyBlocker();
    expect(blocked).toMatchObject({ code: 'origin_unconfirmed', action: 'open_options' });
    expect(blocked?.message).toContain(`Pace has not sent your API key to ${GATEWAY}`);
    expect(await failure(h['chat.send']({ conversationId: null, text: 'hi' }))).toEqual(blocked);
    expect(await db.messages.count()).toBe(0);

    await confirmKeyOrigin(GATEWAY);
    expect(await keyOrigins()).toEqual([GATEWAY]);
    expect(await keyBlocker()).toBeNull();
    expect(await currentCredentials()).toEqual({ apiKey: KEY, baseURL: `${GATEWAY}/anthropic`, demo: false });
  });

  it("Anthropic's own API needs no confirmation", async () => {
    await handlers()['key.save']({ key: KEY, remember: 'device', passphrase: null });
    expect(await keyBlocker()).toBeNull();
    expect(await currentCredentials()).toEqual({ apiKey: KEY, baseURL: DEFAULT_SETTINGS.baseURL, demo: false });
  });
});
