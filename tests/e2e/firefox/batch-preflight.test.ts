/**
 * The Message Batch no-preflight proof in real Firefox, MV2 and MV3 builds: against a server that
 * refuses every OPTIONS request and sends no CORS header, Pace's batch calls (lib/claude/batches.ts
 * on the thin client) create a batch, poll it and read its results over the background page's own
 * fetch, the extension holding a host permission for the server's origin. The background cannot be
 * evaluated in directly over WebDriver BiDi: an extension tab asks `runtime.getBackgroundPage()`
 * for the background's window, and the calls go through that window's fetch, so each request is
 * the background page's. The control: the same calls to an origin without a permission are
 * preflighted, refused, and fail.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import {
  buildDir,
  expectRoundTripWithoutPreflight,
  LOOPBACK_PATTERN,
  probeRequests,
  probeScript,
  withLoopbackGranted,
  type ProbeInput,
  type ProbeOutcome,
} from '../support/batch-probe';
import { EXTENSION_ORIGIN, launchFirefoxWithExtension, type FirefoxWithExtension } from '../support/firefox';

let server: ClaudeServer;
let script: string;

beforeAll(async () => {
  server = await startClaudeServer({ noPreflight: true, batches: { inProgressPolls: 2 } });
  script = await probeScript();
});
afterAll(async () => {
  await server?.close();
});

interface Extension {
  browser?: {
    permissions: { contains(p: object): Promise<boolean> };
    runtime: { getBackgroundPage(): Promise<Window & { fetch: typeof fetch }> };
  };
  __paceBatchProbe?: (input: ProbeInput, f: typeof fetch) => Promise<ProbeOutcome>;
}

/** Runs the batch calls from the extension tab over the background page's fetch; `from` is the address of the window whose fetch it was. */
async function probeThroughBackground(page: Page, baseURL: string): Promise<{ from: string; outcome: ProbeOutcome }> {
  const input: ProbeInput = { baseURL, apiKey: TEST_KEY, requests: probeRequests(), maxPolls: 5 };
  await page.evaluate(script);
  return page.evaluate(async (probeInput: ProbeInput) => {
    const ext = globalThis as unknown as Extension;
    const background = await ext.browser!.runtime.getBackgroundPage();
    const outcome = await ext.__paceBatchProbe!(probeInput, (url, init) => background.fetch(url, init));
    return { from: background.location.href, outcome };
  }, input);
}

describe.each(['firefox-mv2', 'firefox-mv3'] as const)(
  'Message Batches from the background page of the %s build, against a server that answers no preflight',
  (build) => {
    let firefox: FirefoxWithExtension;
    let granted: Awaited<ReturnType<typeof withLoopbackGranted>>;
    let page: Page;

    beforeAll(async () => {
      granted = await withLoopbackGranted(buildDir(build));
      firefox = await launchFirefoxWithExtension(granted.path);
      page = await firefox.openExtensionPage('options.html');
    });
    afterAll(async () => {
      await firefox?.close();
      await granted?.remove();
    });

    it('create, poll and read the results with no OPTIONS request, holding a host permission for the origin', async () => {
      server.reset();
      const holds = await page.evaluate(
        (origin: string) => (globalThis as unknown as Extension).browser!.permissions.contains({ origins: [origin] }),
        LOOPBACK_PATTERN,
      );
      expect(holds).toBe(true);

      const { from, outcome } = await probeThroughBackground(page, server.url);
      expect(from).toBe(`${EXTENSION_ORIGIN}/_generated_background_page.html`);
      expectRoundTripWithoutPreflight(outcome, server, EXTENSION_ORIGIN);
    });

    it('control: to an origin without a host permission the same call is preflighted, refused, and fails', async () => {
      server.reset();
      const { outcome } = await probeThroughBackground(page, `http://localhost:${server.port}`);
      expect(outcome).toMatchObject({
        ok: false,
        step: 'create',
        error: 'APIConnectionError: Connection error.',
        cause: expect.stringContaining('NetworkError') as unknown,
      });
      expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['OPTIONS /v1/messages/batches']);
    });
  },
);
