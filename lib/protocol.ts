/**
 * Every message between Pace's pages (popup, options) and its background, declared once.
 *
 * Pages talk over one `runtime.connect` port (see lib/messaging/): a request carries an id and
 * gets exactly one reply `{ ok: true, data } | { ok: false, error }`; the background also pushes
 * events (the answer being streamed) to every connected page. Anything arriving on the port is
 * parsed by `parseRequest` before a handler sees it; every reply and event is parsed by the page
 * client with its schema in lib/messaging/replies.ts, from which the reply and event types here are
 * inferred (the error's shape is declared in lib/storage/rows.ts, since a failed message keeps it).
 */
import * as z from './schema';
import { isObject } from './is-object';
// Types only: the worker never loads the pages' parsers of what it sends.
import type { paceEvent, replies } from './messaging/replies';
import type { PaceError } from './storage/rows';
import { KEEP_KEYS } from './key/keep-keys';
import { MAX_ATTACHMENTS } from './attachments/attachment-limits';

export { PORT_NAME } from './messaging/port-name';

export type Result<T> = { ok: true; data: T } | { ok: false; error: PaceError };

type Reply<K extends keyof typeof replies> = z.infer<(typeof replies)[K]>;
export type SendResult = Reply<'chat.send'>;
export type KeyStatus = Reply<'key.status'>;

/**
 * Each request's payload schema: the payload types below are inferred from these, and
 * `parseRequest` checks every incoming payload against its type's schema, so the two cannot drift.
 * Every check carries its own message ("key must be a string"); unknown fields are dropped.
 */
const text = (error: string) => z.string({ error });
const id = (error: string) => z.string({ error }).check(z.minLength(1, { error }), z.maxLength(100, { error }));
const bool = (error: string) => z.boolean({ error });
/** A typed field as the form holds it; any JavaScript number, so the form's own check names a bad one. */
const typed = (error: string) => z.union([z.string(), z.custom<number>((v) => typeof v === 'number')], { error });
const empty = z.object({});
/**
 * An image or PDF the page attaches to a message: its bytes as base64 (a port carries JSON), an
 * image already downscaled in the page, with its size in pixels. The background checks it again.
 */
const attachmentIn = z.object(
  {
    name: text('each attachment name must be a string'),
    mediaType: text('each attachment mediaType must be a string'),
    data: text('each attachment data must be base64 text'),
    width: z.optional(z.number({ error: 'each attachment width must be a number' })),
    height: z.optional(z.number({ error: 'each attachment height must be a number' })),
  },
  { error: 'each attachment must be an object' },
);
const attachmentsIn = z
  .array(attachmentIn, { error: 'attachments must be a list' })
  .check(z.maxLength(MAX_ATTACHMENTS, { error: `At most ${MAX_ATTACHMENTS} attachments a message.` }));
/** A conversation's thinking effort and web search switch (for a new chat: sent with its first message). */
const thinkingIn = text('thinking must be a string');
const webSearchIn = bool('webSearch must be true or false');

