/**
 * The records other modules own, as the tables hold them: a meta row's value (the limits, the spend
 * budget, the token log, the templates, a gateway's budget) and an error kept on a message. Declared
 * here, below every domain module, so that lib/storage imports none of them: each module that owns
 * a record imports its shape from here and keeps the logic (defaults, checks, decisions) itself.
 */

/** The request and token limits (lib/limits/plans.ts presets and checks them). */
export type PlanId = 'free' | 'paid' | 'start' | 'build' | 'scale' | 'custom';
export const MONTH_STARTS = ['utc', 'local'] as const;
export type MonthStart = (typeof MONTH_STARTS)[number];

export interface Limits {
  plan: PlanId;
  perMinute: number;
  perMonth: number;
  /** Spread sends evenly (one every 60/N s) instead of allowing a burst of N. */
  smooth: boolean;
  /** When the month turns: 00:00 UTC on the 1st (Anthropic's reset) or local midnight. */
  monthStart: MonthStart;
  /** Input tokens (plain input and prompt-cache writes, never cache reads) in any rolling minute; null or absent: no limit. */
  inputPerMinute?: number | null;
  /** Output tokens in any rolling minute, counted as the answers produce them; null or absent: no limit. */
  outputPerMinute?: number | null;
}

/** The spend budget in US dollars (lib/limits/budget.ts decides with it). */
export const WHEN_REACHED = ['pause', 'warn'] as const;
export type WhenReached = (typeof WHEN_REACHED)[number];
/** What the toolbar badge counts down. */
export const BADGE_COUNTS = ['requests', 'dollars', 'percent'] as const;
export type BadgeCount = (typeof BADGE_COUNTS)[number];

export interface Budget {
  /** US dollars a month (the month of the request limits: UTC or local); null for none. */
  monthlyUsd: number | null;
  /** US dollars a local day; null for none. */
  dailyUsd: number | null;
  /** 'pause': nothing more is sent until the period turns; 'warn': send, and say the budget is passed. */
  whenReached: WhenReached;
  /** US dollars per million tokens for a model with no known price; null refuses such a model. */
  unknownPriceUsd: number | null;
  badge: BadgeCount;
}

/** One request's share of the budget held while it is on its way, by the ledger row of its send. */
export interface Reservation {
  usd: number;
  /** When it was admitted: it counts in that month and that day. */
  at: number;
  /** The "count unknown prices as" figure it was priced with, when its model (or its cache) has no price. */
  unknownPrice?: number;
}

/** The stored record: the open reservations, and the costs the ledger's totals cannot hold, per period key. */
export interface SpendState {
  reserved: Record<string, Reservation>;
  /**
   * By month key (`utc:2026-11`, `local:2026-11`) and day key (`2026-11-30`): the cost of answers
   * the ledger prices as unknown, at the figure, and the worst case of sends cut off by a stopped
   * worker (what they cost is never known).
   */
  extra: Record<string, number>;
}

// The token buckets' log (lib/limits/token-buckets.ts does the arithmetic).
/** Tokens spent at `at`, when the request was admitted: its input or its answer's output room (`job` names it, so the real count can replace either). */
export interface TokenSpend {
  at: number;
  tokens: number;
  job?: string;
}

/** The spends that may still be inside the rolling minute. */
export interface TokenLog {
  input: TokenSpend[];
  output: TokenSpend[];
}

/** The context menu's prompt templates (lib/reach/templates.ts checks them). */
export interface PromptTemplate {
  id: string;
  /** The menu item's label. */
  title: string;
  /** The instruction sent before the quoted selection. */
  prompt: string;
}

/** A team gateway's budget for the key (lib/usage/gateway-budget.ts reads and keeps it). */
export interface GatewayBudget {
  /** USD the key has spent at the gateway in the current budget period. */
  spend: number;
  /** USD the key may spend in the period; null when the gateway sets no budget. */
  maxBudget: number | null;
  /** When the period turns and the spend goes back to 0; null when it never does (or is not said). */
  resetAt: number | null;
}

/** What was last learned from the gateway at `baseURL`; `budget` null: it has no `/key/info`, or answered junk. */
export interface GatewayBudgetRow {
  baseURL: string;
  checkedAt: number;
  budget: GatewayBudget | null;
}

