import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, type ClaudeServer } from '../../support/claude-server';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { Popup } from '../support/pages';

// scripts/test.mjs builds .output/demo/chrome-mv3 with PACE_DEMO_URL at this port, as `npm start` does at 8787.
const DEMO_PORT = 18787;

let server: ClaudeServer;
let browser: ChromiumWithExtension;

beforeAll(async () => {
  server = await startClaudeServer({ port: DEMO_PORT, keys: ['demo'] });
  browser = await launchChromiumWithExtension('.output/demo/chrome-mv3');
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the demo build (npm start) without a key', () => {
  it('is labelled as a demo and answers from the local backend', async () => {
    const popup = new Popup(await browser.open('popup.html'));
    await popup.page.getByTestId('demo-banner').waitFor();
    expect(await popup.page.getByTestId('no-key-banner').count()).toBe(0);
    await popup.send('Hello demo');
    const done = await popup.answerWith('done');
    expect(await done.textContent()).toContain('demo answer');
    expect(await done.textContent()).toContain('You said: "Hello demo"');
    const [req] = server.messageRequests();
    expect(req!.headers.authorization).toBe('Bearer demo');
    await popup.page.close();
  });
});
