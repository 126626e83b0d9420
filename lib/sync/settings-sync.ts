/**
 * Settings that follow the user, for the background: after the user saves a setting on this device
 * its snapshot (./settings-file.ts) is written to `storage.sync` as `pace.settings`; when another
 * device's arrives (newer by `updatedAt`: the last writer wins) it is checked field by field with
 * the forms' checks and applied. "Keep settings on this device only" turns both off. The settings
 * file's export and import use the same snapshot and the same checks.
 */
import { isObject } from '../is-object';
import { readBudget, saveBudget } from '../limits/budget-store';
import { readLimits, saveLimits } from '../limits/limiter-store';
import { readTemplates, saveTemplates } from '../reach/template-store';
import type { BatchPrefs } from '../settings/batch-prefs';
import type { ChatPrefs } from '../settings/chat-prefs';
import type { StoredPrefs } from '../settings/settings-items';
import type { UsagePrefs } from '../settings/usage-prefs';
import type { Settings } from '../settings/validate';
import type { PaceDB } from '../storage/db';
import { warn as defaultWarn } from '../warn';
import type { SyncArea } from './device-sync';
import {
  checkSettingsRecord,
  sameSettings,
  settingsRecord,
  SETTINGS_KEY,
  shareable,
  type CheckedRecord,
  type SettingsRecord,
  type SettingsSnapshot,
} from './settings-file';

