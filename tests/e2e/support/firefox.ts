/// <reference types="node" />
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * Firefox driven by puppeteer-core over WebDriver BiDi (see shared/TESTING.md): the extension is
 * installed as a temporary add-on, its uuid is fixed so its pages are moz-extension://<uuid>/...,
 * and its pages are opened as tabs from the browser's chrome context, since BiDi refuses to
 * navigate to moz-extension:// URLs.
 */

/** browser_specific_settings.gecko.id in wxt.config.ts */
const GECKO_ID = 'pace@pace-extension.org';
const EXTENSION_UUID = '5f4a3c2e-7d1b-4e8a-9c6f-0b2d1e3a4c5d';
export const EXTENSION_ORIGIN = `moz-extension://${EXTENSION_UUID}`;

interface LogEntry {
  /**
   * 'page': BiDi log.entryAdded (web pages); 'stdout': console.* calls from extension pages and the
   * background, as Firefox prints them; 'chrome': Firefox's console service (uncaught errors from
   * any context, CSP reports, ...).
   */
  source: 'page' | 'stdout' | 'chrome';
  level: string;
  text: string;
  url?: string;
}

export interface FirefoxWithExtension {
  browser: Browser;
  /** moz-extension://<uuid> (no trailing slash) */
  origin: string;
  /** opens `${origin}/${path}` in a new tab and returns its page once its document is at that URL */
  openExtensionPage(path: string): Promise<Page>;
  /** every console message seen so far (see LogEntry.source for where each comes from) */
  logs(): Promise<LogEntry[]>;
  /** kills Firefox and removes its profile; safe to call more than once */
  close(): Promise<void>;
}

interface BidiConnectionLike {
  send(method: string, params: object): Promise<{ result: unknown }>;
  on(event: string, handler: (params: unknown) => void): void;
}

interface BidiContextInfo {
  context: string;
  url: string;
  parent?: string | null;
  children?: BidiContextInfo[];
}

type BidiEvaluateResult =
  | { type: 'success'; result: { type: string; value?: unknown } }
  | { type: 'exception'; exceptionDetails: { text: string } };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]);
}

// Runs in the browser window's chrome context: records every message of Firefox's console (errors,
// CSP reports, and console.* calls from any extension context, the background included).
const CHROME_LOG_LISTENER = `(() => {
  if (globalThis.__paceLogs) return true;
  const logs = (globalThis.__paceLogs = []);
  Services.console.registerListener({
    observe(m) {
      try {
        const err = m instanceof Ci.nsIScriptError ? m : null;
        logs.push({
          level: err ? ((err.flags & Ci.nsIScriptError.warningFlag) ? 'warning' : 'error') : 'info',
          text: err ? err.errorMessage : m.message,
          url: err ? err.sourceName : undefined,
        });
      } catch (e) {}
    },
  });
  Services.obs.addObserver((subject) => {
    try {
      const msg = subject.wrappedJSObject;
      const text = (msg.arguments || []).map((a) => {
        try { return typeof a === 'string' ? a : (a instanceof Error ? a.name + ': ' + a.message : JSON.stringify(a)); }
        catch (e) { return String(a); }
      }).join(' ');
      logs.push({ level: msg.level, text, url: msg.filename });
    } catch (e) {}
  }, 'console-api-log-event');
  return true;
})()`;

