/**
 * Hostile answers (tests/support/hostile-corpus.ts) streamed by the local Claude server into the
 * real popup: nothing in them runs, nothing loads, the popup keeps its width and stays responsive,
 * and the whole answer is kept. One browser for the whole corpus.
 */
import { createHash } from 'node:crypto';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NESTING } from '../../../components/chat/answer-text';
import { startClaudeServer, TEST_KEY } from '../../support/claude-server';
import { BEACON_PATH, hostileCorpus, type HostileEntry } from '../../support/hostile-corpus';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';

// Started while the file is collected: the corpus needs the server's address to name its beacon.
const server = await startClaudeServer();
const beacon = `${server.url}${BEACON_PATH}`;
const corpus = hostileCorpus(beacon);
let browser: ChromiumWithExtension;

type Flags = { __pwned?: unknown; __longTasks?: number[] };

beforeAll(async () => {
  browser = await launchChromiumWithExtension();
  // Long tasks (main thread busy > 50 ms) in every page, to report how hard the popup worked.
  await browser.context.addInitScript(() => {
    const w = window as unknown as Flags;
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks!.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 1200 }));
  await options.connect(TEST_KEY, server.url);
  // The corpus sends many messages in a minute: limits that never hold one back.
  await (await options.setLimits(1_000, 100_000)).waitFor();
  await options.page.close();
});
afterAll(async () => {
  await browser?.close();
  await server.close();
});

const beaconHits = () => server.requests.filter((r) => r.path === BEACON_PATH).map((r) => r.path);

/** Everything a popup did that a payload could cause: dialogs, requests, new tabs. */
function watch(page: Page) {
  const dialogs: string[] = [];
  const pageRequests: string[] = [];
  const contextRequests: string[] = [];
  const newPages: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('request', (r: Request) => pageRequests.push(r.url()));
  const onContextRequest = (r: Request) => contextRequests.push(r.url());
  const onPage = (p: Page) => newPages.push(p.url());
  browser.context.on('request', onContextRequest);
  browser.context.on('page', onPage);
  return {
    dialogs,
    pageRequests,
    contextRequests,
    newPages,
    stop() {
      browser.context.off('request', onContextRequest);
      browser.context.off('page', onPage);
    },
  };
}

interface AnswerFacts {
  text: string;
  wellFormed: boolean;
  forbidden: string[];
  handlers: string[];
  urlAttributes: string[];
  links: { href: string; target: string | null; rel: string | null }[];
  maxNesting: number;
  plain: boolean;
  listOverflow: number;
  pageOverflow: number;
}

/** Reads, inside the popup, what the last answer's DOM holds. */
async function answerFacts(page: Page, withText = true): Promise<AnswerFacts> {
  return page.evaluate((withText) => {
    const answer = [...document.querySelectorAll('[data-testid=assistant-message]')].at(-1)!;
    const forbidden = [
      ...answer.querySelectorAll(
        'script, iframe, frame, svg, img, image, object, embed, style, link, meta, form, video, audio, source, base',
      ),
    ].map((e) => e.tagName.toLowerCase());
    const all = [...answer.querySelectorAll('*')];
    const handlers = all.flatMap((e) =>
      [...e.attributes].filter((a) => a.name.toLowerCase().startsWith('on')).map((a) => `${e.tagName}[${a.name}]`),
    );
    const urlAttributes = all.flatMap((e) =>
      [...e.attributes]
        .filter((a) =>
          ['src', 'srcset', 'srcdoc', 'data', 'action', 'formaction', 'xlink:href', 'background', 'poster'].includes(
            a.name.toLowerCase(),
          ),
        )
        .map((a) => `${e.tagName}[${a.name}=${a.value}]`),
    );
    const links = [...answer.querySelectorAll('a')].map((a) => ({
      href: a.getAttribute('href') ?? '',
      target: a.getAttribute('target'),
      rel: a.getAttribute('rel'),
    }));
    let maxNesting = 0;
    for (const e of answer.querySelectorAll('ul, ol, blockquote')) {
      let depth = 0;
      for (let n: Element | null = e; n && n !== answer; n = n.parentElement)
        if (/^(UL|OL|BLOCKQUOTE)$/.test(n.tagName)) depth++;
      maxNesting = Math.max(maxNesting, depth);
    }
    const plainBox = answer.querySelector('[data-testid=plain-answer]');
    const text = (plainBox ?? answer.querySelector('.md'))?.textContent ?? '';
    const list = document.querySelector('.messages')!;
    const root = document.scrollingElement!;
    return {
      text: withText ? text : '',
      wellFormed: text.isWellFormed(),
      forbidden,
      handlers,
      urlAttributes,
      links,
      maxNesting,
      plain: plainBox !== null,
      listOverflow: list.scrollWidth - list.clientWidth,
      pageOverflow: root.scrollWidth - root.clientWidth,
    };
  }, withText);
}

