/** Two options pages open at once: a save in one shows in the other, and neither overwrites what the user is typing. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage } from '../support/pages';

let browser: ChromiumWithExtension;

beforeAll(async () => {
  browser = await launchChromiumWithExtension();
});
afterAll(async () => {
  await browser?.close();
});

const openOptions = async () => {
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
  await options.page.locator('#max-tokens').waitFor();
  await options.page.locator('#cache-hours').waitFor();
  return options;
};

it('a save in one options page shows in the other, for the settings, the limits and the usage prefs', async () => {
  const a = await openOptions();
  const b = await openOptions();

  await a.page.locator('#max-tokens').fill('2048');
  await a.page.locator('#system-prompt').fill('Answer briefly.');
  expect(await (await a.saveSettings()).textContent()).toBe('Saved.');
  await expect.poll(() => b.page.locator('#max-tokens').inputValue()).toBe('2048');
  expect(await b.page.locator('#system-prompt').inputValue()).toBe('Answer briefly.');

  expect(await (await a.setLimits(7, 700)).textContent()).toMatch(/^Saved/);
  await expect.poll(() => b.page.locator('#per-minute').inputValue()).toBe('7');
  expect(await b.page.locator('#per-month').inputValue()).toBe('700');

  await a.page.locator('#cache-hours').fill('12');
  await a.page
    .locator('section[aria-labelledby="usage-heading"]')
    .getByRole('button', { name: 'Save', exact: true })
    .click();
  await a.page
    .getByTestId('usage-prefs-message')
    .filter({ hasText: /^Saved\.$/ })
    .waitFor();
  await expect.poll(() => b.page.locator('#cache-hours').inputValue()).toBe('12');

  // What the user is typing in one page is theirs: another page's save does not replace it.
  await b.page.locator('#max-tokens').fill('3000');
  await a.page.locator('#max-tokens').fill('1000');
  expect(await (await a.saveSettings()).textContent()).toBe('Saved.');
  await a.page.reload();
  await expect.poll(() => a.page.locator('#max-tokens').inputValue()).toBe('1000');
  expect(await b.page.locator('#max-tokens').inputValue()).toBe('3000');
  // Its own save then wins, and shows in the first page.
  expect(await (await b.saveSettings()).textContent()).toBe('Saved.');
  await expect.poll(() => a.page.locator('#max-tokens').inputValue()).toBe('3000');
});