const payloads = {
  'chat.send': z.object({
    conversationId: z.nullable(id('conversationId must be an id or null')),
    text: text('text must be a string'),
    // The model chosen in the popup for a new conversation; absent or null: the conversation's, else the options' model.
    model: z.optional(z.nullable(text('model must be a string or null'))),
    later: z.optional(bool('later must be true or false')),
    attachments: z.optional(attachmentsIn),
    // For a new conversation; an existing one keeps its own (conversation.setOptions).
    thinking: z.optional(thinkingIn),
    webSearch: z.optional(webSearchIn),
  }),
  // What a message would cost and what would stop it, before it is sent (the composer's preview line).
  'chat.preview': z.object({
    conversationId: z.nullable(id('conversationId must be an id or null')),
    text: text('text must be a string'),
    model: z.optional(z.nullable(text('model must be a string or null'))),
    attachments: z.optional(attachmentsIn),
    thinking: z.optional(thinkingIn),
    webSearch: z.optional(webSearchIn),
  }),
  'chat.prepare': z.object({ conversationId: z.nullable(id('conversationId must be an id or null')) }),
  'chat.stop': z.object({ messageId: id('messageId must be an id') }),
  'chat.retry': z.object({ messageId: id('messageId must be an id') }),
  'conversation.rename': z.object({
    conversationId: id('conversationId must be an id'),
    title: text('title must be a string'),
  }),
  'conversation.delete': z.object({ conversationId: id('conversationId must be an id') }),
  'conversation.deleteAll': empty,
  'conversation.chooseModel': z.object({
    conversationId: id('conversationId must be an id'),
    model: text('model must be a string'),
  }),
  'conversation.setOptions': z.object({
    conversationId: id('conversationId must be an id'),
    thinking: z.optional(thinkingIn),
    webSearch: z.optional(webSearchIn),
  }),
  'chatPrefs.save': z.object({
    // Days, or 'forever'.
    keepDays: typed('keepDays must be a string or a number'),
    theme: text('theme must be a string'),
  }),
  'key.status': empty,
  'key.test': z.object({
    key: z.nullable(text('key must be a string or null')),
    baseURL: text('baseURL must be a string'),
  }),
  'key.save': z.object({
    key: text('key must be a string'),
    remember: z.enum(KEEP_KEYS, { error: "remember must be 'device' or 'session'" }),
    passphrase: z.nullable(text('passphrase must be a string or null')),
  }),
  'key.unlock': z.object({ passphrase: text('passphrase must be a string') }),
  'key.remove': empty,
  'queue.clear': empty,
  'queue.tryNow': empty,
  'cache.clear': empty,
  'limits.save': z.object({
    plan: text('plan must be a string'),
    perMinute: typed('perMinute must be a string or a number'),
    perMonth: typed('perMonth must be a string or a number'),
    smooth: bool('smooth must be true or false'),
    monthStart: text('monthStart must be a string'),
    inputPerMinute: z.optional(z.nullable(typed('inputPerMinute must be a string, a number or null'))),
    outputPerMinute: z.optional(z.nullable(typed('outputPerMinute must be a string, a number or null'))),
  }),
  'limits.useLearned': empty,
  'settings.save': z.object({
    settings: z.object(
      {
        model: typed('settings.model must be a string'),
        maxTokens: typed('settings.maxTokens must be a string or a number'),
        systemPrompt: typed('settings.systemPrompt must be a string'),
        baseURL: typed('settings.baseURL must be a string'),
        combineWaiting: bool('settings.combineWaiting must be true or false'),
        // null keeps the saved headers: their values, secrets like the key, need not come from a page.
        extraHeaders: z.union([z.string(), z.null()], {
          error: 'settings.extraHeaders must be a string, or null to keep the saved headers',
        }),
        promptCache: text('settings.promptCache must be a string'),
        // Web searches a message may run ("Search the web"); absent: keep the saved figure.
        webSearchMaxUses: z.optional(typed('settings.webSearchMaxUses must be a string or a number')),
      },
      { error: 'settings must be an object' },
    ),
    confirmOrigin: bool('confirmOrigin must be true or false'),
  }),
  'usagePrefs.save': z.object({
    cacheHours: typed('cacheHours must be a string or a number'),
    retentionDays: typed('retentionDays must be a string or a number'),
    alerts: z.object(
      {
        at80: bool('alerts.at80 must be true or false'),
        at95: bool('alerts.at95 must be true or false'),
        at100: bool('alerts.at100 must be true or false'),
        refused: bool('alerts.refused must be true or false'),
      },
      { error: 'alerts must be an object' },
    ),
  }),
  'key.confirmOrigin': z.object({ origin: text('origin must be a string') }),
  'batchPrefs.save': z.object({
    sendLater: bool('sendLater must be true or false'),
    gatherSeconds: typed('gatherSeconds must be a string or a number'),
    firstPollSeconds: typed('firstPollSeconds must be a string or a number'),
    maxPollSeconds: typed('maxPollSeconds must be a string or a number'),
  }),
  'gateway.budget': empty,
  'budget.save': z.object({
    monthlyUsd: typed('monthlyUsd must be a string or a number'),
    dailyUsd: typed('dailyUsd must be a string or a number'),
    whenReached: text('whenReached must be a string'),
    unknownPriceUsd: typed('unknownPriceUsd must be a string or a number'),
    badge: text('badge must be a string'),
  }),
  'templates.save': z.object({
    templates: z
      .array(
        z.object(
          {
            id: z.optional(z.nullable(text('each template id must be a string or null'))),
            title: text('each template title must be a string'),
            prompt: text('each template prompt must be a string'),
          },
          { error: 'each template must be an object' },
        ),
        { error: 'templates must be a list' },
      )
      .check(z.maxLength(100, { error: 'templates: at most 100 rows' })),
  }),
  // Devices through browser sync (lib/sync/device-sync.ts) and the settings that follow the user (lib/sync/settings-sync.ts).
  'sync.devices': empty,
  'sync.rename': z.object({
    name: text('name must be a string').check(z.maxLength(200, { error: 'name: at most 200 characters' })),
  }),
  'sync.forget': z.object({ id: id('id must be a device id') }),
  'sync.settings': z.object({ enabled: bool('enabled must be true or false') }),
  'settings.export': empty,
  'settings.import': z.object({
    text: text('text must be a string').check(
      z.maxLength(1_000_000, { error: 'text: a settings file is at most 1,000,000 characters' }),
    ),
  }),
  // The chat the page would go to: its model prices the page (a new chat's model chosen in the popup, else the options').
  'page.read': z.object({
    conversationId: z.optional(z.nullable(id('conversationId must be an id or null'))),
    model: z.optional(z.nullable(text('model must be a string or null'))),
  }),
} satisfies Record<string, z.Schema<unknown>>;

