/**
 * Proof that the key stays secret: a whole use of Pace in real Chromium (set the key, chat, a
 * retry, an error, export usage), then a search of everything the extension wrote or showed for
 * the key: IndexedDB, every storage area other than the key's own item, the console of the
 * background and of every page, every message the background sent to a page, and the DOM (and
 * field values) of every page. Page-to-background requests may carry the key only in `key.save`
 * and `key.test`, the two requests that hand a typed key over, and a gateway header's value only in
 * `settings.save`, which hands typed headers over.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClaudeServer, type ClaudeServer } from '../../support/claude-server';
import { launchChromiumWithExtension, type ChromiumWithExtension } from '../support/chromium';
import { OptionsPage, Popup } from '../support/pages';

const KEY = 'sk-ant-api03-Pr00f7xQ2vLm9Rt4Wz8Kp1Nd6Hs3Jc5Yb0-AbCdEfGhIjKlMnOp-QrStUvWx1234AA';
/** Also searched: the key without its last four characters, so a truncated copy is caught too. */
const NEEDLES = [KEY, KEY.slice(0, -4), KEY.slice(10, 40)];
/** A gateway header's value is a secret too: it may be only in the settings item and on the wire to the gateway. */
const HEADER_SECRET = 'team-token-Zq81vX04mLk7Wp3R';
const HEADER_NEEDLES = [HEADER_SECRET, HEADER_SECRET.slice(0, -4)];

let server: ClaudeServer;
let browser: ChromiumWithExtension;
const pageConsole: string[] = [];

