/**
 * Wires the background: storage, the SDK client, the queue, the badge and the page protocol.
 * Its edges (the browser, the database, the clock, the network, timers, the key and the SDK
 * client) come in as arguments: entrypoints/background.ts passes the real ones, registers the
 * returned listeners synchronously (`listen`) and calls `start`; tests pass WXT's fakeBrowser.
 */
import type { Browser, WxtBrowser } from 'wxt/browser';
import { createClaudeClient } from '../claude/client';
import * as jobStore from '../queue/job-store';
import { readLimits } from '../limits/limiter-store';
import { monthWindow } from '../limits/month-window';
import { createScheduler } from '../queue/scheduler';
import { createWake } from '../queue/wake';
import { createWireGate } from '../queue/wire-gate';
import type { PaceDB } from '../storage/db';
import {
  batchPrefsItem,
  chatPrefsItem,
  modelsItem,
  settingsItem,
  storedPrefs,
  storedPromptCacheModes,
  usagePrefsItem,
} from '../settings/settings-items';
import { pruneConversations } from '../chat/conversation-store';
import { createBatchRunner } from '../batch/batch-runner';
import { pruneCache } from '../cache/response-cache';
import { pruneUsage } from '../usage/ledger-store';
import { createCachedAnswers } from '../cache/cached-answers';
import { createUsageAlerts } from '../usage/usage-notifications';
import { createBudgetAlerts } from '../usage/budget-notifications';
import { createBadgeUpdater, toolbarBadge } from '../badge/badge-updater';
import { forgetWaitOnNewBaseURL } from '../settings/base-url-watch';
import { createChatRunner, type RunnerDeps } from '../queue/chat-runner';
import { createGatewayBudget } from '../usage/gateway-key-info';
import { createHandlers, type HandlerDeps } from './handlers';
import { createKeepAlive } from './keep-alive';
import {
  currentCredentials,
  keyBlocker,
  keyOrigins,
  keyStatus,
  removeKey,
  saveKey,
  savedKey,
  unlockKey,
} from '../key/key-store';
import { createMeasureRequest } from '../limits/measure-job';
import { createPortServer, isOwnPage } from './port-server';
import { readSettings } from '../settings/stored-settings';
import { createReach, type ReachBrowser } from '../reach/reach-menus';
import { createReadAhead } from '../queue/read-ahead';
import { createRedactingLog } from '../key/redacting-log';
import { parseHeaderLines } from '../settings/validate';
import { DRAFT_KEY } from '../storage/draft-key';
import { createDeviceSync, type IdentityStore, type SyncArea } from '../sync/device-sync';
import { defaultDeviceName } from '../sync/device-entry';
import { createSettingsSync, type SettingsSyncDeps } from '../sync/settings-sync';
import { storedIdentity, storedSettingsSyncState } from '../sync/sync-items';

const WAKE_ALARM = 'pace-wake';
const MONTH_ALARM = 'pace-month';
/** Deletes chats older than the retention once a day, while the browser runs (and at every start). */
const RETENTION_ALARM = 'pace-retention';
const BATCH_ALARM = 'pace-batch';

/** Where the key is kept and whether it may be used: key-store.ts's functions in the extension. */
export type BackgroundKeys = HandlerDeps['keys'] & { credentials: HandlerDeps['credentials'] };

/** The key as key-store.ts keeps it in the extension's storage. */
export const storedKeys: BackgroundKeys = {
  status: keyStatus,
  save: saveKey,
  unlock: unlockKey,
  remove: removeKey,
  saved: savedKey,
  blocker: keyBlocker,
  origins: keyOrigins,
  credentials: currentCredentials,
};

/** The parts of `browser` (wxt/browser) the background uses; WXT's fakeBrowser in tests. */
export type BackgroundBrowser = Pick<WxtBrowser, 'alarms' | 'runtime' | 'notifications' | 'action' | 'browserAction'> &
  Partial<ReachBrowser> &
  Partial<Pick<WxtBrowser, 'storage'>>;

