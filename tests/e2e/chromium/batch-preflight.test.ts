/**
 * The Message Batch no-preflight proof in real Chromium (MV3): against a server that refuses every
 * OPTIONS request and sends no CORS header, Pace's batch calls (lib/claude/batches.ts on the thin
 * client), run in the extension's service worker, create a batch, poll it and read its results,
 * because the worker holds a host permission for the server's origin. The control: the same calls
 * to an origin the extension holds no permission for are preflighted, refused, and fail.
 */
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
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';

let server: ClaudeServer;
let browser: ChromiumWithExtension;
let granted: Awaited<ReturnType<typeof withLoopbackGranted>>;
let script: string;

beforeAll(async () => {
  server = await startClaudeServer({ noPreflight: true, batches: { inProgressPolls: 2 } });
  granted = await withLoopbackGranted(buildDir('chrome-mv3'));
  script = await probeScript();
  browser = await launchChromiumWithExtension(granted.path);
});
afterAll(async () => {
  await browser?.close();
  await granted?.remove();
  await server?.close();
});

/** Runs the batch calls in the service worker with its own fetch; the script and the call go in one evaluation, so a restarted worker cannot lose one of them. */
async function probeInWorker(baseURL: string): Promise<ProbeOutcome> {
  const input: ProbeInput = { baseURL, apiKey: TEST_KEY, requests: probeRequests(), maxPolls: 5 };
  const worker = await browser.worker();
  return worker.evaluate<ProbeOutcome>(
    `${script}\nglobalThis.__paceBatchProbe(${JSON.stringify(input)}, (input, init) => fetch(input, init))`,
  );
}

describe('Message Batches from the service worker, against a server that answers no preflight', () => {
  it('create, poll and read the results with no OPTIONS request, holding a host permission for the origin', async () => {
    server.reset();
    const worker = await browser.worker();
    const holds = await worker.evaluate(
      (origin) =>
        (
          globalThis as unknown as { chrome: { permissions: { contains(p: object): Promise<boolean> } } }
        ).chrome.permissions.contains({ origins: [origin] }),
      LOOPBACK_PATTERN,
    );
    expect(holds).toBe(true);

    const outcome = await probeInWorker(server.url);
    expectRoundTripWithoutPreflight(outcome, server, `chrome-extension://${browser.extensionId}`);
  });

  it('control: to an origin without a host permission the same call is preflighted, refused, and fails', async () => {
    server.reset();
    const outcome = await probeInWorker(`http://localhost:${server.port}`);
    expect(outcome).toEqual({
      ok: false,
      step: 'create',
      error: 'APIConnectionError: Connection error.',
      cause: 'TypeError: Failed to fetch',
    });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['OPTIONS /v1/messages/batches']);
  });
});