export async function launchFirefoxWithExtension(extPath: string): Promise<FirefoxWithExtension> {
  const source = resolve(extPath);
  if (!existsSync(resolve(source, 'manifest.json'))) {
    throw new Error(`No extension build at ${source} (no manifest.json there).`);
  }
  const executablePath = process.env.PACE_FIREFOX ?? '/usr/bin/firefox-esr';
  // One temporary folder holds the profile and a copy of the build, so a rebuild of .output while
  // Firefox runs cannot pull files from under the installed add-on.
  const tempRoot = await mkdtemp(resolve(tmpdir(), 'pace-firefox-'));
  const profile = resolve(tempRoot, 'profile');
  const extension = resolve(tempRoot, 'extension');

  let browser: Browser | undefined;
  const stdoutLogs: LogEntry[] = [];
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      const proc = browser?.process();
      if (browser) await withTimeout(browser.close(), 10_000, 'closing Firefox').catch(() => undefined);
      if (proc?.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((r) => proc.once('exit', () => r()));
        // Puppeteer starts Firefox as the leader of its own process group: end the group (its
        // content processes too), or at least the process itself.
        try {
          process.kill(-proc.pid, 'SIGKILL');
        } catch {
          proc.kill('SIGKILL');
        }
        await withTimeout(exited, 5_000, 'killing Firefox').catch(() => undefined);
      }
      await rm(tempRoot, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    })());

  try {
    await mkdir(profile);
    await cp(source, extension, { recursive: true });
    if (!existsSync(resolve(extension, 'manifest.json'))) {
      throw new Error(`The build at ${source} changed while it was copied (a rebuild running?); try again.`);
    }
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath,
      headless: true,
      userDataDir: profile,
      args: ['--remote-allow-system-access'],
      extraPrefsFirefox: {
        'xpinstall.signatures.required': false,
        'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: EXTENSION_UUID }),
        // console.* calls in extension pages and the background reach neither BiDi's log events
        // nor the parent process's console; this has Firefox print them to its stdout.
        'devtools.console.stdout.content': true,
      },
    });
    const b = browser;
    let stdoutRest = '';
    b.process()?.stdout?.on('data', (chunk: Buffer) => {
      const lines = (stdoutRest + chunk.toString('utf8')).split('\n');
      stdoutRest = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^console\.(\w+): (.*)$/.exec(line);
        if (m) stdoutLogs.push({ source: 'stdout', level: m[1]!, text: m[2]! });
      }
    });
    const connection = (b as unknown as { connection: BidiConnectionLike }).connection;

    const pageLogs: LogEntry[] = [];
    connection.on('log.entryAdded', (params) => {
      const e = params as { level?: string; text?: string | null; source?: { context?: string } };
      pageLogs.push({ source: 'page', level: e.level ?? 'info', text: e.text ?? '' });
    });

    const chromeContext = async (): Promise<string> => {
      const { result } = await connection.send('browsingContext.getTree', { 'moz:scope': 'chrome' });
      const contexts = (result as { contexts: BidiContextInfo[] }).contexts;
      const top = contexts.find((c) => c.url.startsWith('chrome://browser/')) ?? contexts[0];
      if (!top) throw new Error('Firefox has no chrome browsing context (is --remote-allow-system-access honoured?)');
      return top.context;
    };
    const evalChrome = async (expression: string): Promise<unknown> => {
      const { result } = await connection.send('script.evaluate', {
        expression,
        target: { context: await chromeContext() },
        awaitPromise: true,
      });
      const r = result as BidiEvaluateResult;
      if (r.type === 'exception') throw new Error(`chrome-context script failed: ${r.exceptionDetails.text}`);
      return r.result.value;
    };

    await evalChrome(CHROME_LOG_LISTENER);
    await b.installExtension(extension);

    const handedOut = new Set<Page>();
    const openExtensionPage = async (path: string): Promise<Page> => {
      const url = `${EXTENSION_ORIGIN}/${path.replace(/^\//, '')}`;
      await evalChrome(
        `(() => { gBrowser.selectedTab = gBrowser.addTab(${JSON.stringify(url)}, ` +
          `{ triggeringPrincipal: Services.scriptSecurityManager.getSystemPrincipal() }); return true; })()`,
      );
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        for (const page of await b.pages()) {
          if (handedOut.has(page) || page.isClosed()) continue;
          const href = await withTimeout(
            page.evaluate(() => location.href),
            2_000,
            'reading a tab URL',
          ).catch(() => null);
          if (href === url) {
            handedOut.add(page);
            // Polled on a timer: requestAnimationFrame (puppeteer's default) barely runs in a
            // headless Firefox tab, whose document reports itself hidden.
            await page.waitForFunction(() => document.readyState === 'complete', { timeout: 10_000, polling: 100 });
            return page;
          }
        }
        await sleep(100);
      }
      throw new Error(`Opened ${url} but no tab reached it within 15 s`);
    };

    const logs = async (): Promise<LogEntry[]> => {
      const chrome = (await evalChrome('JSON.stringify(globalThis.__paceLogs || [])').catch(() => '[]')) as string;
      const fromChrome = (JSON.parse(chrome) as Omit<LogEntry, 'source'>[]).map((e) => ({
        source: 'chrome' as const,
        ...e,
      }));
      return [...pageLogs, ...stdoutLogs, ...fromChrome];
    };

    return { browser: b, origin: EXTENSION_ORIGIN, openExtensionPage, logs, close };
  } catch (e) {
    await close();
    throw e;
  }
}
