/**
 * The settings that follow the user, pure: what is copied to browser sync (`pace.settings`) and to
 * a settings file, and the check of one read back, field by field with the forms' own checks
 * (lib/settings/validate.ts, lib/limits/plans.ts, lib/limits/budget.ts...). Never in it: the API
 * key, the gateway's base URL and header values (they go with the key, on this device), chats,
 * the response cache.
 */
import { isObject } from '../is-object';
import { checkBudget } from '../limits/budget';
import { checkLimits } from '../limits/plans';
import { checkTemplates } from '../reach/templates';
import { checkBatchPrefs, type BatchPrefs } from '../settings/batch-prefs';
import { checkChatPrefs, type ChatPrefs } from '../settings/chat-prefs';
import { checkUsagePrefs, type UsagePrefs } from '../settings/usage-prefs';
import { checkSettings, DEFAULT_SETTINGS, type Settings } from '../settings/validate';
import type { Budget, Limits, PromptTemplate } from '../storage/rows';

export const SETTINGS_KEY = 'pace.settings';
const FILE_KIND = 'pace-settings';
const FILE_VERSION = 1;

/** The request settings that follow the user: everything but the base URL and its headers. */
export type SharedSettings = Omit<Settings, 'baseURL' | 'extraHeaders'>;

export interface SettingsSnapshot {
  settings: SharedSettings;
  limits: Limits;
  budget: Budget | null;
  chatPrefs: ChatPrefs;
  batchPrefs: BatchPrefs;
  usagePrefs: UsagePrefs;
  templates: PromptTemplate[];
}

/** The synced item and the file: a snapshot with its version and when it was made (the last writer wins). */
export interface SettingsRecord extends SettingsSnapshot {
  kind: typeof FILE_KIND;
  version: typeof FILE_VERSION;
  updatedAt: number;
}

export function shareable(settings: Settings): SharedSettings {
  const { model, maxTokens, systemPrompt, combineWaiting, promptCache, webSearchMaxUses } = settings;
  return { model, maxTokens, systemPrompt, combineWaiting, promptCache, webSearchMaxUses };
}

export function settingsRecord(snapshot: SettingsSnapshot, updatedAt: number): SettingsRecord {
  const { settings, limits, budget, chatPrefs, batchPrefs, usagePrefs, templates } = snapshot;
  return {
    kind: FILE_KIND,
    version: FILE_VERSION,
    updatedAt,
    settings,
    limits,
    budget,
    chatPrefs,
    batchPrefs,
    usagePrefs,
    templates,
  };
}

export type CheckedRecord = { ok: true; value: SettingsRecord } | { ok: false; field: string; message: string };

const refuse = (field: string, message: string): CheckedRecord => ({ ok: false, field, message });
/** The first of a form's messages, named by its section and field. */
function firstError(section: string, errors: Record<string, string | undefined>): CheckedRecord | null {
  const entry = Object.entries(errors).find(([, m]) => m !== undefined);
  return entry ? refuse(`${section}.${entry[0]}`, entry[1]!) : null;
}

const scalar = (v: unknown): v is string | number => typeof v === 'string' || typeof v === 'number';