const WRITE_DELAY_MS = 1_000;
const RETRY_MS = 30_000;
/** storage.sync's QUOTA_BYTES_PER_ITEM: the UTF-8 bytes of the key and of the JSON value. */
const SYNC_ITEM_BYTES = 8_192;

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KB`;

/** This device's settings as the extension's storage keeps them (settings-items.ts by default). */
interface LocalSettings {
  settings: () => Promise<Settings>;
  chatPrefs: () => Promise<ChatPrefs>;
  batchPrefs: () => Promise<BatchPrefs>;
  usagePrefs: () => Promise<UsagePrefs>;
  prefs: Pick<StoredPrefs, 'saveSettings' | 'saveChatPrefs' | 'saveBatchPrefs' | 'saveUsagePrefs'>;
}

export interface SettingsSyncDeps {
  db: PaceDB;
  area: SyncArea;
  local: LocalSettings;
  /** The switch and the last settings time (./sync-items.ts). */
  state: {
    get: () => Promise<{ enabled: boolean; at: number }>;
    set: (s: { enabled: boolean; at: number }) => Promise<void>;
  };
  deviceId: () => Promise<string>;
  now: () => number;
  newId?: () => string;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
  /** Settings were applied (from sync or a file): the queue and the menus see them. */
  onApplied?: () => void;
  /** Why the settings cannot go to sync (too large), or null once they went: shown with the sync warning. */
  onProblem?: (message: string | null) => Promise<void> | void;
  warn?: (message: string, detail?: unknown) => void;
}

export function createSettingsSync(deps: SettingsSyncDeps) {
  const { db, area, local, now } = deps;
  const newId = deps.newId ?? (() => crypto.randomUUID());
  const setTimer = deps.setTimer ?? ((run, ms) => setTimeout(run, ms));
  const clearTimer = deps.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  const log = deps.warn ?? defaultWarn;
  let pending = false;
  let timer: unknown = null;
  let writing: Promise<void> = Promise.resolve();

  /** This device's settings now, in the checked form (so two equal snapshots compare equal). */
  async function snapshot(): Promise<SettingsSnapshot> {
    const [settings, chatPrefs, batchPrefs, usagePrefs, limits, budget, templates] = await Promise.all([
      local.settings(),
      local.chatPrefs(),
      local.batchPrefs(),
      local.usagePrefs(),
      readLimits(db),
      readBudget(db),
      readTemplates(db),
    ]);
    const raw = { settings: shareable(settings), limits, budget, chatPrefs, batchPrefs, usagePrefs, templates };
    const checked = checkSettingsRecord(settingsRecord(raw, 0), newId);
    return checked.ok ? checked.value : raw;
  }

  async function apply(record: SettingsSnapshot): Promise<void> {
    const current = await local.settings();
    await Promise.all([
      local.prefs.saveSettings({ ...current, ...record.settings }),
      local.prefs.saveChatPrefs(record.chatPrefs),
      local.prefs.saveBatchPrefs(record.batchPrefs),
      local.prefs.saveUsagePrefs(record.usagePrefs),
      saveLimits(db, record.limits),
      record.budget === null ? null : saveBudget(db, record.budget),
      saveTemplates(db, record.templates),
    ]);
    deps.onApplied?.();
  }

  async function write(): Promise<void> {
    pending = false;
    const state = await deps.state.get();
    if (!state.enabled) return void (await deps.onProblem?.(null));
    const [mine, stored, from] = await Promise.all([snapshot(), area.get(SETTINGS_KEY), deps.deviceId()]);
    const there = checkSettingsRecord(stored[SETTINGS_KEY], newId);
    if (there.ok && sameSettings(there.value, mine)) return void (await deps.onProblem?.(null));
    const at = Math.max(now(), state.at + 1, there.ok ? there.value.updatedAt + 1 : 0);
    const record = { ...settingsRecord(mine, at), from };
    // Over the item quota the write would fail every time: it is not tried, and the user is told why.
    const bytes = new TextEncoder().encode(SETTINGS_KEY + JSON.stringify(record)).length;
    if (bytes > SYNC_ITEM_BYTES) {
      const message = `Settings are too large to sync (${kb(bytes)} of ${kb(SYNC_ITEM_BYTES)}): shorten the system prompt or the templates.`;
      log(message);
      await deps.onProblem?.(message);
      return;
    }
    try {
      await area.set({ [SETTINGS_KEY]: record });
      await deps.state.set({ ...state, at });
      await deps.onProblem?.(null);
    } catch (err) {
      log('could not write the settings to browser sync; trying again later', err instanceof Error ? err.message : err);
      schedule(RETRY_MS);
    }
  }

  function schedule(ms: number) {
    if (pending) return;
    pending = true;
    timer = setTimer(() => {
      timer = null;
      void flush();
    }, ms);
  }

  function flush(): Promise<void> {
    writing = writing.then(write).catch((err: unknown) => log('could not sync the settings', err));
    return writing;
  }

  /** Takes the synced settings if another device wrote them after the last this one took or wrote. */
  async function take(raw: unknown): Promise<void> {
    if (raw === undefined) return;
    const state = await deps.state.get();
    if (!state.enabled) return;
    if (isObject(raw) && raw.from === (await deps.deviceId())) return;
    const checked = checkSettingsRecord(raw, newId);
    if (!checked.ok) {
      log(`skipped the settings in browser sync: ${checked.field}: ${checked.message}`);
      return;
    }
    if (checked.value.updatedAt <= state.at) return;
    await apply(checked.value);
    await deps.state.set({ ...state, at: checked.value.updatedAt });
  }

  return {
    /** At the worker's start: settings written elsewhere while this browser was closed. */
    async start(): Promise<void> {
      await take((await area.get(SETTINGS_KEY))[SETTINGS_KEY]);
    },
    /** The user saved a setting here: it goes to sync shortly (several saves in a row go as one). */
    changed(): void {
      schedule(WRITE_DELAY_MS);
    },
    flush,
    /** `storage.sync` changed: `changes` as storage.onChanged gives them. */
    async syncChanged(changes: Record<string, { newValue?: unknown }>): Promise<void> {
      if (!Object.hasOwn(changes, SETTINGS_KEY)) return;
      await take(changes[SETTINGS_KEY]?.newValue);
    },
    async enabled(): Promise<boolean> {
      return (await deps.state.get()).enabled;
    },
    /** The switch: on, this device's settings go to sync at once (and it takes what others write from now on). */
    async setEnabled(enabled: boolean): Promise<boolean> {
      const state = await deps.state.get();
      await deps.state.set({ ...state, enabled });
      if (enabled) await flush();
      return enabled;
    },
    /** The settings file: a snapshot without the key, the base URL or the header values. */
    async exportRecord(): Promise<SettingsRecord> {
      return settingsRecord(await snapshot(), now());
    },
    /** Clears the pending write's timer (tests; a worker that stops loses it anyway). */
    stop(): void {
      if (timer !== null) clearTimer(timer);
      timer = null;
      pending = false;
    },
    /** Applies a settings file after checking it whole: a bad field changes nothing and is named. */
    async importRecord(raw: unknown): Promise<CheckedRecord> {
      const checked = checkSettingsRecord(raw, newId);
      if (!checked.ok) return checked;
      await apply(checked.value);
      schedule(WRITE_DELAY_MS);
      return checked;
    },
  };
}

export type SettingsSync = ReturnType<typeof createSettingsSync>;
