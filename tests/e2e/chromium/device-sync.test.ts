/**
 * One plan on two devices through browser sync, in real Chromium (issue 25): two profiles of one
 * build, A and B, both talking to the local Claude server. What A writes to `storage.sync` is
 * delivered into B's `storage.sync` from B's service worker, as Chrome Sync would. B's popup then
 * shows both devices' month, B's budget refuses what fits B alone but not the sum, settings saved
 * in A show in B's options, and neither profile's `storage.sync` ever holds the key or a message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer, type RecordedRequest } from '../../support/claude-server';
import { estimateCost } from '../../../lib/usage/prices';
import { NO_BUDGET } from '../../../lib/limits/budget';
import { monthKeys } from '../../../lib/limits/month-window';
import { leastNextUsd } from '../../../lib/limits/budget-reached';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { deliverChromiumSync, readChromiumSync } from '../support/browser-sync';
import { OptionsPage, Popup } from '../support/pages';

/** 400 characters: the server reports 100 output tokens for it. */
const ANSWER = 'Both browsers count one month when each hears what the other sent. '.repeat(7).slice(0, 400);
/** What the user types; none of it may reach storage.sync. */
const A_TEXTS = ['Ask from the laptop about tide tables', 'Ask from the laptop about crane flight'];
const B_TEXTS = [
  'Ask from the desktop about sourdough',
  'Ask from the desktop about lichen',
  'Ask from the desktop about comets',
];
const A_NAME = 'Laptop - Chrome';
const MAX_TOKENS = 200;

let server: ClaudeServer;
let a: ChromiumWithExtension;
let b: ChromiumWithExtension;

/** A gateway header's value on each device; like the key, it never goes to storage.sync. */
const HEADER_SECRETS = ['hdr-laptop-5b7e19c2', 'hdr-desktop-0a4f63d8'];

/** The key, the local server as base URL with a gateway header, and a short answer length, saved as a user would. */
async function connect(browser: ChromiumWithExtension, headerSecret: string) {
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1400 }));
  await options.saveKey(TEST_KEY);
  await options.page.locator('#max-tokens').fill(String(MAX_TOKENS));
  await options.setBaseURL(server.url);
  await options.setExtraHeaders(`x-team-token: ${headerSecret}`);
  expect(await (await options.saveSettings()).textContent()).toMatch(/^Saved\./);
  await options.page.close();
}

