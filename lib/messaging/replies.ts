/**
 * What the background sends the pages, as schemas (lib/schema.ts): each request's reply, the error
 * of a refused request, and the events it pushes. lib/protocol.ts infers its reply, error and event
 * types from these, and the page client (./page-client.ts) parses every reply and event with them,
 * so the types and the checks cannot drift.
 *
 * Only the pages load this module: the worker sends these values and never parses them, and its
 * handlers are checked against the inferred types at compile time (lib/protocol.ts imports this
 * file for types only). A reply that is another module's record (Limits, Settings, ...) is mirrored
 * here; tests/unit/lib/protocol.test.ts holds each mirror equal to its record's type.
 */
import * as z from '../schema';
import { isObject } from '../is-object';
import { KEEP_KEYS } from '../key/keep-keys';
import { KEEP_DAYS, THEMES } from '../settings/chat-prefs';
import { PROMPT_CACHE_SETTINGS } from '../settings/validate';
import {
  BADGE_COUNTS,
  ERROR_ACTIONS,
  ERROR_CODES,
  MONTH_STARTS,
  THINKING_EFFORTS,
  WHEN_REACHED,
  type PlanId,
} from '../storage/rows';
import { PLAN_IDS } from '../limits/plans';

const str = z.string();
const num = z.number();
const bool = z.boolean();
const numOrNull = z.nullable(num);

export const paceError = z.object({
  code: z.enum(ERROR_CODES),
  message: str,
  /** What the user can do about it; the page turns it into a button. */
  action: z.optional(z.enum(ERROR_ACTIONS)),
  /** The field a validation error is about, so a form can show it in place. */
  field: z.optional(str),
  /** Every field's message, when a whole form was refused. */
  fields: z.optional(
    z.custom<Partial<Record<string, string>>>(
      (v) => isObject(v) && Object.values(v).every((m) => m === undefined || typeof m === 'string'),
    ),
  ),
});

/** What a send would cost and what would stop it, shown before it is sent. */
const preview = z.object({
  /** Input tokens (text, images, PDFs). */
  tokens: num,
  inputUsd: numOrNull,
  /** The worst case: input, `max_tokens` of output (thinking included) and `max_uses` searches. */
  maxUsd: numOrNull,
  inputShare: numOrNull,
  lines: z.array(str),
  /** What would refuse it (budget, limits, size), or null. */
  blocker: z.nullable(str),
});

const keyStatus = z.object({
  hasKey: bool,
  /** Last four characters of the saved key, for a masked display. Never the key. */
  last4: z.nullable(str),
  /** True when no key is saved and this build talks to the local demo backend instead. */
  demo: bool,
  /** Where the key is kept: in extension storage on this device, or only until the browser closes. */
  remember: z.nullable(z.enum(KEEP_KEYS)),
  /** The saved key is sealed with a passphrase. */
  sealed: bool,
  /** A sealed key exists and has not been unlocked in this browser session: nothing can be sent. */
  locked: bool,
});

// Mirrors of lib/limits/plans.ts Limits, lib/settings/* and the other records a reply carries.
const limits = z.object({
  plan: z.enum<readonly PlanId[]>([...PLAN_IDS, 'custom']),
  perMinute: num,
  perMonth: num,
  smooth: bool,
  monthStart: z.enum(MONTH_STARTS),
  inputPerMinute: z.optional(numOrNull),
  outputPerMinute: z.optional(numOrNull),
});

export const replies = {
  'chat.send': z.object({ conversationId: str, userMessageId: str, assistantMessageId: str }),
  'chat.prepare': z.object({ ready: bool }),
  'chat.stop': z.object({ stopped: bool }),
  'chat.retry': z.object({ messageId: str }),
  'conversation.rename': z.object({ title: str }),
  'conversation.delete': z.object({ deleted: num }),
  'conversation.deleteAll': z.object({ deleted: num }),
  'conversation.chooseModel': z.object({ model: str }),
  'conversation.setOptions': z.object({ thinking: z.enum(THINKING_EFFORTS), webSearch: bool }),
  'chatPrefs.save': z.object({ keepDays: z.literal(KEEP_DAYS), theme: z.enum(THEMES) }),
  'key.status': keyStatus,
  'key.test': z.object({ models: z.array(z.object({ id: str, displayName: str })) }),
  'key.save': keyStatus,
  'key.unlock': keyStatus,
  'key.remove': keyStatus,
  'queue.clear': z.object({ cancelled: num }),
  'queue.tryNow': z.object({ allowed: bool }),
  'cache.clear': z.object({ cleared: num }),
  'limits.save': limits,
  'limits.useLearned': limits,
  'settings.save': z.object({
    model: str,
    maxTokens: num,
    systemPrompt: str,
    baseURL: str,
    combineWaiting: bool,
    extraHeaders: str,
    promptCache: z.enum(PROMPT_CACHE_SETTINGS),
  }),
  'usagePrefs.save': z.object({
    cacheHours: num,
    retentionDays: num,
    alerts: z.object({ at80: bool, at95: bool, at100: bool, refused: bool }),
  }),
  'batchPrefs.save': z.object({ sendLater: bool, gatherSeconds: num, firstPollSeconds: num, maxPollSeconds: num }),
  'key.confirmOrigin': z.object({ origins: z.array(str) }),
  'gateway.budget': z.nullable(
    z.object({
      baseURL: str,
      checkedAt: num,
      budget: z.nullable(z.object({ spend: num, maxBudget: numOrNull, resetAt: numOrNull })),
    }),
  ),
  'budget.save': z.object({
    monthlyUsd: numOrNull,
    dailyUsd: numOrNull,
    whenReached: z.enum(WHEN_REACHED),
    unknownPriceUsd: numOrNull,
    badge: z.enum(BADGE_COUNTS),
  }),
  'templates.save': z.array(z.object({ id: str, title: str, prompt: str })),
  'page.read': z.object({
    title: str,
    url: str,
    text: str,
    cut: bool,
    preview,
  }),
  'sync.devices': z.object({
    self: z.object({ id: str, name: str }),
    others: z.array(z.object({ id: str, name: str, updatedAt: num, requests: num, usd: num })),
    error: z.nullable(z.object({ message: str, at: num })),
    settingsSync: bool,
  }),
  'sync.rename': z.object({ id: str, name: str }),
  'sync.forget': z.object({ forgotten: bool }),
  'sync.settings': z.object({ enabled: bool }),
  'settings.export': z.object({ text: str, fileName: str }),
  'settings.import': z.object({ updatedAt: num }),
  /** The same preview for a message typed in the composer, with its attachments, thinking and search. */
  'chat.preview': preview,
};

export const paceEvent = z.union([
  z.object({ type: z.literal('answer.progress'), messageId: str, text: str }),
  /** Text for the message box (the quoted selection), for the user to finish and send. */
  z.object({ type: z.literal('composer.fill'), text: str }),
  /** A refusal of something started outside the pages (the context menu, a shortcut). */
  z.object({ type: z.literal('notice'), error: paceError }),
]);
