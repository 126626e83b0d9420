import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer, type RecordedRequest } from '../../support/claude-server';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';

// Two browser profiles share one key against a server that enforces its own bucket of 6 a minute,
// while each profile's own limit would allow 6 a minute: together they ask for twice what the
// server allows, so the server refuses some, and each profile must back off as told.
const BUCKET = 6;
const EACH = 5;

let server: ClaudeServer;
const profiles: { name: string; browser?: ChromiumWithExtension; popup?: Popup }[] = [{ name: 'a' }, { name: 'b' }];

beforeAll(async () => {
  server = await startClaudeServer({ bucket: { perMinute: BUCKET } });
  for (const p of profiles) {
    p.browser = await launchChromiumWithExtension();
    const options = new OptionsPage(await p.browser.open('options.html', { width: 900, height: 1200 }));
    await options.saveKey(TEST_KEY);
    await options.setBaseURL(server.url);
    // A gateway-style header marks which profile sent each request.
    await options.setExtraHeaders(`x-pace-profile: ${p.name}`);
    expect(await (await options.saveSettings()).textContent()).toMatch(/^Saved\./);
    await options.setLimits(BUCKET, 1000);
    await options.page.close();
    p.popup = new Popup(await p.browser.open('popup.html'));
  }
});
afterAll(async () => {
  for (const p of profiles) await p.browser?.close();
  await server?.close();
});

describe('two profiles sharing one key', () => {
  it("both finish every job, and neither sends again before the server's retry-after", async () => {
    for (let i = 1; i <= EACH; i++) {
      for (const p of profiles) await p.popup!.send(`${p.name}${i}`);
    }
    for (const p of profiles) {
      await expect
        .poll(() => p.popup!.page.locator('[data-testid=assistant-message][data-status=done]').count(), {
          timeout: 120_000,
          interval: 1000,
        })
        .toBe(EACH);
    }
    const all = server.messageRequests();
    for (const p of profiles) {
      const mine = all.filter((r) => r.headers['x-pace-profile'] === p.name);
      const answered = mine.filter((r) => r.status === 200);
      expect(answered).toHaveLength(EACH);
      // After each refusal, this profile waited at least as long as the server asked.
      mine.forEach((r: RecordedRequest, i) => {
        if (r.status !== 429) return;
        const next = mine[i + 1];
        expect(r.retryAfter).toBeGreaterThan(0);
        if (next) expect(next.at - r.at).toBeGreaterThanOrEqual(1000 * r.retryAfter! - 50);
      });
      // Every request it sent, refused or not, is in its own count.
      await expect
        .poll(async () => (await p.popup!.quota().textContent()) ?? '')
        .toContain(`${1000 - mine.length}/1,000 this month`);
    }
    const refused = all.filter((r) => r.status === 429).length;
    console.info(
      `shared key: ${all.length} requests, ${refused} refused with 429, over ${((all.at(-1)!.at - all[0]!.at) / 1000).toFixed(1)} s`,
    );
    // Without backing off the profiles would hammer the server; with it, refusals stay few.
    expect(refused).toBeLessThanOrEqual(4);
    expect(all.filter((r) => r.headers['x-pace-profile'] === undefined)).toHaveLength(0);
  }, 180_000);
});