/**
 * A refusal, as a reply carries it and a failed message keeps it. Its schema (lib/messaging/
 * replies.ts `paceError`) parses it on the pages; tests/unit/lib/protocol.test.ts holds the two equal.
 */
export const ERROR_CODES = [
  'bad_message',
  'no_key',
  'locked',
  'origin_unconfirmed',
  'invalid_input',
  'wrong_key',
  'browser_access_off',
  'permission_denied',
  'not_found',
  'bad_request',
  'too_large',
  'billing',
  'rate_limited',
  'spend_limit',
  'overloaded',
  'server_error',
  'timeout',
  'stalled',
  'offline',
  'unreachable',
  'redirected',
  'bad_answer',
  'interrupted',
  'unknown_message',
  'busy',
  'cancelled',
  'month_used_up',
  'budget',
  'queue_full',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What the user can do about an error; the page turns it into a button. */
export const ERROR_ACTIONS = ['open_options', 'retry', 'new_chat'] as const;
export type ErrorAction = (typeof ERROR_ACTIONS)[number];

export interface PaceError {
  code: ErrorCode;
  message: string;
  /** What the user can do about it; the page turns it into a button. */
  action?: ErrorAction;
  /** The field a validation error is about, so a form can show it in place. */
  field?: string;
  /** Every field's message, when a whole form was refused. */
  fields?: Partial<Record<string, string>>;
}

// What Claude can read besides text, and the server tools it may use (lib/attachments/, lib/claude/request.ts).
/** The image types the API takes. */
export const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
export type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];
export const PDF_MEDIA_TYPE = 'application/pdf';
export type AttachmentKind = 'image' | 'pdf';

/** An image or PDF sent with a user message, as the message keeps it; the bytes are in the `attachments` table. */
export interface AttachmentRef {
  id: string;
  kind: AttachmentKind;
  /** The file's name as the user gave it (or "Screenshot of <title>"). */
  name: string;
  mediaType: ImageMediaType | typeof PDF_MEDIA_TYPE;
  /** Size of the bytes sent (after downscaling). */
  bytes: number;
  /** Pixels as sent (images). */
  width?: number;
  height?: number;
  /** Pages (PDFs). */
  pages?: number;
  /** Input tokens it costs: width x height / 750 for an image, the API's count (or the estimate) for a PDF. */
  tokens: number;
  /** SHA-256 of the bytes, hex: the response cache keys on it, never on the bytes. */
  hash: string;
}

/** How hard the model thinks before answering, per conversation; 'off' sends no thinking. */
export const THINKING_EFFORTS = ['off', 'low', 'medium', 'high'] as const;
export type ThinkingEffort = (typeof THINKING_EFFORTS)[number];

/** A passage an answer cites: from an attached PDF (`document`) or a web page the search read (`web`). */
export interface Citation {
  kind: 'document' | 'web';
  citedText: string;
  /** The document's title or the page's title. */
  title?: string;
  /** The web page (kind `web`). */
  url?: string;
  /** First and last page cited (kind `document`, from a page location). */
  pages?: [number, number];
}

/** A page the web search returned, shown as a link under the answer. */
export interface WebSource {
  url: string;
  title: string;
  pageAge?: string;
}

/** One device's use in one month (lib/sync/device-entry.ts): requests sent, estimated dollars, tokens. */
export interface DeviceMonth {
  requests: number;
  usd: number;
  inputTokens: number;
  outputTokens: number;
}

/** Another device as this one last heard of it through browser sync. */
export interface DeviceReport {
  id: string;
  name: string;
  /** When it last wrote its entry. */
  updatedAt: number;
  /** By month key (`utc:2026-12`, `local:2026-12`). */
  months: Record<string, DeviceMonth>;
}

/**
 * What browser sync says of the other devices (lib/sync/devices-store.ts keeps it in meta 'devices'):
 * the sums that count against the month (other devices and forgotten ones), the devices to list,
 * and this device's last sync error.
 */
export interface OtherDevices {
  /** By month key: every other device's figures, forgotten ones included (forgetting frees nothing). */
  months: Record<string, DeviceMonth>;
  /** The devices still listed (forgotten ones are not). */
  devices: DeviceReport[];
  /** Writing this device's entry failed (a quota): shown until a write succeeds. */
  error: { message: string; at: number } | null;
}
