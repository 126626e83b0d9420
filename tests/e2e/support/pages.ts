/** Page objects for Pace's options page and popup in Playwright, so tests read as a user's steps. */
import type { Locator, Page } from 'playwright-core';

export class OptionsPage {
  constructor(readonly page: Page) {}

  keyField = () => this.page.locator('#api-key');
  keyStatus = () => this.page.getByTestId('key-status');
  testResult = () => this.page.getByTestId('key-test-result');
  settingsMessage = () => this.page.getByTestId('settings-message');
  /** "Send your API key to …?", asked before the key first goes to an origin other than Anthropic's: by the key's section or the settings form. */
  originQuestion = (where: 'key' | 'settings') => this.page.getByTestId(`${where}-confirm-origin`);

  /** Answers "Send my key to <origin>" to the question on screen, as a user who trusts that gateway. */
  async confirmOrigin(where: 'key' | 'settings') {
    const question = this.originQuestion(where);
    await question.getByRole('button', { name: /^Send my key to / }).click();
    await question.waitFor({ state: 'detached' });
  }

  /**
   * Saves a key, kept on this device (the default) or until the browser closes, with or without a
   * passphrase. If the saved base URL is a gateway not yet confirmed, the page asks now; `confirm`
   * answers yes, as a user pointing Pace at their own gateway would.
   */
  async saveKey(
    key: string,
    {
      remember = 'device',
      passphrase = null,
      confirm = true,
    }: { remember?: 'device' | 'session'; passphrase?: string | null; confirm?: boolean } = {},
  ) {
    await this.fillKeyForm(key, { remember, passphrase });
    await this.page.getByRole('button', { name: 'Save key' }).click();
    await this.keyStatus()
      .filter({ hasText: `…${key.slice(-4)} is saved` })
      .waitFor();
    // The question, if any, comes in the same render as the new status.
    if (confirm && (await this.originQuestion('key').isVisible())) await this.confirmOrigin('key');
  }

  /** Fills the key form without saving; `confirm` defaults to the passphrase. */
  async fillKeyForm(
    key: string,
    {
      remember = 'device',
      passphrase = null,
      confirm = passphrase,
    }: { remember?: 'device' | 'session'; passphrase?: string | null; confirm?: string | null },
  ) {
    // The form starts from the saved key's settings once its status has arrived.
    await this.page.locator('[data-testid=key-status]:not(:empty)').waitFor();
    await this.keyField().fill(key);
    await this.page
      .getByRole('radio', { name: remember === 'session' ? 'only until the browser closes' : 'on this device' })
      .check();
    if (remember === 'session') return;
    const protect = this.page.getByRole('checkbox', { name: 'Protect with a passphrase' });
    if ((await protect.isChecked()) !== (passphrase !== null)) await protect.click();
    if (passphrase === null) return;
    await this.page.getByLabel('Passphrase', { exact: true }).fill(passphrase);
    await this.page.getByLabel('Confirm passphrase').fill(confirm ?? '');
  }

  /** Presses Test key, confirming the gateway if asked; the caller waits on the returned result for what it expects. */
  async testKey(key = '', { confirm = true } = {}) {
    if (key) await this.keyField().fill(key);
    await this.page.getByRole('button', { name: 'Test key' }).click();
    await this.testResult().locator('p').or(this.originQuestion('key')).first().waitFor();
    if (confirm && (await this.originQuestion('key').isVisible())) await this.confirmOrigin('key');
    return this.testResult();
  }

  /** Types the gateway headers; saved ones are masked, so it presses "Replace headers" first. */
  async setExtraHeaders(lines: string) {
    const details = this.page.locator('details');
    if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await this.page.getByText('Advanced').click();
    const replace = this.page.getByRole('button', { name: 'Replace headers' });
    if (await replace.isVisible()) await replace.click();
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

  /** Sets "Web searches per message" (1 to 10) and saves the settings; returns the settings message. */
  async setWebSearchMaxUses(n: number | string) {
    await this.page.locator('#webSearchMaxUses').fill(String(n));
    return this.saveSettings();
  }

  /** Saves a monthly spend budget in US dollars and waits for the page to say it applies. */
  async setMonthlyBudget(usd: number) {
    await this.page.locator('#budget-monthly').fill(String(usd));
    await this.page.getByRole('button', { name: 'Save budget' }).click();
    await this.page.getByTestId('budget-message').filter({ hasText: 'Saved: the budget applies at once' }).waitFor();
  }

  /** What most tests start with: save the key, point Pace at the local server, save the settings. */
  async connect(key: string, baseURL: string) {
    await this.saveKey(key);
    await this.setBaseURL(baseURL);
    return this.saveSettings();
  }

  /** Presses Save settings; a new gateway origin, while a key is saved, is confirmed when asked (unless `confirm` is false). */
  async saveSettings({ confirm = true } = {}) {
    await this.page.getByRole('button', { name: 'Save settings' }).click();
    await this.settingsMessage().or(this.originQuestion('settings')).first().waitFor();
    if (!confirm || !(await this.originQuestion('settings').isVisible())) return this.settingsMessage();
    await this.confirmOrigin('settings');
    await this.settingsMessage().waitFor();
    return this.settingsMessage();
  }
}

export class Popup {
  constructor(readonly page: Page) {}

