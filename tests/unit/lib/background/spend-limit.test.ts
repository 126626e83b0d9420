/**
 * Anthropic's 400 "You have reached your specified API usage limits": the spend limit the
 * organization set itself. Driven through the background app (createBackgroundApp with WXT's
 * fakeBrowser), from the popup's port to the local Claude server and back to what the popup draws.
 * No browser-specific behaviour is involved (classification, the pause in IndexedDB, the popup's
 * rendering of it), so this runs without a real browser.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { QuotaBar } from '@/components/quota/QuotaBar';
import { readPause, saveLimits } from '@/lib/limits/limiter-store';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { queueView } from '@/lib/queue/queue-view';
import { readQueue } from '@/lib/queue/read-queue';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB, type Job } from '@/lib/storage/db';
import { settingsItem, usagePrefsItem } from '@/lib/settings/settings-items';
import type { ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { testBackground } from './background-app';

let claude: ClaudeServer;
let db: PaceDB;
useClaudeServer((s) => (claude = s));

const NOW = Date.UTC(2026, 10, 17, 9, 30);
const RESET = Date.UTC(2026, 11, 1);
const OWN_LIMIT =
  'You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC.';

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  db = new PaceDB(`spend-limit-${Math.random()}`);
  await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: claude.url, model: 'claude-haiku-4-5', maxTokens: 100 });
  await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 10, perMonth: 100 });
});
afterEach(async () => {
  vi.useRealTimers();
  db.close();
  await db.delete();
});

async function until(id: string, ok: (job: Job) => boolean): Promise<Job> {
  const end = performance.now() + 10_000;
  for (;;) {
    const job = await db.jobs.get(id);
    if (job && ok(job)) return job;
    if (performance.now() > end) throw new Error(`job ${id} is ${job?.state ?? 'gone'} (${job?.waitReason ?? ''})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends from the popup's port to a background started for the test. */
async function send(bg: ReturnType<typeof testBackground>, text: string): Promise<string> {
  const sent = await bg.client.request('chat.send', { conversationId: null, text });
  if (!sent.ok) throw new Error(sent.error.message);
  return sent.data.assistantMessageId;
}

describe("the organization's own spend limit (400)", () => {
  it('pauses sending until 00:00 UTC on the 1st, says so in the popup, and sends nothing more', async () => {
    const notify = vi.spyOn(fakeBrowser.notifications, 'create');
    await usagePrefsItem.setValue({
      ...(await usagePrefsItem.getValue()),
      alerts: { at80: true, at95: true, at100: true, refused: true },
    });
    claude.script({ kind: 'error', status: 400, type: 'invalid_request_error', message: OWN_LIMIT });
    const bg = testBackground(db, claude.url);
    const id = await send(bg, 'hello');

    const job = await until(id, (j) => j.state === 'waiting');
    expect(job).toMatchObject({ waitReason: 'server', waitUntil: RESET });
    expect(await readPause(db)).toMatchObject({ reason: 'spend_limit', until: RESET });
    const message = (await db.messages.get(id))?.error;
    expect(message).toMatchObject({ code: 'spend_limit' });
    expect(message?.message).toMatch(
      /^Your organization's own spend limit, set in the Anthropic Console, is reached: 127\.0\.0\.1:\d+ refuses requests until 1 Dec, 00:00 UTC unless an admin raises it\./,
    );

    // The popup draws the pause from the stored records, with Try now to ask again.
    const records = await readQueue(db);
    const bar = {
      view: queueView(Date.now(), records),
      limits: records.limits,
      now: Date.now(),
      onClear: () => undefined,
      onTryNow: () => undefined,
    };
    const html = renderToStaticMarkup(createElement(QuotaBar, bar));
    expect(html).toContain('data-testid="quota-pause"');
    expect(html).toContain('own spend limit, set in the Anthropic Console, is reached');
    expect(html).toContain('Try now');

    // A second message stays behind the pause: once the queue has run with it, nothing more has reached the server.
    const second = await send(bg, 'again');
    await bg.app.start();
    expect(['queued', 'waiting']).toContain((await db.jobs.get(second))?.state);
    expect(claude.messageRequests()).toHaveLength(1);
    await vi.waitFor(
      () =>
        expect(notify).toHaveBeenCalledWith(
          expect.any(String),
          expect.objectContaining({ title: "Pace: your organization's spend limit is reached" }),
        ),
      { interval: 20, timeout: 5000 },
    );
  });

  it('any other 400 is still a bad request: no pause, no retry', async () => {
    claude.script({
      kind: 'error',
      status: 400,
      type: 'invalid_request_error',
      message: 'max_tokens: 200000 > 128000, which is the maximum allowed',
    });
    const id = await send(testBackground(db, claude.url), 'hello');
    await until(id, (j) => j.state === 'failed');
    expect((await db.messages.get(id))?.error).toMatchObject({ code: 'bad_request' });
    expect(await readPause(db)).toBeNull();
    expect(claude.messageRequests()).toHaveLength(1);
  });
});