export interface BackgroundDeps {
  browser: BackgroundBrowser;
  db: PaceDB;
  now: () => number;
  /** Whether the browser believes it is online (navigator.onLine). */
  online: () => boolean;
  keys: BackgroundKeys;
  /** The SDK client for a key and base URL (createClaudeClient). */
  createClient: HandlerDeps['createClient'];
  /** The wake timer's clock (setTimeout and clearTimeout by default). */
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
  /** The runner's backoff jitter and stall limit (Math.random and 60 s by default): tests shorten the waits. */
  random?: RunnerDeps['random'];
  stallMs?: RunnerDeps['stallMs'];
  /** Browser sync's edges (`storage.sync` by default; none: no sync). Tests give each device its own id and a shared fake area. */
  sync?: SyncEdges | null;
}

/** What the sync modules (lib/sync/) are given: the area, its changes, and what this device keeps of it locally. */
export interface SyncEdges {
  area: SyncArea;
  /** Registers the listener of `storage.sync`'s changes (storage.onChanged with area 'sync'). */
  onChanged: (listener: (changes: Record<string, { newValue?: unknown }>) => void) => void;
  identity: IdentityStore;
  settingsState: SettingsSyncDeps['state'];
  userAgent?: string;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/** The extension's own `storage.sync`, when the browser has it. */
function browserSync(browser: BackgroundBrowser): SyncEdges | null {
  const storage = browser.storage;
  if (!storage?.sync) return null;
  return {
    area: storage.sync as unknown as SyncArea,
    onChanged: (listener) =>
      storage.onChanged.addListener((changes, area) => {
        if (area === 'sync') listener(changes);
      }),
    identity: storedIdentity,
    settingsState: storedSettingsSyncState,
  };
}

/** The options' saves whose settings follow the user to the other devices. */
const SETTINGS_REQUESTS = [
  'settings.save',
  'chatPrefs.save',
  'batchPrefs.save',
  'usagePrefs.save',
  'limits.save',
  'limits.useLearned',
  'budget.save',
  'templates.save',
] as const;

/** The real edges, for entrypoints/background.ts. */
export function browserEdges(browser: BackgroundBrowser, db: PaceDB): BackgroundDeps {
  return {
    browser,
    db,
    now: Date.now,
    online: () => navigator.onLine,
    keys: storedKeys,
    createClient: createClaudeClient,
  };
}

export function createBackgroundApp(deps: BackgroundDeps) {
  const { browser, db, now, online, keys } = deps;
  const settings = () => readSettings();
  const usagePrefs = () => usagePrefsItem.getValue();
  const notify = async (id: string, title: string, message: string) => {
    await browser.notifications.create(id, {
      type: 'basic',
      iconUrl: browser.runtime.getURL('/icon/128.png'),
      title,
      message,
    });
  };
  const alerts = createUsageAlerts({ db, prefs: usagePrefs, notify });
  const budgetAlerts = createBudgetAlerts({ db, prefs: usagePrefs, notify, settings, now });
  const badge = createBadgeUpdater(db, toolbarBadge(browser), now);
  // What the runners log of a server's answer passes the same redaction as what the user is shown.
  const log = createRedactingLog(async () => {
    const [key, read] = await Promise.all([keys.saved(), settings()]);
    return [...(key === null ? [] : [key]), ...Object.values(parseHeaderLines(read.extraHeaders).headers)];
  });
  const gatewayBudget = createGatewayBudget({ db, credentials: keys.credentials, settings, now, log });

  // One door to the wire for every answer this worker sends: a 429 closes it for all of them.
  const gate = createWireGate({ now });
  const runner = createChatRunner({
    db,
    gate,
    credentials: keys.credentials,
    settings,
    createClient: deps.createClient,
    promptCacheModes: storedPromptCacheModes,
    // `server` is declared below; the runner publishes only once requests arrive through it.
    publish: (event) => server.publish(event),
    usagePrefs,
    onRefused: (reason, waitText, by) => void alerts.refused(reason, waitText, by),
    onGatewaySpend: () => void gatewayBudget.refresh('answered'),
    keepAlive: createKeepAlive(() => browser.runtime.getPlatformInfo()),
    now,
    online,
    random: deps.random,
    stallMs: deps.stallMs,
    log,
  });

  /** A timer while the worker lives (capped: see lib/queue/wake.ts); the named alarm wakes a stopped worker (Chrome: 30 s at the least). */
  const wakeBy = (alarm: string, pump: () => void) =>
    createWake({
      now,
      pump,
      alarm: (at) => void (at === null ? browser.alarms.clear(alarm) : browser.alarms.create(alarm, { when: at })),
      setTimer: deps.setTimer,
      clearTimer: deps.clearTimer,
    });
  // One for the queue and the batches: a question either of them holds may be answered from the cache.
  const answerFromCache = createCachedAnswers({ db, credentials: keys.credentials, settings, usagePrefs });

  const scheduler = createScheduler({
    db,
    now,
    // A key still locked with its passphrase fails queued jobs as 'locked': they can be retried once it is unlocked.
    blocker: keys.blocker,
    failJob: (job, error) => jobStore.fail(db, job.id, { status: 'error', error }),
    async combine(job) {
      // Combining only saves quota: if it fails, the job goes as it is.
      if ((await settings()).combineWaiting)
        await jobStore
          .combine(db, job)
          .catch((err: unknown) => console.warn('[pace] could not combine waiting messages', err));
    },
    async startJob(job, options) {
      void badge.refresh();
      await runner.start(job, undefined, options);
    },
    settled: () => gate.settled(),
    wakeAt: wakeBy(WAKE_ALARM, () => void scheduler.pump()),
    changed: () => {
      void badge.refresh();
      void alerts.checkUsage();
      void budgetAlerts.check();
      // A question sent later may have waited for the message that just went or ended. (The batch runner pumps the queue
      // only when it changed something, so the two do not wake each other for ever.)
      batches.nudge();
    },
    answerFromCache,
    measure: createMeasureRequest({
      db,
      now,
      settings,
      credentials: keys.credentials,
      createClient: deps.createClient,
      log,
    }),
    online,
  });

  const batches = createBatchRunner({
    db,
    now,
    credentials: keys.credentials,
    settings,
    prefs: () => batchPrefsItem.getValue(),
    createClient: deps.createClient,
    answerFromCache,
    notify,
    // Gathering, polls and retries survive a stopped worker and a browser restart: the alarm wakes it.
    wakeAt: wakeBy(BATCH_ALARM, () => void batches.tick()),
    changed: () => void scheduler.pump(),
    log,
  });

  // What a send needs, read while the user types; the key, the settings and the prefs live in the extension's storage.
  const readAhead = createReadAhead({
    db,
    now,
    credentials: keys.credentials,
    settings,
    usagePrefs,
    promptCacheMode: (baseURL) => runner.promptCacheMode(baseURL),
    setTimer: deps.setTimer,
    clearTimer: deps.clearTimer,
  });
  browser.storage?.onChanged.addListener((changes) => {
    // The draft changes as the user types, and nothing a send reads comes from it.
    if (Object.keys(changes).some((key) => key !== DRAFT_KEY && key !== `${DRAFT_KEY}$`)) readAhead.changed();
  });

  // Browser sync: this device's month goes to the others, theirs counts here; settings follow the user.
  const syncEdges = deps.sync === undefined ? browserSync(browser) : deps.sync;
  const devices =
    syncEdges &&
    createDeviceSync({
      db,
      area: syncEdges.area,
      identity: syncEdges.identity,
      now,
      defaultName: () => defaultDeviceName(syncEdges.userAgent ?? globalThis.navigator?.userAgent ?? ''),
      setTimer: syncEdges.setTimer,
      clearTimer: syncEdges.clearTimer,
      // The other devices' month moved: what waits for the month or the budget, the badge and the alerts see it.
      onOthers: () => {
        void scheduler.pump();
        void badge.refresh();
        void alerts.checkUsage();
        void budgetAlerts.check();
      },
    });
  const settingsSync =
    syncEdges &&
    devices &&
    createSettingsSync({
      db,
      area: syncEdges.area,
      local: {
        settings,
        chatPrefs: () => chatPrefsItem.getValue(),
        batchPrefs: () => batchPrefsItem.getValue(),
        usagePrefs,
        prefs: storedPrefs,
      },
      state: syncEdges.settingsState,
      deviceId: async () => (await devices.list()).self.id,
      // Settings too large for sync are shown where the sync warning is (the devices row).
      onProblem: (message) => devices.settingsProblem(message),
      clearTimer: syncEdges.clearTimer,
      now,
      setTimer: syncEdges.setTimer,
      onApplied: () => {
        void scheduler.pump();
        if (browser.contextMenus)
          void reach.buildMenus().catch((err: unknown) => console.warn('[pace] could not make the context menu', err));
      },
    });
  if (devices && settingsSync) {
    // What this device counts is in the counters and the ledger's months: a write there may move its entry.
    db.writeWatchers.add((table) => {
      if (table === 'counters' || table === 'usageMonths') void devices.changed();
    });
    syncEdges.onChanged((changes) => {
      void devices.syncChanged().catch((err: unknown) => console.warn('[pace] could not read browser sync', err));
      void settingsSync
        .syncChanged(changes)
        .catch((err: unknown) => console.warn('[pace] could not apply synced settings', err));
    });
  }

  const handlers = createHandlers({
    db,
    runner,
    pump: () => scheduler.pump(),
    settings,
    credentials: keys.credentials,
    createClient: deps.createClient,
    keys,
    rememberModels: (models) => modelsItem.setValue({ models, fetchedAt: now() }),
    now,
    gatewayBudget,
    batches,
    sendAtOnce: {
      usagePrefs,
      online,
      start({ job, messages, probe }, ready) {
        // The queue's run (the badge, the alerts) waits for the answer to start: it would compete with the request.
        const started = () => void scheduler.pump();
        void runner.start(job, { ...ready, messages, started }, { probe }).finally(started);
      },
      settled: () => gate.settled(),
      promptCacheMode: (baseURL) => runner.promptCacheMode(baseURL),
      readAhead,
    },
    reach: { saveTemplates: (input) => reach.saveTemplates(input), readPage: (chat) => reach.readPage(chat) },
    ...(devices && settingsSync ? { sync: { devices, settings: settingsSync } } : {}),
  });
  if (settingsSync)
    for (const type of SETTINGS_REQUESTS) {
      const handle = handlers[type] as (payload: unknown) => Promise<unknown>;
      (handlers as Record<string, unknown>)[type] = async (payload: unknown) => {
        const reply = await handle(payload);
        settingsSync.changed();
        return reply;
      };
    }
  const server = createPortServer(handlers, (sender) =>
    isOwnPage(sender, browser.runtime.id, browser.runtime.getURL('/')),
  );
  // The menu, the shortcuts and "Ask about this page" (absent from a test's fake browser).
  const reach = createReach({
    browser: browser as ReachBrowser,
    db,
    send: (text, { later }) => handlers['chat.send']({ conversationId: null, text, later }),
    sendsLater: async () => (await batchPrefsItem.getValue()).sendLater,
    publish: (event) => server.publish(event),
    settings,
    now,
  });

  /** Old ledger rows and stale cache entries go, per the user's settings (at start-up and when those change). */
  async function pruneStorage() {
    const prefs = await usagePrefs();
    const at = now();
    await pruneUsage(db, at, prefs.retentionDays);
    await pruneCache(db, at, prefs.cacheHours * 60 * 60 * 1000);
  }
  usagePrefsItem.watch((next, before) => {
    if (next.retentionDays === before?.retentionDays && next.cacheHours === before?.cacheHours) return;
    void pruneStorage().catch((err: unknown) => console.warn('[pace] could not prune', err));
  });

  /** Conversations untouched for longer than the chat retention go, with their messages, jobs and cached answers. */
  async function pruneChats() {
    await pruneConversations(db, now(), (await chatPrefsItem.getValue()).keepDays);
  }

  // Firefox's alarms.create returns nothing, Chrome's a promise: awaited inside an async function, both are handled.
  /** Set once: creating it again on every worker start would push its first run a day ahead each time. */
  async function scheduleRetention() {
    if (await browser.alarms.get(RETENTION_ALARM)) return;
    await browser.alarms.create(RETENTION_ALARM, { periodInMinutes: 24 * 60 });
  }

  forgetWaitOnNewBaseURL({ settings: settingsItem, db, pump: () => void scheduler.pump() });

  async function scheduleMonthTurn() {
    const limits = await readLimits(db);
    await browser.alarms.create(MONTH_ALARM, { when: monthWindow(now(), limits.monthStart).end + 1000 });
  }

  const app = {
    onConnect: (port: Browser.runtime.Port) => server.onConnect(port),
    onInstalled: ({ reason }: Browser.runtime.InstalledDetails) => {
      if (reason === 'install') void browser.runtime.openOptionsPage();
    },
    /** Runs the queue now, as each event above does, and resolves once that run is done. */
    pump: () => scheduler.pump(),
    /** Resolves once what the last responses said (rate-limit figures, a refusal's pause) is written. */
    settled: () => gate.settled(),
    /** The browser is back online: what waited for the network goes now. */
    onOnline: () => void scheduler.pump(),
    onAlarm: (alarm: Browser.alarms.Alarm) => {
      if (alarm.name === MONTH_ALARM) {
        void scheduleMonthTurn();
        // The others' figures already written under the new month count from now: read them again.
        void devices?.syncChanged().catch((err: unknown) => console.warn('[pace] could not read browser sync', err));
      }
      if (alarm.name === RETENTION_ALARM)
        void pruneChats().catch((err: unknown) => console.warn('[pace] could not delete old chats', err));
      if (alarm.name === BATCH_ALARM) void batches.tick();
      void scheduler.pump();
    },
    /**
     * Recovers jobs cut off by a stopped worker, then runs the queue and shows the badge; the
     * housekeeping (pruning, alarms, the menu) comes after, together: nothing the queue does waits
     * for it. `queueRunning` is called once the queue has run (the bench's cold-start mark).
     */
    async start(queueRunning: () => void = () => {}) {
      // Each step may fail on its own; the queue runs whatever happened before it.
      const warn = (what: string) => (err: unknown) => console.warn(`[pace] could not ${what}`, err);
      await jobStore.recover(db, now()).catch(warn('recover jobs cut off by a restart'));
      await batches.recover().catch(warn('gather again the questions of a batch whose create was cut off'));
      await scheduler.pump();
      queueRunning();
      await Promise.all([
        pruneStorage().catch(warn('prune old usage and cache entries')),
        pruneChats().catch(warn('delete old chats')),
        scheduleRetention().catch(warn("set the chat retention's alarm")),
        scheduleMonthTurn().catch(warn("set the month's alarm")),
        browser.contextMenus ? reach.buildMenus().catch(warn('make the context menu')) : null,
        batches.tick(),
        devices?.start().catch(warn('write this device to browser sync')),
        settingsSync?.start().catch(warn('take the settings from browser sync')),
      ]);
    },
    /**
     * Registers every listener at once, synchronously: an event that wakes a stopped worker is
     * delivered only to listeners registered in the worker's first turn. `page` fires 'online'.
     */
    listen(page: Pick<EventTarget, 'addEventListener'>) {
      browser.runtime.onConnect.addListener(app.onConnect);
      browser.runtime.onInstalled.addListener(app.onInstalled);
      browser.alarms.onAlarm.addListener(app.onAlarm);
      page.addEventListener('online', app.onOnline);
    },
    reach,
    /** This device in browser sync and the settings that follow the user (null without sync). */
    sync: devices && settingsSync ? { devices, settings: settingsSync } : null,
  };
  return app;
}