type Payload<K extends keyof typeof payloads> = z.infer<(typeof payloads)[K]>;

/** Request name -> payload and reply data. */
interface Requests {
  'chat.send': { req: Payload<'chat.send'>; res: Reply<'chat.send'> };
  /** The user is typing a message to this conversation (null: a new chat): what its send needs is read ahead. */
  'chat.prepare': { req: Payload<'chat.prepare'>; res: Reply<'chat.prepare'> };
  'chat.preview': { req: Payload<'chat.preview'>; res: Reply<'chat.preview'> };
  /** Stops an answer, cancels a queued or gathered one, or cancels the Message Batch a batched one is in. */
  'chat.stop': { req: Payload<'chat.stop'>; res: Reply<'chat.stop'> };
  'chat.retry': { req: Payload<'chat.retry'>; res: Reply<'chat.retry'> };
  'conversation.rename': { req: Payload<'conversation.rename'>; res: Reply<'conversation.rename'> };
  /** Deletes the conversation with its messages, jobs and cached answers; the usage ledger keeps its counts (no text). */
  'conversation.delete': { req: Payload<'conversation.delete'>; res: Reply<'conversation.delete'> };
  'conversation.deleteAll': { req: Payload<'conversation.deleteAll'>; res: Reply<'conversation.deleteAll'> };
  /** The model the conversation's next messages go with (the options' model until one is chosen). */
  'conversation.chooseModel': { req: Payload<'conversation.chooseModel'>; res: Reply<'conversation.chooseModel'> };
  'conversation.setOptions': { req: Payload<'conversation.setOptions'>; res: Reply<'conversation.setOptions'> };
  /** How long chats are kept, and the pages' theme; old chats go at once when the retention is shortened. */
  'chatPrefs.save': { req: Payload<'chatPrefs.save'>; res: Reply<'chatPrefs.save'> };
  'key.status': { req: Payload<'key.status'>; res: Reply<'key.status'> };
  'key.test': { req: Payload<'key.test'>; res: Reply<'key.test'> };
  'key.save': { req: Payload<'key.save'>; res: Reply<'key.save'> };
  'key.unlock': { req: Payload<'key.unlock'>; res: Reply<'key.unlock'> };
  'key.remove': { req: Payload<'key.remove'>; res: Reply<'key.remove'> };
  'queue.clear': { req: Payload<'queue.clear'>; res: Reply<'queue.clear'> };
  /**
   * Lets one request through Anthropic's pause (a 429's retry-after or the spend cap) to ask again;
   * the rest wait for its answer. `allowed` is false when there is no pause or one is already out.
   */
  'queue.tryNow': { req: Payload<'queue.tryNow'>; res: Reply<'queue.tryNow'> };
  'cache.clear': { req: Payload<'cache.clear'>; res: Reply<'cache.clear'> };
  'limits.save': { req: Payload<'limits.save'>; res: Reply<'limits.save'> };
  /** Makes the limits Anthropic's headers reported for this key (requests, input and output tokens a minute) Pace's own. */
  'limits.useLearned': { req: Payload<'limits.useLearned'>; res: Reply<'limits.useLearned'> };
  /**
   * The one way settings are written: checked in the background and saved. `confirmOrigin` is the
   * user's yes to sending the key to the new base URL's origin, recorded with the save.
   */
  'settings.save': { req: Payload<'settings.save'>; res: Reply<'settings.save'> };
  'usagePrefs.save': { req: Payload<'usagePrefs.save'>; res: Reply<'usagePrefs.save'> };
  /** "Later, half price": the composer's default, the gathering window and the polls. */
  'batchPrefs.save': { req: Payload<'batchPrefs.save'>; res: Reply<'batchPrefs.save'> };
  /** Records the user's yes to sending the key to `origin` (a gateway's). */
  'key.confirmOrigin': { req: Payload<'key.confirmOrigin'>; res: Reply<'key.confirmOrigin'> };
  /**
   * The saved team gateway's budget for the key (its `/key/info`), asked again when older than a
   * minute; null when the base URL is Anthropic's or the gateway has none. The popup then reads it live.
   */
  'gateway.budget': { req: Payload<'gateway.budget'>; res: Reply<'gateway.budget'> };
  /** The spend budget, checked and saved; waiting messages see it at once. */
  'budget.save': { req: Payload<'budget.save'>; res: Reply<'budget.save'> };
  /** The context menu's prompt templates, checked (lib/reach/templates.ts) and saved; the menu is rebuilt. */
  'templates.save': { req: Payload<'templates.save'>; res: Reply<'templates.save'> };
  /**
   * Reads the active tab's main text (on the user's click: activeTab) and measures it against the
   * limits; the page then attaches it to the next message.
   */
  'page.read': { req: Payload<'page.read'>; res: Reply<'page.read'> };
  /** This device, the other devices heard of through browser sync, the last sync error, and the settings switch. */
  'sync.devices': { req: Payload<'sync.devices'>; res: Reply<'sync.devices'> };
  /** This device's name in the other devices' lists. */
  'sync.rename': { req: Payload<'sync.rename'>; res: Reply<'sync.rename'> };
  /** Hides another device; its month still counts until the month turns (forgetting never frees budget). */
  'sync.forget': { req: Payload<'sync.forget'>; res: Reply<'sync.forget'> };
  /** The switch "Keep settings on this device only" (enabled false). */
  'sync.settings': { req: Payload<'sync.settings'>; res: Reply<'sync.settings'> };
  /** The settings file's text: no key, no base URL, no header values. */
  'settings.export': { req: Payload<'settings.export'>; res: Reply<'settings.export'> };
  /** Applies a settings file checked field by field; a bad field changes nothing and is named. */
  'settings.import': { req: Payload<'settings.import'>; res: Reply<'settings.import'> };
}