beforeAll(async () => {
  server = await startClaudeServer();
  server.setDefault({ kind: 'text', text: ANSWER, chunkSize: 200, delayMs: 1 });
  // One build, two profiles: two devices of one user.
  [a, b] = await Promise.all([launchChromiumWithExtension(), launchChromiumWithExtension()]);
  await Promise.all([connect(a, HEADER_SECRETS[0]!), connect(b, HEADER_SECRETS[1]!)]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await server?.close();
});

/** What an answer cost, from the usage the server reported, at the extension's list prices. */
function cost(r: RecordedRequest): number {
  const u = r.usage!;
  return estimateCost((r.body as { model: string }).model, {
    inputTokens: u.input_tokens,
    outputTokens: Math.ceil(ANSWER.length / 4),
    cacheReadTokens: u.cache_read_input_tokens,
    cacheCreationTokens: u.cache_creation_input_tokens,
  })!;
}

async function sendAndWait(popup: Popup, text: string, status: 'done' | 'error') {
  const before = await popup.answers().count();
  await popup.send(text);
  await expect.poll(() => popup.answers().count()).toBe(before + 1);
  return popup.answerWith(status, 20_000);
}

/** Requests in this month's figures of the one device entry in `browser`'s storage.sync (lib/sync/device-entry.ts). */
async function syncedMonth(browser: ChromiumWithExtension): Promise<number | undefined> {
  const items = await readChromiumSync(await browser.worker());
  const entries = Object.entries(items).filter(([k]) => k.startsWith('pace.device.'));
  if (entries.length !== 1) return undefined;
  const months = (entries[0]![1] as { months?: Record<string, { requests: number }> }).months ?? {};
  return months[monthKeys(Date.now())[0]!]?.requests;
}

/** The part of pace.settings this file reads (lib/sync/settings-file.ts). */
type SyncedSettings = { limits?: { perMinute?: number }; settings?: { maxTokens?: number } };

/** "This month on all your devices: 3 requests, $0.0051 (this device 1, $0.0017)" read into figures. */
function allDevices(text: string | null) {
  const m =
    /This month on all your devices: ([\d,]+) requests?, \$([\d.,]+) \(this device ([\d,]+), \$([\d.,]+)\)/.exec(
      text ?? '',
    );
  if (!m) return null;
  const n = (s: string) => Number(s.replace(/,/g, ''));
  return { requests: n(m[1]!), usd: n(m[2]!), ownRequests: n(m[3]!), ownUsd: n(m[4]!) };
}

describe('two Chromium profiles share one month through storage.sync', () => {
  it("B's popup counts A's delivered month, and B's budget refuses what fits B alone but not the sum", async () => {
    const optionsA = new OptionsPage(await a.open('options.html', { width: 900, height: 1400 }));
    await optionsA.page.locator('#deviceName').fill(A_NAME);
    await optionsA.page.getByRole('button', { name: 'Rename' }).click();
    await optionsA.page
      .getByTestId('devices-message')
      .filter({ hasText: `Saved. The other devices see this one as "${A_NAME}".` })
      .waitFor();
    await optionsA.page.close();

    const popupA = new Popup(await a.open('popup.html'));
    await popupA.ready();
    for (const text of A_TEXTS) await sendAndWait(popupA, text, 'done');
    const popupB = new Popup(await b.open('popup.html'));
    await popupB.ready();
    await sendAndWait(popupB, B_TEXTS[0]!, 'done');

    const sent = server.messageRequests();
    expect(sent).toHaveLength(3);
    const spentA = cost(sent[0]!) + cost(sent[1]!);
    const spentB = cost(sent[2]!);

    // A's entry reaches A's storage.sync within a few seconds (writes are coalesced); then what A
    // has there is delivered into B's, as Chrome Sync would.
    await expect.poll(() => syncedMonth(a), { timeout: 20_000, interval: 250 }).toBe(2);
    const delivered = await deliverChromiumSync(await a.worker(), await b.worker());
    expect(Object.keys(delivered).filter((k) => k.startsWith('pace.device.'))).toHaveLength(1);

    const line = popupB.page.getByTestId('all-devices');
    await expect.poll(async () => allDevices(await line.textContent())?.requests, { timeout: 15_000 }).toBe(3);
    const month = allDevices(await line.textContent())!;
    expect(month.ownRequests).toBe(1);
    expect(month.usd).toBeCloseTo(spentA + spentB, 4);
    expect(month.ownUsd).toBeCloseTo(spentB, 4);
    expect(await popupB.page.getByTestId('all-devices-heard').textContent()).toContain(
      `Last heard from ${A_NAME}: just now.`,
    );
    const usageB = await b.open('usage.html', { width: 1100, height: 1400 });
    expect(await usageB.getByTestId('all-devices').textContent()).toContain(
      (await line.locator('span').textContent())!,
    );
    await usageB.close();

    // B's budget: B's own spend plus the next request's worst case fits, A's spend on top does not.
    const model = (sent[2]!.body as { model: string }).model;
    const leastNext = leastNextUsd({ ...NO_BUDGET, monthlyUsd: 1 }, { model, maxTokens: MAX_TOKENS })!;
    expect(spentA / 2).toBeLessThan(leastNext);
    const budget = Number((spentB + leastNext + spentA / 2).toFixed(5));
    const optionsB = new OptionsPage(await b.open('options.html', { width: 900, height: 1400 }));
    const rowA = optionsB.page.getByTestId('device-row');
    await expect
      .poll(() => rowA.textContent())
      .toMatch(new RegExp(`^${A_NAME}: 2 requests, \\$0\\.\\d+ this month; last report just now`));
    await optionsB.page.locator('#budget-monthly').fill(String(budget));
    await optionsB.page.getByRole('button', { name: 'Save budget' }).click();
    await optionsB.page
      .getByTestId('budget-message')
      .filter({ hasText: 'Saved: the budget applies at once' })
      .waitFor();

    const refused = await sendAndWait(popupB, B_TEXTS[1]!, 'error');
    const refusal = (await refused.getByTestId('answer-error').textContent())!;
    const m =
      /^Not sent: this request could cost up to \$([\d.]+); (-?\$[\d.]+) of your \$([\d.]+) monthly budget is left; it resets \d+ \w{3}, 00:00 UTC\.$/.exec(
        refusal,
      );
    expect(m, refusal).not.toBeNull();
    const worst = Number(m![1]);
    // On B alone it would have gone; with A's month it does not fit.
    expect(spentB + worst).toBeLessThanOrEqual(budget);
    expect(spentA + spentB + worst).toBeGreaterThan(budget);
    expect(server.messageRequests()).toHaveLength(3);

    // Forgetting A takes it off B's list, not out of B's month: forgetting never frees budget.
    await optionsB.page.getByRole('button', { name: `Forget ${A_NAME}` }).click();
    await optionsB.page.getByTestId('no-devices').waitFor();
    await expect(rowA.count()).resolves.toBe(0);
    await popupB.page.reload();
    await popupB.ready();
    expect(allDevices(await line.textContent())).toEqual(month);
    await sendAndWait(popupB, B_TEXTS[2]!, 'error');
    expect(server.messageRequests()).toHaveLength(3);
    await optionsB.page.close();
    await popupA.page.close();
    await popupB.page.close();
  });

  it("settings saved in A show in B's options once delivered", async () => {
    const optionsA = new OptionsPage(await a.open('options.html', { width: 900, height: 1400 }));
    const optionsB = new OptionsPage(await b.open('options.html', { width: 900, height: 1400 }));
    await optionsB.page.locator('#per-minute').waitFor();
    expect(await optionsB.page.locator('#per-minute').inputValue()).not.toBe('7');
    expect(await (await optionsA.setLimits(7, 700)).textContent()).toMatch(/^Saved/);
    await optionsA.page.locator('#max-tokens').fill('321');
    expect(await (await optionsA.saveSettings()).textContent()).toMatch(/^Saved\./);

    // A's settings reach A's storage.sync a moment after the save; then they are delivered into B's.
    await expect
      .poll(
        async () => {
          const record = (await readChromiumSync(await a.worker()))['pace.settings'] as SyncedSettings | undefined;
          return [record?.limits?.perMinute, record?.settings?.maxTokens];
        },
        { timeout: 20_000, interval: 250 },
      )
      .toEqual([7, 321]);
    await deliverChromiumSync(await a.worker(), await b.worker());
    await expect.poll(() => optionsB.page.locator('#per-minute').inputValue(), { timeout: 15_000 }).toBe('7');
    expect(await optionsB.page.locator('#per-month').inputValue()).toBe('700');
    await expect.poll(() => optionsB.page.locator('#max-tokens').inputValue()).toBe('321');
    await optionsA.page.close();
    await optionsB.page.close();
  });

  it('neither profile has the key, a gateway header, the base URL or any message text in storage.sync', async () => {
    for (const browser of [a, b]) {
      const all = JSON.stringify(await readChromiumSync(await browser.worker()));
      expect(all).toContain('pace.device.');
      expect(all).not.toContain(TEST_KEY);
      expect(all).not.toContain('sk-ant');
      expect(all).not.toContain(server.url);
      for (const text of [...A_TEXTS, ...B_TEXTS, ANSWER.slice(0, 40), ...HEADER_SECRETS])
        expect(all).not.toContain(text);
    }
  });
});
