import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import { startRedirectServer } from '../../support/redirect-server';
import { useClaudeServer } from '../../support/use-claude-server';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';

// One profile directory for the whole file: closing the browser and launching it again on the same
// profile is a browser restart (storage.local kept, storage.session gone).
const PASS = 'tangerine otter 42 lanterns';
let server: ClaudeServer;
let profile: string;
let browser: ChromiumWithExtension | undefined;

useClaudeServer((s) => (server = s));
beforeAll(() => {
  profile = mkdtempSync(join(tmpdir(), 'pace-key-safety-'));
});
afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
});

async function restart(): Promise<ChromiumWithExtension> {
  await browser?.close();
  browser = await launchChromiumWithExtension(undefined, { profileDir: profile });
  // Chromium registers a --load-extension extension afresh at every launch, so Pace's install handler
  // opens the options page each time; let it open first, or it may take over the page a test opens.
  const b = browser;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && !b.context.pages().some((p) => p.url().endsWith('/options.html')))
    await new Promise((r) => setTimeout(r, 100));
  return b;
}

/** Everything in the extension's storage.local, as text, read from the background. */
async function storedLocally(b: ChromiumWithExtension): Promise<string> {
  const sw = await b.worker();
  return sw.evaluate(async () =>
    JSON.stringify(
      await (
        globalThis as unknown as { chrome: { storage: { local: { get(k: null): Promise<unknown> } } } }
      ).chrome.storage.local.get(null),
    ),
  );
}