/** Length and SHA-256 of the plain answer's text, computed in the popup (no 2 MB copy over CDP). */
async function plainDigest(page: Page): Promise<{ length: number; sha256: string }> {
  // The Markdown module (which shows a long answer as plain text) loads lazily: until it has, the
  // answer is on screen as a loading fallback.
  await page.locator('[data-testid=assistant-message]').last().locator('[data-testid=plain-answer]').waitFor();
  return page.evaluate(async () => {
    const answer = [...document.querySelectorAll('[data-testid=assistant-message]')].at(-1)!;
    const text = answer.querySelector('[data-testid=plain-answer]')?.textContent ?? '';
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
    return {
      length: text.length,
      sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''),
    };
  });
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

interface Responsiveness {
  samples: number;
  evaluateMs: number[];
  typingMs: number[];
  streamMs: number;
}

/** While the answer streams: how long a round trip into the page and a typed character take. */
async function measureWhileStreaming(popup: Popup): Promise<Responsiveness> {
  const { page } = popup;
  const started = Date.now();
  const evaluateMs: number[] = [];
  const typingMs: number[] = [];
  const streaming = page.locator('[data-testid=assistant-message][data-status=streaming]');
  await streaming.waitFor({ timeout: 30_000 });
  await popup.composer().focus();
  let typed = 0;
  while ((await streaming.count()) > 0 && Date.now() - started < 90_000) {
    let t = performance.now();
    await page.evaluate(() => 0);
    evaluateMs.push(performance.now() - t);
    t = performance.now();
    await page.keyboard.type('x');
    typed++;
    await page.waitForFunction((n) => (document.querySelector('textarea')?.value.length ?? 0) >= n, typed, {
      polling: 'raf',
    });
    typingMs.push(performance.now() - t);
    await page.waitForTimeout(100);
  }
  await popup.composer().fill('');
  return { samples: evaluateMs.length, evaluateMs, typingMs, streamMs: Date.now() - started };
}

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  return `median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${Math.round(sorted.at(-1) ?? NaN)} ms (n=${xs.length})`;
};

