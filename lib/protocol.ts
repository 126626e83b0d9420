/**
 * Every message between Pace's pages (popup, options) and its background, declared once.
 *
 * Pages talk over one `runtime.connect` port (see lib/messaging/): a request carries an id and
 * gets exactly one reply `{ ok: true, data } | { ok: false, error }`; the background also pushes
 * events (the answer being streamed) to every connected page. Anything arriving on the port is
 * parsed by `parseRequest` before a handler sees it.
 */
import type { ModelInfo } from './claude/models';
import type { Limits, LimitsErrors, LimitsInput } from './limits/plans';

export const PORT_NAME = 'pace';

export type ErrorCode =
  | 'bad_message'
  | 'no_key'
  | 'locked'
  | 'origin_unconfirmed'
  | 'invalid_input'
  | 'wrong_key'
  | 'browser_access_off'
  | 'permission_denied'
  | 'not_found'
  | 'bad_request'
  | 'too_large'
  | 'billing'
  | 'rate_limited'
  | 'spend_limit'
  | 'overloaded'
  | 'server_error'
  | 'timeout'
  | 'stalled'
  | 'offline'
  | 'unreachable'
  | 'redirected'
  | 'bad_answer'
  | 'interrupted'
  | 'unknown_message'
  | 'busy'
  | 'cancelled'
  | 'month_used_up'
  | 'queue_full'
  | 'internal';

/** What the user can do about an error; the page turns it into a button. */
export type ErrorAction = 'open_options' | 'retry' | 'new_chat';

export interface PaceError {
  code: ErrorCode;
  message: string;
  action?: ErrorAction;
  /** The field a validation error is about, so a form can show it in place. */
  field?: string;
  /** Every field's message, when a whole form was refused. */
  fields?: LimitsErrors;
}

export type Result<T> = { ok: true; data: T } | { ok: false; error: PaceError };

export interface KeyStatus {
  hasKey: boolean;
  /** Last four characters of the saved key, for a masked display. Never the key. */
  last4: string | null;
  /** True when no key is saved and this build talks to the local demo backend instead. */
  demo: boolean;
  /** Where the key is kept: in extension storage on this device, or only until the browser closes. */
  remember: KeepKey | null;
  /** The saved key is sealed with a passphrase. */
  sealed: boolean;
  /** A sealed key exists and has not been unlocked in this browser session: nothing can be sent. */
  locked: boolean;
}

export type KeepKey = 'device' | 'session';

export interface KeyTestResult {
  models: ModelInfo[];
}

export interface SendResult {
  conversationId: string;
  userMessageId: string;
  assistantMessageId: string;
}

/** Request name -> payload and reply data. */
export interface Requests {
  'chat.send': { req: { conversationId: string | null; text: string }; res: SendResult };
  'chat.stop': { req: { messageId: string }; res: { stopped: boolean } };
  'chat.retry': { req: { messageId: string }; res: { messageId: string } };
  'key.status': { req: Record<string, never>; res: KeyStatus };
  'key.test': { req: { key: string | null; baseURL: string }; res: KeyTestResult };
  'key.save': { req: { key: string; remember: KeepKey; passphrase: string | null }; res: KeyStatus };
  'key.unlock': { req: { passphrase: string }; res: KeyStatus };
  'key.remove': { req: Record<string, never>; res: KeyStatus };
  'queue.clear': { req: Record<string, never>; res: { cancelled: number } };
  /**
   * Lets one request through Anthropic's pause (a 429's retry-after or the spend cap) to ask again;
   * the rest wait for its answer. `allowed` is false when there is no pause or one is already out.
   */
  'queue.tryNow': { req: Record<string, never>; res: { allowed: boolean } };
  'cache.clear': { req: Record<string, never>; res: { cleared: number } };
  'limits.save': { req: LimitsInput; res: Limits };
}

export type RequestType = keyof Requests;
export type RequestOf<K extends RequestType> = Requests[K]['req'];
export type ReplyOf<K extends RequestType> = Requests[K]['res'];

export type AnyRequest = { [K in RequestType]: { type: K; payload: RequestOf<K> } }[RequestType];

/** Background -> page pushes. */
export type PaceEvent = { type: 'answer.progress'; messageId: string; text: string };

/** What travels on the port. */
export type PageToBackground = { kind: 'request'; id: number; type: RequestType; payload: unknown };
export type BackgroundToPage =
  | { kind: 'reply'; id: number; result: Result<unknown> }
  | { kind: 'event'; event: PaceEvent };

export type Handlers = { [K in RequestType]: (payload: RequestOf<K>) => Promise<ReplyOf<K>> };

/** Thrown by handlers for an expected, user-facing refusal; the port server turns it into a reply. */
export class PaceFailure extends Error {
  constructor(readonly error: PaceError) {
    super(error.message);
    this.name = 'PaceFailure';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 100;

type Parser<K extends RequestType> = (p: Record<string, unknown>) => RequestOf<K> | string;

const parsers: { [K in RequestType]: Parser<K> } = {
  'chat.send': (p) => {
    if (p.conversationId !== null && !isId(p.conversationId)) return 'conversationId must be an id or null';
    if (typeof p.text !== 'string') return 'text must be a string';
    return { conversationId: p.conversationId, text: p.text };
  },
  'chat.stop': (p) => (isId(p.messageId) ? { messageId: p.messageId } : 'messageId must be an id'),
  'chat.retry': (p) => (isId(p.messageId) ? { messageId: p.messageId } : 'messageId must be an id'),
  'key.status': () => ({}),
  'key.test': (p) => {
    if (p.key !== null && typeof p.key !== 'string') return 'key must be a string or null';
    if (typeof p.baseURL !== 'string') return 'baseURL must be a string';
    return { key: p.key, baseURL: p.baseURL };
  },
  'key.save': (p) => {
    if (typeof p.key !== 'string') return 'key must be a string';
    if (p.remember !== 'device' && p.remember !== 'session') return "remember must be 'device' or 'session'";
    if (p.passphrase !== null && typeof p.passphrase !== 'string') return 'passphrase must be a string or null';
    return { key: p.key, remember: p.remember, passphrase: p.passphrase };
  },
  'key.unlock': (p) => (typeof p.passphrase === 'string' ? { passphrase: p.passphrase } : 'passphrase must be a string'),
  'key.remove': () => ({}),
  'queue.clear': () => ({}),
  'queue.tryNow': () => ({}),
  'cache.clear': () => ({}),
  'limits.save': (p) => {
    if (typeof p.plan !== 'string') return 'plan must be a string';
    for (const f of ['perMinute', 'perMonth'] as const) {
      if (typeof p[f] !== 'string' && typeof p[f] !== 'number') return `${f} must be a string or a number`;
    }
    if (typeof p.smooth !== 'boolean') return 'smooth must be true or false';
    if (typeof p.monthStart !== 'string') return 'monthStart must be a string';
    return { plan: p.plan, perMinute: p.perMinute as string | number, perMonth: p.perMonth as string | number, smooth: p.smooth, monthStart: p.monthStart };
  },
};

export const REQUEST_TYPES = Object.keys(parsers) as RequestType[];

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
  if (typeof type !== 'string' || !Object.hasOwn(parsers, type)) {
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
  const parsed = (parsers[type as RequestType] as Parser<RequestType>)(payload);
  if (typeof parsed === 'string') {
    return { ok: false, id, error: { code: 'bad_message', message: `${type}: ${parsed}.` } };
  }
  return { ok: true, id, request: { type, payload: parsed } as AnyRequest };
}