  /** Exact: the list of attachments waiting to go is labelled "Attachments for the next message". */
  composer = () => this.page.getByLabel('Message', { exact: true });
  answers = () => this.page.getByTestId('assistant-message');
  questions = () => this.page.getByTestId('user-message');
  notice = () => this.page.getByTestId('notice');
  lastAnswer = (): Locator => this.answers().last();

  async type(text: string) {
    await this.composer().fill(text);
  }

  /**
   * Waits for React to have taken over the page: the message box is popup.html's early copy before
   * that, and what the background pushes (a quote for the box) reaches only the app.
   */
  async ready() {
    await this.page.locator('header.topbar').waitFor();
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

/** A file as a test hands it to the page: what the file picker or the clipboard would give. */
export interface TestFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** The composer's attachments (images, PDFs, a screenshot of the tab) and its send preview, in the popup or side panel. */
export class Attachments {
  constructor(readonly page: Page) {}

  input = () => this.page.locator('input[type=file][data-testid=attach-input]');
  attachButton = () => this.page.getByRole('button', { name: 'Attach an image or PDF' });
  screenshotButton = () => this.page.getByRole('button', { name: 'Screenshot this tab' });
  thumbs = () => this.page.getByTestId('attachment-thumb');
  preview = () => this.page.getByTestId('send-preview');
  /** The attachments shown in the conversation's messages (img alt=name, or a chip with a PDF's name). */
  sent = () => this.page.getByTestId('message-attachment');

  /** Picks files with the composer's file picker, as a user choosing them in the dialog. */
  async pick(files: TestFile[]) {
    await this.input().setInputFiles(files.map((f) => ({ name: f.name, mimeType: f.mimeType, buffer: f.buffer })));
  }

  /** Pastes files into the message box, as the browser does after a copy of an image (a paste event with them in its clipboardData). */
  async paste(files: TestFile[]) {
    const payload = files.map((f) => ({ name: f.name, type: f.mimeType, base64: f.buffer.toString('base64') }));
    await this.page.getByLabel('Message', { exact: true }).evaluate((box, items) => {
      const data = new DataTransfer();
      for (const item of items) {
        const bytes = Uint8Array.from(atob(item.base64), (c) => c.charCodeAt(0));
        data.items.add(new File([bytes], item.name, { type: item.type }));
      }
      box.focus();
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, payload);
  }
}

/** Every row of the usage ledger (the `usage` table of Pace's database), read from an extension page. */
export async function ledgerRows(page: Page): Promise<LedgerRowSeen[]> {
  return page.evaluate(
    () =>
      new Promise<LedgerRowSeen[]>((resolve, reject) => {
        const open = indexedDB.open('pace');
        open.onerror = () => reject(new Error('could not open the database'));
        open.onsuccess = () => {
          const all = open.result.transaction('usage').objectStore('usage').getAll();
          all.onsuccess = () => {
            resolve(all.result as LedgerRowSeen[]);
            open.result.close();
          };
          all.onerror = () => reject(new Error('could not read the usage ledger'));
        };
      }),
  );
}

/** The fields of a ledger row (lib/storage/db.ts UsageRow) the tests read. */
export interface LedgerRowSeen {
  at: number;
  model: string;
  messageId: string;
  outcome: string;
  usage: {
    inputTokens: number;
    outputTokens: number;
    cacheReadTokens: number;
    cacheCreationTokens: number;
    webSearches?: number;
  };
  costUsd: number | null;
  webSearchUsd?: number | null;
}