/** Checks a settings record (a file or the synced item) section by section; the first wrong field is named. */
export function checkSettingsRecord(raw: unknown, newId: () => string): CheckedRecord {
  if (!isObject(raw)) return refuse('file', 'This is not a Pace settings file (not a JSON object).');
  if (raw.kind !== FILE_KIND) return refuse('kind', 'This is not a Pace settings file (kind is not "pace-settings").');
  if (raw.version !== FILE_VERSION) return refuse('version', `Pace reads settings files of version ${FILE_VERSION}.`);
  const updatedAt = raw.updatedAt;
  if (typeof updatedAt !== 'number' || !Number.isFinite(updatedAt) || updatedAt < 0)
    return refuse('updatedAt', 'updatedAt must be a time in milliseconds.');
  for (const section of ['settings', 'limits', 'chatPrefs', 'batchPrefs', 'usagePrefs'] as const)
    if (!isObject(raw[section])) return refuse(section, `${section} must be an object.`);

  const s = raw.settings as Record<string, unknown>;
  for (const f of ['model', 'maxTokens', 'systemPrompt'] as const)
    if (!scalar(s[f])) return refuse(`settings.${f}`, `settings.${f} must be a string or a number.`);
  if (typeof s.combineWaiting !== 'boolean')
    return refuse('settings.combineWaiting', 'settings.combineWaiting must be true or false.');
  if (typeof s.promptCache !== 'string')
    return refuse('settings.promptCache', 'settings.promptCache must be a string.');
  // Absent in a file written before web search: the default.
  if (s.webSearchMaxUses !== undefined && !scalar(s.webSearchMaxUses))
    return refuse('settings.webSearchMaxUses', 'settings.webSearchMaxUses must be a number.');
  const settings = checkSettings({
    model: s.model as string,
    maxTokens: s.maxTokens as string | number,
    systemPrompt: s.systemPrompt as string,
    baseURL: DEFAULT_SETTINGS.baseURL,
    combineWaiting: s.combineWaiting,
    promptCache: s.promptCache,
    ...(s.webSearchMaxUses === undefined ? {} : { webSearchMaxUses: s.webSearchMaxUses }),
  });
  if (!settings.ok) return firstError('settings', settings.errors)!;

  const l = raw.limits as Record<string, unknown>;
  for (const f of ['plan', 'monthStart'] as const)
    if (typeof l[f] !== 'string') return refuse(`limits.${f}`, `limits.${f} must be a string.`);
  for (const f of ['perMinute', 'perMonth'] as const)
    if (!scalar(l[f])) return refuse(`limits.${f}`, `limits.${f} must be a number.`);
  for (const f of ['inputPerMinute', 'outputPerMinute'] as const)
    if (l[f] !== undefined && l[f] !== null && !scalar(l[f]))
      return refuse(`limits.${f}`, `limits.${f} must be a number or null.`);
  if (typeof l.smooth !== 'boolean') return refuse('limits.smooth', 'limits.smooth must be true or false.');
  const limits = checkLimits(l as Parameters<typeof checkLimits>[0]);
  if (!limits.ok) return firstError('limits', limits.errors)!;

  let budget: Budget | null = null;
  if (raw.budget !== null && raw.budget !== undefined) {
    if (!isObject(raw.budget)) return refuse('budget', 'budget must be an object or null.');
    const b = raw.budget;
    const usd = (v: unknown) => (v === null ? '' : v);
    for (const f of ['monthlyUsd', 'dailyUsd', 'unknownPriceUsd'] as const)
      if (b[f] !== null && !scalar(b[f])) return refuse(`budget.${f}`, `budget.${f} must be a number or null.`);
    const checked = checkBudget({
      monthlyUsd: usd(b.monthlyUsd) as string | number,
      dailyUsd: usd(b.dailyUsd) as string | number,
      unknownPriceUsd: usd(b.unknownPriceUsd) as string | number,
      whenReached: String(b.whenReached),
      badge: String(b.badge),
    });
    if (!checked.ok) return firstError('budget', checked.errors)!;
    budget = checked.value;
  }

  const c = raw.chatPrefs as Record<string, unknown>;
  const chatPrefs = checkChatPrefs({
    keepDays: c.keepDays === null ? 'forever' : scalar(c.keepDays) ? c.keepDays : '',
    theme: String(c.theme),
  });
  if (!chatPrefs.ok) return firstError('chatPrefs', chatPrefs.errors)!;

  const bp = raw.batchPrefs as Record<string, unknown>;
  if (typeof bp.sendLater !== 'boolean')
    return refuse('batchPrefs.sendLater', 'batchPrefs.sendLater must be true or false.');
  for (const f of ['gatherSeconds', 'firstPollSeconds', 'maxPollSeconds'] as const)
    if (!scalar(bp[f])) return refuse(`batchPrefs.${f}`, `batchPrefs.${f} must be a number.`);
  const batchPrefs = checkBatchPrefs(bp as unknown as Parameters<typeof checkBatchPrefs>[0]);
  if (!batchPrefs.ok) return firstError('batchPrefs', batchPrefs.errors)!;

  const u = raw.usagePrefs as Record<string, unknown>;
  for (const f of ['cacheHours', 'retentionDays'] as const)
    if (!scalar(u[f])) return refuse(`usagePrefs.${f}`, `usagePrefs.${f} must be a number.`);
  const a = u.alerts;
  if (!isObject(a)) return refuse('usagePrefs.alerts', 'usagePrefs.alerts must be an object.');
  for (const f of ['at80', 'at95', 'at100', 'refused'] as const)
    if (typeof a[f] !== 'boolean')
      return refuse(`usagePrefs.alerts.${f}`, `usagePrefs.alerts.${f} must be true or false.`);
  const usagePrefs = checkUsagePrefs({
    cacheHours: u.cacheHours as string | number,
    retentionDays: u.retentionDays as string | number,
    alerts: {
      at80: a.at80 as boolean,
      at95: a.at95 as boolean,
      at100: a.at100 as boolean,
      refused: a.refused as boolean,
    },
  });
  if (!usagePrefs.ok) return firstError('usagePrefs', usagePrefs.errors)!;

  if (!Array.isArray(raw.templates)) return refuse('templates', 'templates must be a list.');
  const templates = checkTemplates(raw.templates, newId);
  if (!templates.ok) {
    const row = templates.errors.rows.findIndex((r) => r.title !== undefined || r.prompt !== undefined);
    const wrong = templates.errors.rows[row];
    return refuse(row >= 0 ? `templates.${row}.${wrong?.title ? 'title' : 'prompt'}` : 'templates', templates.message);
  }

  return {
    ok: true,
    value: settingsRecord(
      {
        settings: shareable(settings.value),
        limits: limits.value,
        budget,
        chatPrefs: chatPrefs.value,
        batchPrefs: batchPrefs.value,
        usagePrefs: usagePrefs.value,
        templates: templates.value,
      },
      updatedAt,
    ),
  };
}

/** Whether two snapshots hold the same settings (a record's time aside). */
export function sameSettings(a: SettingsSnapshot, b: SettingsSnapshot): boolean {
  const pick = (s: SettingsSnapshot) =>
    JSON.stringify([s.settings, s.limits, s.budget, s.chatPrefs, s.batchPrefs, s.usagePrefs, s.templates]);
  return pick(a) === pick(b);
}
