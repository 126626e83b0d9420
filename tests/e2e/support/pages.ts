/** Page objects for Pace's options page and popup in Playwright, so tests read as a user's steps. */
import type { Locator, Page } from 'playwright-core';

export class OptionsPage {
  constructor(readonly page: Page) {}

  keyField = () => this.page.locator('#api-key');
  keyStatus = () => this.page.getByTestId('key-status');
  testResult = () => this.page.getByTestId('key-test-result');
  settingsMessage = () => this.page.getByTestId('settings-message');

  /** Saves a key, kept on this device (the default) or until the browser closes, with or without a passphrase. */
  async saveKey(key: string, { remember = 'device', passphrase = null }: { remember?: 'device' | 'session'; passphrase?: string | null } = {}) {
    await this.fillKeyForm(key, { remember, passphrase });
    await this.page.getByRole('button', { name: 'Save key' }).click();
    await this.keyStatus().filter({ hasText: `…${key.slice(-4)} is saved` }).waitFor();
  }

  /** Fills the key form without saving; `confirm` defaults to the passphrase. */
  async fillKeyForm(key: string, { remember = 'device', passphrase = null, confirm = passphrase }: { remember?: 'device' | 'session'; passphrase?: string | null; confirm?: string | null }) {
    // The form starts from the saved key's settings once its status has arrived.
    await this.page.locator('[data-testid=key-status]:not(:empty)').waitFor();
    await this.keyField().fill(key);
    await this.page.getByRole('radio', { name: remember === 'session' ? 'only until the browser closes' : 'on this device' }).check();
    if (remember === 'session') return;
    const protect = this.page.getByRole('checkbox', { name: 'Protect with a passphrase' });
    if ((await protect.isChecked()) !== (passphrase !== null)) await protect.click();
    if (passphrase === null) return;
    await this.page.getByLabel('Passphrase', { exact: true }).fill(passphrase);
    await this.page.getByLabel('Confirm passphrase').fill(confirm ?? '');
  }

  /** Presses Test key; the caller waits on the returned result for what it expects. */
  async testKey(key = '') {
    if (key) await this.keyField().fill(key);
    await this.page.getByRole('button', { name: 'Test key' }).click();
    return this.testResult();
  }

  async setExtraHeaders(lines: string) {
    const details = this.page.locator('details');
    if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await this.page.getByText('Advanced').click();
    await this.page.locator('#extra-headers').fill(lines);
  }

  async setBaseURL(url: string) {
    const details = this.page.locator('details');
    if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await this.page.getByText('Advanced').click();
    await this.page.locator('#base-url').fill(url);
  }

  /** Picks Custom limits with these figures and saves them. */
  async setLimits(perMinute: number, perMonth: number, smooth = false) {
    await this.page.getByRole('radio', { name: 'Custom' }).check();
    await this.page.locator('#per-minute').fill(String(perMinute));
    await this.page.locator('#per-month').fill(String(perMonth));
    const box = this.page.getByRole('checkbox', { name: /Smooth/ });
    if ((await box.isChecked()) !== smooth) await box.click();
    await this.page.getByRole('button', { name: 'Save limits' }).click();
    return this.page.getByTestId('limits-message');
  }

  /** What most tests start with: save the key, point Pace at the local server, save the settings. */
  async connect(key: string, baseURL: string) {
    await this.saveKey(key);
    await this.setBaseURL(baseURL);
    return this.saveSettings();
  }

  async saveSettings() {
    await this.page.getByRole('button', { name: 'Save settings' }).click();
    await this.settingsMessage().waitFor();
    return this.settingsMessage();
  }
}

export class Popup {
  constructor(readonly page: Page) {}

  composer = () => this.page.getByLabel('Message');
  answers = () => this.page.getByTestId('assistant-message');
  questions = () => this.page.getByTestId('user-message');
  notice = () => this.page.getByTestId('notice');
  lastAnswer = (): Locator => this.answers().last();

  async type(text: string) {
    await this.composer().fill(text);
  }

  async send(text: string) {
    await this.type(text);
    await this.composer().press('Enter');
  }

  quota = () => this.page.getByTestId('quota');
  unlockForm = () => this.page.getByTestId('unlock-form');

  /** Types the passphrase into the unlock form and presses Enter. */
  async unlock(passphrase: string) {
    await this.unlockForm().getByLabel('Passphrase').fill(passphrase);
    await this.unlockForm().getByLabel('Passphrase').press('Enter');
  }

  /** The toolbar badge and tooltip, read through the extension's own API from this page. */
  async badge(): Promise<{ text: string; title: string }> {
    return this.page.evaluate(async () => {
      type Action = { getBadgeText(d: object): Promise<string>; getTitle(d: object): Promise<string> };
      const { action } = (globalThis as unknown as { chrome: { action: Action } }).chrome;
      return { text: await action.getBadgeText({}), title: await action.getTitle({}) };
    });
  }

  /** Waits until the last answer has reached `status` (done, error, ...). */
  async answerWith(status: string, timeout = 15_000) {
    const answer = this.page.locator(`[data-testid=assistant-message][data-status=${status}]`).last();
    await answer.waitFor({ timeout });
    return answer;
  }
}