describe('the key stays secret, across browser restarts (real Chromium, MV3)', () => {
  it('options: a key saved with a passphrase works, and no plaintext key is at rest', async () => {
    const b = await restart();
    const options = new OptionsPage(await b.open('options.html', { width: 900, height: 1000 }));
    await options.setBaseURL(server.url);
    await options.saveSettings();

    // The confirm field must match, and the passphrase must be long enough; nothing is saved otherwise.
    await options.fillKeyForm(TEST_KEY, { passphrase: PASS, confirm: `${PASS}!` });
    await options.page.getByRole('button', { name: 'Save key' }).click();
    await options.page
      .getByTestId('passphrase-error')
      .filter({ hasText: 'The two passphrases do not match' })
      .waitFor();
    await options.fillKeyForm(TEST_KEY, { passphrase: 'short' });
    await options.page.getByRole('button', { name: 'Save key' }).click();
    await options.page.getByTestId('passphrase-error').filter({ hasText: 'at least 8 characters' }).waitFor();
    expect(await options.keyStatus().textContent()).toBe('No key saved yet.');

    await options.saveKey(TEST_KEY, { passphrase: PASS });
    expect(await options.keyStatus().textContent()).toBe(
      `A key ending in …${TEST_KEY.slice(-4)} is saved on this device, protected by a passphrase.`,
    );
    // The form forgets both the key and the passphrase once saved.
    expect(await options.keyField().inputValue()).toBe('');
    expect(await options.page.getByLabel('Passphrase', { exact: true }).inputValue()).toBe('');
    const html = await options.page.content();
    expect(html).not.toContain(TEST_KEY);
    expect(html).not.toContain(PASS);

    const popup = new Popup(await b.open('popup.html'));
    expect(await popup.unlockForm().count()).toBe(0);
    await popup.send('Hello before the restart');
    const done = await popup.answerWith('done');
    expect(await done.textContent()).toContain('You said: "Hello before the restart"');
    expect(server.messageRequests().at(-1)!.headers['authorization']).toBe(`Bearer ${TEST_KEY}`);

    const local = await storedLocally(b);
    expect(local).toContain('"iterations":600000');
    expect(local).not.toContain(TEST_KEY);
    expect(local).not.toContain(PASS);
    await options.page.close();
    await popup.page.close();
  });

  it('after a restart the popup asks for the passphrase: a wrong one is refused in place, the right one unlocks', async () => {
    const b = await restart();
    const popup = new Popup(await b.open('popup.html'));
    await popup.unlockForm().waitFor();
    expect(await popup.unlockForm().textContent()).toContain(`…${TEST_KEY.slice(-4)}`);
    expect(await popup.page.getByTestId('no-key-banner').count()).toBe(0);

    // Sending while locked is refused with a reason; the draft stays and nothing reaches the API.
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('Asked while locked');
    await popup.notice().filter({ hasText: 'locked with a passphrase' }).waitFor();
    expect(await popup.notice().getAttribute('data-code')).toBe('locked');
    expect(await popup.composer().inputValue()).toBe('Asked while locked');
    expect(server.messageRequests()).toHaveLength(0);

    // Any number of wrong tries: each says so, none locks the user out or deletes the key.
    for (const wrong of ['tangerine otter 42 lantern', 'not it at all']) {
      await popup.unlock(wrong);
      const error = popup.page.getByTestId('unlock-error');
      await error.filter({ hasText: 'That passphrase does not unlock the saved key' }).waitFor();
      expect(await popup.unlockForm().getByLabel('Passphrase').inputValue()).toBe('');
      expect(await popup.page.content()).not.toContain(wrong);
      // Typing again clears the message, so the next answer is the next try's.
      await popup.unlockForm().getByLabel('Passphrase').fill('x');
      await error.waitFor({ state: 'detached' });
    }

    await popup.unlock(PASS);
    await popup.unlockForm().waitFor({ state: 'detached' });
    // The refusal's notice goes with the lock.
    expect(await popup.notice().count()).toBe(0);
    await popup.composer().press('Enter');
    const done = await popup.answerWith('done');
    expect(await done.textContent()).toContain('You said: "Asked while locked"');
    const sent = server.messageRequests();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['authorization']).toBe(`Bearer ${TEST_KEY}`);
    const html = await popup.page.content();
    expect(html).not.toContain(TEST_KEY);
    expect(html).not.toContain(PASS);

    // A stopped service worker does not lock the key again: the opened key is in storage.session.
    const cdp = await b.context.newCDPSession(popup.page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await cdp.detach();
    await popup.page.reload();
    await popup.composer().waitFor();
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('After the worker stopped');
    const again = await popup.answerWith('done');
    expect(await again.textContent()).toContain('You said: "After the worker stopped"');
    expect(await popup.unlockForm().count()).toBe(0);
    expect(await storedLocally(b)).not.toContain(TEST_KEY);
    await popup.page.close();
  });

  it('an answer cut off by the restart fails as locked, and Retry sends it once unlocked', async () => {
    let b = browser!;
    server.script({ kind: 'stall', textBefore: 'Partial ' });
    let popup = new Popup(await b.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('Cut off by the restart');
    await popup.answerWith('streaming');
    await expect.poll(() => server.messageRequests().length).toBe(1);

    // On the next start the background takes the cut-off job up again, but the key is locked.
    b = await restart();
    popup = new Popup(await b.open('popup.html'));
    await popup.unlockForm().waitFor();
    const failed = await popup.answerWith('error');
    expect(await failed.getByTestId('answer-error').textContent()).toContain('locked with a passphrase');
    expect(await popup.questions().last().textContent()).toBe('Cut off by the restart');
    await failed.getByRole('button', { name: 'Retry' }).click();
    await popup.notice().filter({ hasText: 'locked with a passphrase' }).waitFor();
    expect(server.messageRequests()).toHaveLength(1);

    await popup.unlock(PASS);
    await popup.unlockForm().waitFor({ state: 'detached' });
    await popup.lastAnswer().getByRole('button', { name: 'Retry' }).click();
    const done = await popup.answerWith('done');
    expect(await done.textContent()).toContain('You said: "Cut off by the restart"');
    expect(server.messageRequests()).toHaveLength(2);
    await popup.page.close();
  });

  it('options: Remove key wipes a locked key without its passphrase; a session-only key is gone after a restart', async () => {
    let b = await restart();
    const options = new OptionsPage(await b.open('options.html', { width: 900, height: 1000 }));
    await options.keyStatus().filter({ hasText: 'It is locked: unlock it from the toolbar popup.' }).waitFor();
    await options.page.getByRole('button', { name: 'Remove key and gateway headers' }).click();
    await options.keyStatus().filter({ hasText: 'No key saved yet.' }).waitFor();
    expect(await storedLocally(b)).not.toContain('ciphertext');

    await options.saveKey(TEST_KEY, { remember: 'session' });
    expect(await options.keyStatus().textContent()).toBe(
      `A key ending in …${TEST_KEY.slice(-4)} is saved until the browser closes.`,
    );
    expect(await storedLocally(b)).not.toContain(TEST_KEY);
    let popup = new Popup(await b.open('popup.html'));
    await popup.page.getByRole('button', { name: 'New chat' }).click();
    await popup.send('With a session key');
    expect(await (await popup.answerWith('done')).textContent()).toContain('You said: "With a session key"');
    await options.page.close();
    await popup.page.close();

    b = await restart();
    popup = new Popup(await b.open('popup.html'));
    await popup.page.getByTestId('no-key-banner').waitFor();
    expect(await popup.unlockForm().count()).toBe(0);
    const after = new OptionsPage(await b.open('options.html', { width: 900, height: 1000 }));
    await after.keyStatus().filter({ hasText: 'No key saved yet.' }).waitFor();
    expect(await storedLocally(b)).not.toContain(TEST_KEY);
    await popup.page.close();
    await after.page.close();
  });
});

describe('the key goes only where the user decided (real Chromium, MV3)', () => {
  let fresh: ChromiumWithExtension | undefined;
  afterAll(async () => {
    await fresh?.close();
  });
  /** Every request that carried the key, in any header. */
  const withKey = (requests: { headers: Record<string, string> }[]) =>
    requests.filter((r) => Object.values(r.headers).some((v) => v.includes(TEST_KEY)));

  it('a saved gateway gets the key only once the user confirms it by name; the saved key is never tested at a typed, unsaved URL', async () => {
    fresh = await launchChromiumWithExtension();
    const other = await startClaudeServer();
    try {
      const options = new OptionsPage(await fresh.open('options.html', { width: 900, height: 1100 }));
      // The gateway first, with no key yet: nothing to ask.
      await options.setBaseURL(server.url);
      expect(await (await options.saveSettings()).textContent()).toMatch(/^Saved\./);
      // The key next: the page asks, naming the gateway, and "Not now" sends nothing.
      await options.saveKey(TEST_KEY, { confirm: false });
      const question = options.originQuestion('key');
      expect(await question.textContent()).toContain(
        `Send your API key to ${server.url}? Only do this for a gateway you trust.`,
      );
      await question.getByRole('button', { name: 'Not now' }).click();
      await question.waitFor({ state: 'detached' });

      const popup = new Popup(await fresh.open('popup.html'));
      await popup.send('Before I confirmed');
      const refused = popup.notice().filter({ hasText: `Pace has not sent your API key to ${server.url}` });
      await refused.waitFor();
      expect(await refused.textContent()).toContain('Confirm it on the options page');
      expect(withKey(server.requests)).toEqual([]);

      // Back on the options page the question is there again; yes lets the key go there.
      await options.page.reload();
      await options.confirmOrigin('key');
      await popup.composer().press('Enter');
      expect(await (await popup.answerWith('done')).textContent()).toContain('You said: "Before I confirmed"');
      expect(server.messageRequests().at(-1)!.headers['authorization']).toBe(`Bearer ${TEST_KEY}`);

      // Test key with the field empty tests the saved key at the saved base URL only, never at one typed and not saved.
      await options.setBaseURL(other.url);
      const result = await options.testKey();
      await result.getByText('The saved key is sent only to the saved base URL').waitFor();
      expect(await result.textContent()).toContain(`(${server.url}). Save the settings to use ${other.url}`);
      // A key typed for that URL goes there only if the user says yes to that origin too.
      await options.testKey(TEST_KEY, { confirm: false });
      expect(await options.originQuestion('key').textContent()).toContain(`Send your API key to ${other.url}?`);
      await options.originQuestion('key').getByRole('button', { name: 'Cancel' }).click();
      await result.getByText(`Not tested: nothing was sent to ${other.url}.`).waitFor();
      // Saving that URL asks too, in the settings form; Cancel saves nothing.
      await options.saveSettings({ confirm: false });
      expect(await options.originQuestion('settings').textContent()).toContain(
        `Send your API key to ${other.url}? Only do this for a gateway you trust.`,
      );
      await options.originQuestion('settings').getByRole('button', { name: 'Cancel' }).click();
      await options
        .settingsMessage()
        .filter({ hasText: `Nothing was saved: your key goes to ${other.url} only once you confirm it.` })
        .waitFor();
      expect(other.requests).toEqual([]);
      await options.page.close();
      await popup.page.close();
    } finally {
      await other.close();
    }
  });

  it('a base URL that redirects to another origin: refused, naming both; the other origin never sees the key or the gateway headers', async () => {
    const TEAM_SECRET = 'team-secret-0123456789';
    const gateway = await startRedirectServer(server.url);
    try {
      const options = new OptionsPage(await fresh!.open('options.html', { width: 900, height: 1100 }));
      await options.setBaseURL(gateway.url);
      await options.setExtraHeaders(`x-team-token: ${TEAM_SECRET}`);
      expect(await (await options.saveSettings()).textContent()).toMatch(/^Saved\./);
      // Saved gateway headers are secrets too: masked on the page.
      expect(await options.page.locator('#extra-headers').inputValue()).toBe('x-team-token: ••••••6789');
      expect(await options.page.content()).not.toContain(TEAM_SECRET);

      const popup = new Popup(await fresh!.open('popup.html'));
      await popup.page.getByRole('button', { name: 'New chat' }).click();
      await popup.send('Where does this go?');
      const failed = await popup.answerWith('error');
      expect(await failed.getByTestId('answer-error').textContent()).toContain(
        `${gateway.url} redirected the request to ${server.url}. Pace does not follow redirects`,
      );
      const result = await options.testKey();
      await result.getByText(`${gateway.url} redirected the request to ${server.url}`).waitFor();

      // The gateway the user confirmed got the requests, key and header; where it pointed got neither.
      expect(withKey(gateway.requests).length).toBeGreaterThan(0);
      expect(gateway.requests.some((r) => r.headers['x-team-token'] === TEAM_SECRET)).toBe(true);
      expect(withKey(server.requests)).toEqual([]);
      expect(server.requests.filter((r) => JSON.stringify(r.headers).includes(TEAM_SECRET))).toEqual([]);
      expect(server.messageRequests()).toEqual([]);

      // Remove key and gateway headers forgets both.
      await options.page.getByRole('button', { name: 'Remove key and gateway headers' }).click();
      await options.keyStatus().filter({ hasText: 'No key saved yet.' }).waitFor();
      await expect.poll(() => options.page.locator('#extra-headers').inputValue()).toBe('');
      expect(await storedLocally(fresh!)).not.toContain(TEAM_SECRET);
      await options.page.close();
      await popup.page.close();
    } finally {
      await gateway.close();
    }
  });
});