export type RequestType = keyof Requests;
export type RequestOf<K extends RequestType> = Requests[K]['req'];
export type ReplyOf<K extends RequestType> = Requests[K]['res'];

export type AnyRequest = { [K in RequestType]: { type: K; payload: RequestOf<K> } }[RequestType];

/** Background -> page pushes. */
export type PaceEvent = z.infer<typeof paceEvent>;

export type AnswerProgress = Extract<PaceEvent, { type: 'answer.progress' }>;

/** What travels on the port. */
export type PageToBackground = { kind: 'request'; id: number; type: RequestType; payload: unknown };
export type BackgroundToPage =
  { kind: 'reply'; id: number; result: Result<unknown> } | { kind: 'event'; event: PaceEvent };

export type Handlers = { [K in RequestType]: (payload: RequestOf<K>) => Promise<ReplyOf<K>> };

/** Thrown by handlers for an expected, user-facing refusal; the port server turns it into a reply. */
export class PaceFailure extends Error {
  constructor(readonly error: PaceError) {
    super(error.message);
    this.name = 'PaceFailure';
  }
}

// Every request type has a schema, and every schema a request type.
const schemas: { [K in RequestType]: z.Schema<RequestOf<K>> } = payloads;

export const REQUEST_TYPES = Object.keys(schemas) as RequestType[];

/** Checks a raw port message; never throws. */
export function parseRequest(
  raw: unknown,
): { ok: true; id: number; request: AnyRequest } | { ok: false; id: number | null; error: PaceError } {
  if (!isObject(raw) || raw.kind !== 'request') {
    return { ok: false, id: null, error: { code: 'bad_message', message: 'Not a Pace request.' } };
  }
  const id = typeof raw.id === 'number' && Number.isSafeInteger(raw.id) ? raw.id : null;
  if (id === null) {
    return { ok: false, id: null, error: { code: 'bad_message', message: 'A request needs a numeric id.' } };
  }
  const type = raw.type;
  if (typeof type !== 'string' || !Object.hasOwn(schemas, type)) {
    return {
      ok: false,
      id,
      error: { code: 'unknown_message', message: `Unknown request type ${JSON.stringify(String(type)).slice(0, 80)}.` },
    };
  }
  const payload = raw.payload === undefined ? {} : raw.payload;
  if (!isObject(payload)) {
    return { ok: false, id, error: { code: 'bad_message', message: `${type}: the payload must be an object.` } };
  }
  const parsed = schemas[type as RequestType].safeParse(payload);
  if (!parsed.success) {
    // The first problem, in the schema's field order: the message names the field.
    return {
      ok: false,
      id,
      error: {
        code: 'bad_message',
        message: `${type}: ${parsed.error.issues[0]?.message ?? 'the payload is not valid'}.`,
      },
    };
  }
  return { ok: true, id, request: { type, payload: parsed.data } as AnyRequest };
}