async function expectInert(entry: HostileEntry, popup: Popup, seen: ReturnType<typeof watch>) {
  const { page } = popup;
  const facts = await answerFacts(page, entry.exactText === undefined);
  expect(seen.dialogs, 'dialogs opened').toEqual([]);
  expect(
    await page.evaluate(() => (window as unknown as Flags).__pwned),
    'window.__pwned in the popup',
  ).toBeUndefined();
  const worker = await browser.worker();
  expect(
    await worker.evaluate(() => (globalThis as unknown as Flags).__pwned),
    '__pwned in the background',
  ).toBeUndefined();
  expect(beaconHits(), 'requests that reached the beacon').toEqual([]);
  expect(
    seen.pageRequests.filter((u) => !u.startsWith('chrome-extension://')),
    'requests from the popup',
  ).toEqual([]);
  expect(
    // The API's own paths, and the team-gateway budget the popup asks the base URL for on opening (GET /key/info).
    seen.contextRequests.filter(
      (u) =>
        !u.startsWith('chrome-extension://') && !u.startsWith(`${server.url}/v1/`) && u !== `${server.url}/key/info`,
    ),
    'requests from any page',
  ).toEqual([]);
  expect(seen.newPages, 'tabs opened').toEqual([]);

  expect(facts.forbidden, 'active elements in the answer').toEqual([]);
  expect(facts.handlers, 'event-handler attributes').toEqual([]);
  expect(facts.urlAttributes, 'attributes that load something').toEqual([]);
  for (const link of facts.links) {
    expect(link.href).toMatch(/^(https?:|mailto:)/);
    expect(link.target).toBe('_blank');
    expect(link.rel?.split(/\s+/)).toContain('noopener');
  }
  if (entry.links) expect(facts.links.map((l) => l.href).sort()).toEqual([...entry.links].sort());
  expect(facts.maxNesting).toBeLessThanOrEqual(MAX_NESTING);
  expect(facts.wellFormed, 'the rendered text is well-formed UTF-16').toBe(true);
  expect(facts.listOverflow, 'horizontal overflow of the message list (px)').toBeLessThanOrEqual(0);
  expect(facts.pageOverflow, 'horizontal overflow of the popup (px)').toBeLessThanOrEqual(0);
  expect(facts.plain, 'shown as plain text').toBe(entry.plain ?? false);
  for (const shown of entry.shows ?? []) expect(facts.text).toContain(shown);
  if (entry.exactText !== undefined) {
    expect(await plainDigest(page)).toEqual({ length: entry.exactText.length, sha256: sha256(entry.exactText) });
  }
}

describe('hostile answers render inert in the real popup (Chromium)', () => {
  it('the detectors work: a script and an image put in the popup by hand are seen', async () => {
    server.reset();
    const popup = new Popup(await browser.open('popup.html'));
    const seen = watch(popup.page);
    await popup.page.evaluate((url) => {
      const img = document.createElement('img');
      img.src = `${url}?control`;
      document.body.append(img);
      (window as unknown as Flags).__pwned = 'control';
      alert('control');
    }, beacon);
    await expect.poll(() => beaconHits().length).toBe(1);
    expect(seen.dialogs).toEqual(['control']);
    expect(seen.pageRequests).toContain(`${beacon}?control`);
    seen.stop();
    await popup.page.close();
    server.reset();
  });

  for (const entry of corpus) {
    it(entry.name, async () => {
      server.reset();
      server.script(entry.behaviour);
      const popup = new Popup(await browser.open('popup.html'));
      const seen = watch(popup.page);
      try {
        await popup.page.getByRole('button', { name: 'New chat' }).click();
        const sentAt = Date.now();
        await popup.send(`Show me ${entry.name}`);
        const big = entry.behaviour.text.length > 150_000;
        if (big) {
          const r = await measureWhileStreaming(popup);
          const longTasks = await popup.page.evaluate(() => (window as unknown as Flags).__longTasks ?? []);
          console.info(
            `[hostile] ${entry.name}: ${entry.behaviour.text.length.toLocaleString('en-US')} chars streamed in ${r.streamMs} ms; ` +
              `evaluate round trip ${stats(r.evaluateMs)}; typed character shown ${stats(r.typingMs)}; ` +
              `long tasks ${longTasks.length}, longest ${Math.round(Math.max(0, ...longTasks))} ms, total ${Math.round(longTasks.reduce((a, b) => a + b, 0))} ms`,
          );
          expect(r.samples).toBeGreaterThanOrEqual(3);
          expect(Math.max(...r.evaluateMs)).toBeLessThan(1_000);
          expect(Math.max(...r.typingMs)).toBeLessThan(1_000);
        }
        await popup.answerWith('done', 90_000);
        console.info(`[hostile] ${entry.name}: done ${Date.now() - sentAt} ms after sending`);
        // Give anything that would load or run late a moment to do so.
        await popup.page.waitForTimeout(300);
        await expectInert(entry, popup, seen);
        if (big) {
          // Kept, not just shown: a fresh popup reads the whole answer back from the database.
          await popup.page.reload();
          await popup.answerWith('done');
          expect(await plainDigest(popup.page)).toEqual({
            length: entry.exactText!.length,
            sha256: sha256(entry.exactText!),
          });
        }
        expect(server.messageRequests()).toHaveLength(1);
      } finally {
        seen.stop();
        await popup.page.close();
      }
    });
  }
});