beforeAll(async () => {
  server = await startClaudeServer({ keys: [KEY] });
  browser = await launchChromiumWithExtension();
  // Every Pace page records what crosses its port, both ways, before any of its own code runs.
  await browser.context.addInitScript(() => {
    const g = globalThis as unknown as {
      chrome?: { runtime?: { connect?: (...a: unknown[]) => unknown } };
      __wire?: { dir: string; json: string }[];
    };
    const runtime = g.chrome?.runtime;
    if (!runtime?.connect) return;
    const wire: { dir: string; json: string }[] = (g.__wire = []);
    const connect = runtime.connect.bind(runtime);
    runtime.connect = (...args: unknown[]) => {
      const port = connect(...args) as {
        postMessage(m: unknown): void;
        onMessage: { addListener(f: (m: unknown) => void): void };
      };
      const post = port.postMessage.bind(port);
      port.postMessage = (m: unknown) => {
        wire.push({ dir: 'out', json: JSON.stringify(m) });
        post(m);
      };
      port.onMessage.addListener((m) => void wire.push({ dir: 'in', json: JSON.stringify(m) }));
      return port;
    };
  });
  browser.context.on('console', (m) => pageConsole.push(m.text()));
  // The background's console, from here on.
  await (
    await browser.worker()
  ).evaluate(() => {
    const g = globalThis as unknown as { __console: string[] };
    g.__console = [];
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const original = console[level].bind(console);
      console[level] = (...args: unknown[]) => {
        g.__console.push(
          args
            .map((a) =>
              a instanceof Error ? `${a.name}: ${a.message} ${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a),
            )
            .join(' '),
        );
        original(...args);
      };
    }
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type Wire = { dir: string; json: string }[];
const wireOf = (page: import('playwright-core').Page) =>
  page.evaluate(() => (globalThis as unknown as { __wire?: Wire }).__wire ?? []);

/** The DOM of a page with the current value of every field, which the HTML alone does not show. */
const domOf = (page: import('playwright-core').Page) =>
  page.evaluate(
    () =>
      document.documentElement.outerHTML +
      [...document.querySelectorAll('input, textarea, select')].map((e) => (e as HTMLInputElement).value).join('\n'),
  );

describe('the key never leaves the background (real Chromium)', () => {
  it('appears nowhere after a whole use of Pace', async () => {
    const wire: Wire = [];
    const dom: string[] = [];
    const downloads: string[] = [];

    // Set the key and the base URL as a user would; test the key too.
    const options = new OptionsPage(await browser.open('options.html', { width: 900, height: 900 }));
    expect(await (await options.connect(KEY, server.url)).textContent()).toMatch(/^Saved\./);
    await options.setExtraHeaders(`x-team-token: ${HEADER_SECRET}`);
    expect(await (await options.saveSettings()).textContent()).toMatch(/^Saved\./);
    await (await options.testKey()).getByText('The key works').waitFor();

    // Chat, a retry of an answer, an error (the API refuses with 401), a transient failure retried by itself.
    const popup = new Popup(await browser.open('popup.html'));
    server.script({ kind: 'text', text: 'First answer.' }, { kind: 'text', text: 'Second answer, after Retry.' });
    await popup.send('Hello there');
    await popup.page.getByText('First answer.').waitFor();
    await popup.lastAnswer().getByRole('button', { name: 'Retry' }).click();
    await popup.page.getByText('Second answer, after Retry.').waitFor();
    server.script({ kind: 'error', status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
    await popup.send('This one is refused');
    await popup.answerWith('error');
    server.script({ kind: 'error', status: 529, type: 'overloaded_error' }, { kind: 'text', text: 'Third answer.' });
    await popup.send('And this one is retried');
    await popup.page.getByText('Third answer.').waitFor({ timeout: 30_000 });
    expect(server.messageRequests().map((r) => r.status)).toEqual([200, 200, 401, 529, 200]);

    // Export usage, both formats.
    const usage = await browser.open('usage.html', { width: 1100, height: 1400 });
    await usage.locator('#root[data-ready=true]').waitFor();
    for (const name of ['Export CSV', 'Export JSON']) {
      const [download] = await Promise.all([
        usage.waitForEvent('download'),
        usage.getByRole('button', { name }).click(),
      ]);
      downloads.push(readFileSync(await download.path(), 'utf8'));
    }
    expect(downloads[0]).toContain('authentication_error');

    // Everything the extension keeps: every IndexedDB table, every storage area but the key's own item.
    const stored = await usage.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open('pace');
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error ?? new Error('indexedDB.open failed'));
      });
      const tables: Record<string, unknown[]> = {};
      for (const name of [...db.objectStoreNames]) {
        tables[name] = await new Promise<unknown[]>((resolve) => {
          const r = db.transaction(name).objectStore(name).getAll();
          r.onsuccess = () => resolve(r.result);
        });
      }
      db.close();
      const chrome = (
        globalThis as unknown as {
          chrome: { storage: Record<'local' | 'session' | 'sync', { get(k: null): Promise<Record<string, unknown>> }> };
        }
      ).chrome;
      const local = await chrome.storage.local.get(null);
      const session = await chrome.storage.session.get(null);
      const sync = await chrome.storage.sync.get(null);
      const keyItem = local.apiKey;
      delete local.apiKey;
      const { settings, ...otherThanSettings } = local;
      return { tables, local, otherThanSettings, settings, session, sync, keyItemSaved: keyItem !== undefined };
    });
    expect(stored.keyItemSaved).toBe(true);
    expect(Object.keys(stored.tables).sort()).toEqual([
      'attachments',
      'batches',
      'cache',
      'conversations',
      'counters',
      'jobs',
      'messages',
      'meta',
      'usage',
      'usageDays',
      'usageMonths',
    ]);
    const storedJson = JSON.stringify(stored);
    // The search covers real data: the conversation, the ledger, the settings.
    for (const expected of ['Hello there', 'Third answer.', 'overloaded', 'baseURL'])
      expect(storedJson).toContain(expected);

    for (const page of [options.page, popup.page, usage]) {
      wire.push(...(await wireOf(page)));
      dom.push(await domOf(page));
    }
    const backgroundConsole = await (
      await browser.worker()
    ).evaluate(() => (globalThis as unknown as { __console: string[] }).__console);

    const toPages = wire.filter((w) => w.dir === 'in');
    const fromPages = wire.filter((w) => w.dir === 'out');
    expect(toPages.some((w) => w.json.includes('answer.progress'))).toBe(true);
    expect(fromPages.some((w) => w.json.includes('"key.save"'))).toBe(true);
    expect(backgroundConsole.length).toBeGreaterThan(0);
    expect(dom.join('').length).toBeGreaterThan(1000);

    const places: Record<string, string> = {
      indexedDB: JSON.stringify(stored.tables),
      'storage.local (other items)': JSON.stringify(stored.local),
      'storage.session': JSON.stringify(stored.session),
      'storage.sync': JSON.stringify(stored.sync),
      'background console': backgroundConsole.join('\n'),
      'pages console': pageConsole.join('\n'),
      'messages to pages': toPages.map((w) => w.json).join('\n'),
      'requests from pages other than key.save/key.test': fromPages
        .filter((w) => !/"type":"key\.(save|test)"/.test(w.json))
        .map((w) => w.json)
        .join('\n'),
      'DOM of the options page, the popup and the usage page': dom.join('\n'),
      'exported usage': downloads.join('\n'),
    };
    const leaks = Object.entries(places)
      .filter(([, text]) => NEEDLES.some((n) => text.includes(n)))
      .map(([where]) => where);
    expect(leaks).toEqual([]);
    // The gateway header: sent to the gateway and kept in the settings item, nowhere else.
    expect(server.messageRequests().every((r) => r.headers['x-team-token'] === HEADER_SECRET)).toBe(true);
    expect(JSON.stringify(stored.settings)).toContain(HEADER_SECRET);
    // settings.save hands typed headers over, as key.save does the key (a save that keeps them sends null).
    expect(fromPages.some((w) => w.json.includes('"settings.save"'))).toBe(true);
    const headerPlaces = {
      ...places,
      'storage.local (other items)': JSON.stringify(stored.otherThanSettings),
      'requests from pages other than key.save/key.test': '',
      'requests from pages other than settings.save': fromPages
        .filter((w) => !/"type":"settings\.save"/.test(w.json))
        .map((w) => w.json)
        .join('\n'),
    };
    const headerLeaks = Object.entries(headerPlaces)
      .filter(([, text]) => HEADER_NEEDLES.some((n) => text.includes(n)))
      .map(([where]) => where);
    expect(headerLeaks).toEqual([]);
    expect(dom[0]).toContain('x-team-token: ••••••');
    // The masked key is what pages see.
    expect(dom[0]).toContain(KEY.slice(-4));
  });
});
