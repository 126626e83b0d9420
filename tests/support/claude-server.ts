/// <reference types="node" />
/**
 * A local Claude API for tests: `startClaudeServer(opts)` (or `useClaudeServer` in a test file)
 * answers POST /v1/messages (streamed or whole), /v1/messages/count_tokens, GET /v1/models and the
 * Message Batch endpoints as shared/claude-api.md describes them. Answers follow a script
 * (`script(...)`, else the default: an echo `You said: "<last user text>"`); every request is
 * recorded in `requests` (see RecordedRequest).
 *
 * What a request may hold besides text (claude-server-content.ts checks it; 400 invalid_request_error
 * with a specific message otherwise):
 * - user blocks `image` (base64 JPEG/PNG/GIF/WebP whose bytes match the media type; at most 8000 px a
 *   side, 2000 px once a request holds more than 20 images: error_code image_dimensions_too_large) and
 *   `document` (base64 PDF starting %PDF-; `title`, `citations: {enabled}`; at most 100 pages a
 *   request), `cache_control` on any block; assistant turns may send back `thinking`,
 *   `redacted_thinking`, `server_tool_use` and `web_search_tool_result` blocks. A body over 32 MB is
 *   answered 413 request_too_large.
 * - `thinking: {type:'adaptive'}` (+ `output_config: {effort}`) on claude-opus-4-6/4-7, claude-sonnet-4-6
 *   and the 5.x family; `{type:'enabled', budget_tokens}` (>= 1024, < max_tokens) on claude-sonnet-4-6,
 *   claude-haiku-4-5 and older, refused on claude-opus-4-7 and the 5.x family ("budget_tokens is not
 *   supported on this model; use thinking.type adaptive"); `{type:'disabled'}`.
 * - `tools: [{type:'web_search_20260209' | 'web_search_20250305', name:'web_search', max_uses}]`; the
 *   2026 version is refused on claude-sonnet-4-6, claude-haiku-4-5 and older. Other tools pass unread.
 *
 * Token counting (usage, count_tokens, the buckets and the prompt cache agree): text four characters
 * a token over the whole prompt; an image ceil(width x height / 750); a PDF 1,500 a page plus its
 * text at four characters a token; web search results read by the answer are added to its input
 * tokens (and taken from the input-token bucket); thinking tokens are output tokens (usage and the
 * output-token bucket), also reported in usage.output_tokens_details.thinking_tokens.
 *
 * What an answer holds (claude-server-answer.ts), for every `text` behaviour (and the text before a
 * stall, drop or mid-stream error): a `thinking` block first when thinking is on (thinking_delta
 * events, then a signature_delta; a `text` behaviour's `thinking` sets its text, `display:
 * 'omitted'` sends it empty); then, when the search tool is offered, one search (a `server_tool_use`
 * block streamed with input_json_delta, then a `web_search_tool_result` block of three example.com
 * results) or as many as the last user turn's `[searches:N]` marker says (at most max_uses;
 * `[no-search]` for none; `[search-error:CODE]` makes them fail, unbilled); then the text. When
 * there are citations (one per search, one page_location per PDF with citations on) the text is cut
 * in two blocks at a space near its middle: the first starts with `citations: []` and gets
 * `citations_delta` events, the second has none; joined they give the text. usage.server_tool_use
 * `{web_search_requests, web_fetch_requests: 0}` is sent whenever the tool is offered (0 in
 * message_start, the count in the final message_delta, which then also repeats the input figures).
 * Batch results hold the same content and usage.
 *
 * Inspecting what arrived: `server.lastParsed()` (the last valid POST /v1/messages), or a record's
 * `parsed` (also for count_tokens), `answer` (its output, thinking and search figures), `batch`
 * (each batch request read or refused) and `error` (the type and message of an error answer).
 * claude-server-fixtures.ts builds real PNGs and PDFs of any size.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  contentOf,
  outputTokensOf,
  planAnswer,
  textTokens,
  usageExtras,
  type AnswerPlan,
  type AnswerRequest,
} from './claude-server-answer';
import {
  ApiFailure,
  blockChars,
  blockKey,
  blockTokens,
  checkCacheControl,
  checkContent,
  checkMedia,
  checkOutputConfig,
  checkThinking,
  checkTools,
  invalid,
  isRecord,
  MAX_REQUEST_BYTES,
  parsedBlock,
  tokensFor,
  type BlockParam,
  type CacheControl,
  type Effort,
  type ParsedBlock,
  type TextBlockParam,
  type ThinkingParam,
  type WebSearchToolParam,
} from './claude-server-content';

export type Behaviour =
  | {
      kind: 'text';
      text: string;
      /** chars per content_block_delta, default 8 */
      chunkSize?: number;
      /**
       * The exact text_delta strings to send, instead of cutting `text` into chunkSize pieces. They
       * may split a surrogate pair or hold a lone surrogate: JSON.stringify sends those as \udXXX escapes.
       */
      chunks?: string[];
      /** between deltas, default 15 */
      delayMs?: number;
      /** a ping event every N deltas (plus one before the first), default 5; 0 = no pings */
      pingEvery?: number;
      stopReason?: string;
      headers?: Record<string, string>;
      /** when the request turns thinking on: the thinking text (default: a sentence on the question, longer at higher effort) */
      thinking?: string;
    }
  | {
      kind: 'error';
      status: number;
      type: string;
      message?: string;
      errorCode?: string;
      retryAfter?: number;
      headers?: Record<string, string>;
      /** Answer only after this many ms, as a server that took its time to refuse. */
      delayMs?: number;
    }
  | { kind: 'midStreamError'; textBefore?: string; /** default overloaded_error */ type?: string }
  /** 200, message_start, the text deltas, then nothing more until the client goes away */
  | { kind: 'stall'; textBefore?: string }
  /** 200, some events, then destroys the socket */
  | { kind: 'drop'; textBefore?: string }
  /** 200, then exactly these events (each sent under its own `type`), as a broken or hostile endpoint might */
  | { kind: 'events'; events: ({ type: string } & Record<string, unknown>)[] };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  /** Date.now() on arrival */
  at: number;
  /** The status it was answered with (set once the answer has started). */
  status?: number;
  /** The retry-after it was answered with, in seconds, if any. */
  retryAfter?: number;
  /**
   * Date.now() when a POST /v1/messages answer's status line and headers (rate-limit figures
   * included, on a 200 and on a rate-limit 429 alike) were sent; unset for other answers.
   */
  answeredAt?: number;
  /**
   * The token counts its answer reported (POST /v1/messages answered 200); input_tokens includes
   * the web search results the answer read.
   */
  usage?: ReportedUsage;
  /** POST /v1/messages and /v1/messages/count_tokens that passed validation: what the server read. */
  parsed?: ParsedRequest;
  /** POST /v1/messages answered 200 (not a scripted `events` answer): what its answer held. */
  answer?: AnswerFigures;
  /** POST /v1/messages/batches that created a batch: each request as read, or why it is errored. */
  batch?: { custom_id: string; parsed?: ParsedRequest; error?: { type: string; message: string } }[];
  /** An error answer's type and message (a refusal by validation, a limit, or a scripted error). */
  error?: { type: string; message: string };
}

/** What a recorded Messages request held, as the server read it (base64 data reduced to its figures). */
export interface ParsedRequest {
  model: string;
  /** unset for count_tokens */
  maxTokens?: number;
  stream: boolean;
  system?: ParsedBlock[];
  /** a string content shows as one text block */
  messages: { role: 'user' | 'assistant'; blocks: ParsedBlock[] }[];
  thinking?: ThinkingParam;
  outputConfig?: { effort?: Effort };
  webSearch?: WebSearchToolParam;
  /** the names of all tools offered */
  tools: string[];
  /** the prompt's input tokens, as count_tokens answers them */
  inputTokens: number;
}

/** What an answer held besides its text, and its output tokens (thinking included). */
interface AnswerFigures {
  outputTokens: number;
  thinkingTokens: number;
  webSearchRequests: number;
  /** input tokens the search results added */
  searchTokens: number;
  /** the citations its text carried */
  citations: number;
}

/** What a Messages answer's `usage` says about the input, prompt cache included. */
interface ReportedUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

interface MessageParam {
  role: 'user' | 'assistant';
  content: string | BlockParam[];
}

interface CountTokensBody {
  [field: string]: unknown;
  model: string;
  messages: MessageParam[];
  system?: string | TextBlockParam[];
  /** what the server read of the fields beyond the text (not a field of the API) */
  read: {
    thinking?: ThinkingParam;
    outputConfig?: { effort?: Effort };
    webSearch?: WebSearchToolParam;
    tools: string[];
  };
}

export interface MessagesBody extends CountTokensBody {
  max_tokens: number;
  stream?: boolean;
}

function parsedRequest(body: CountTokensBody): ParsedRequest {
  const blocks = (content: string | BlockParam[]): ParsedBlock[] =>
    typeof content === 'string' ? [{ type: 'text', text: content }] : content.map(parsedBlock);
  return {
    model: body.model,
    ...(typeof body.max_tokens === 'number' ? { maxTokens: body.max_tokens } : {}),
    stream: body.stream === true,
    ...(body.system === undefined ? {} : { system: blocks(body.system) }),
    messages: body.messages.map((m) => ({ role: m.role, blocks: blocks(m.content) })),
    ...(body.read.thinking ? { thinking: body.read.thinking } : {}),
    ...(body.read.outputConfig ? { outputConfig: body.read.outputConfig } : {}),
    ...(body.read.webSearch ? { webSearch: body.read.webSearch } : {}),
    tools: body.read.tools,
    inputTokens: inputTokens(body),
  };
}

const answerRequest = (body: CountTokensBody): AnswerRequest => ({
  messages: body.messages,
  ...(body.read.thinking ? { thinking: body.read.thinking } : {}),
  ...(body.read.outputConfig ? { outputConfig: body.read.outputConfig } : {}),
  ...(body.read.webSearch ? { webSearch: body.read.webSearch } : {}),
});

function answerFigures(plan: AnswerPlan, text: string): AnswerFigures {
  return {
    outputTokens: outputTokensOf(plan, text),
    thinkingTokens: plan.thinking?.tokens ?? 0,
    webSearchRequests: plan.webSearchRequests,
    searchTokens: plan.searchTokens,
    citations: plan.texts.reduce((n, t) => n + (t.citations?.length ?? 0), 0),
  };
}

type DefaultBehaviour = Behaviour | ((body: MessagesBody) => Behaviour);

interface ModelEntry {
  id: string;
  display_name: string;
}

export interface ClaudeServer {
  /** e.g. http://127.0.0.1:54321 (no trailing slash) */
  url: string;
  port: number;
  /** every request received, including OPTIONS preflights and GET /v1/models, in arrival order */
  requests: RecordedRequest[];
  /** only POST /v1/messages */
  messageRequests(): RecordedRequest[];
  /** what the last POST /v1/messages that passed validation held (undefined if none) */
  lastParsed(): ParsedRequest | undefined;
  /** queue; each POST /v1/messages that passes validation consumes one; when empty the default is used */
  script(...behaviours: Behaviour[]): void;
  setDefault(b: DefaultBehaviour): void;
  /** clear requests, script queue, restore default */
  reset(): void;
  /** also ends open/stalled connections so close never hangs */
  close(): Promise<void>;
}

export interface ClaudeServerOptions {
  /** 0 = free port, default 0 */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** accepted keys, default [TEST_KEY] */
  keys?: string[];
  models?: ModelEntry[];
  /** default true */
  requireBrowserHeader?: boolean;
  /** false: the organization has turned browser access off (403 for any browser request); default true */
  browserAccess?: boolean;
  /**
   * Anthropic's prompt cache: a prefix shorter than this many tokens is not cached (default 1024).
   * Time comes from `now` (default Date.now), so a test can pass a cache's lifetime.
   */
  promptCache?: { minTokens?: number; now?: () => number };
  /**
   * A gateway that refuses `cache_control`: 'top-level' refuses only automatic caching (the
   * top-level field), 'all' refuses it on blocks too. 400 invalid_request_error, as a strict
   * validator answers an unknown field.
   */
  refuseCacheControl?: 'top-level' | 'all';
  /**
   * Enforce a request limit as Anthropic does: a token bucket of `perMinute` that refills
   * continuously. An empty bucket answers 429 with retry-after; the rate-limit headers report it.
   */
  bucket?: { perMinute: number };
  /**
   * Enforce an input-token limit as Anthropic does: a bucket of `limit` tokens that refills
   * continuously, the whole of it in `refillMs` (a minute by default; less makes a test quicker).
   * A request reads its prompt's tokens (four characters a token) from it; one that does not fit is
   * answered 429 with retry-after. The `input-tokens` headers report it, `remaining` rounded to the
   * nearest thousand as Anthropic's are.
   */
  inputTokenBucket?: { limit: number; refillMs?: number };
  /**
   * Enforce an output-token limit as shared/claude-api.md says Anthropic does: a bucket of `limit`
   * tokens that refills continuously, the whole of it in `refillMs` (a minute by default). Output
   * tokens are counted as they are produced, not estimated from max_tokens: each answer takes its
   * tokens from the bucket as it streams them (a whole answer at once when not streamed), so the
   * bucket can go below zero. A request that arrives while the bucket holds less than one token
   * is answered 429 with a retry-after of the time until it holds one again. The `output-tokens`
   * headers report it on every Messages answer, `remaining` (never below 0) rounded to the nearest
   * thousand.
   */
  outputTokenBucket?: { limit: number; refillMs?: number };
  /**
   * false: the answers carry no `anthropic-ratelimit-requests-*` trio, only the token buckets' (a
   * stand-in or gateway that reports just what it enforces, as issue 21's did). Default true, as
   * Anthropic sends it on every answer.
   */
  requestLimitHeaders?: boolean;
  defaultBehaviour?: DefaultBehaviour;
  /**
   * A server that does not answer CORS preflights, on every route: each OPTIONS request is refused
   * (405) and no answer carries any CORS header. Only a caller the browser exempts from CORS (an
   * extension holding a host permission for this origin) can reach it.
   */
  noPreflight?: boolean;
  /** The Message Batch endpoints (see BatchOptions). */
  batches?: BatchOptions;
}

export const TEST_KEY = 'sk-ant-test-key';
const API_VERSIONS: readonly string[] = ['2023-06-01', '2026-10-21'];
const DEFAULT_MODELS: readonly ModelEntry[] = [
  { id: 'claude-opus-4-7', display_name: 'Claude Opus 4.7' },
  { id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6' },
  { id: 'claude-haiku-4-5', display_name: 'Claude Haiku 4.5' },
  // The current models (Pace's default is the current Sonnet).
  { id: 'claude-sonnet-5-5', display_name: 'Claude Sonnet 5.5' },
  { id: 'claude-opus-5-5', display_name: 'Claude Opus 5.5' },
  { id: 'claude-haiku-5-5', display_name: 'Claude Haiku 5.5' },
];

const BROWSER_HEADER = 'anthropic-dangerous-direct-browser-access';
const REQUESTS_PER_MINUTE = 50;
const RATE_LIMIT_KINDS = ['requests', 'tokens', 'input-tokens', 'output-tokens'];
// `*` alone does not cover authorization or name-prefixed headers for CORS, hence the explicit lists.
const EXPOSED_HEADERS = [
  '*',
  'request-id',
  'retry-after',
  ...RATE_LIMIT_KINDS.flatMap((k) => [
    `anthropic-ratelimit-${k}-limit`,
    `anthropic-ratelimit-${k}-remaining`,
    `anthropic-ratelimit-${k}-reset`,
  ]),
].join(', ');
const ALLOWED_HEADERS =
  '*, authorization, x-api-key, anthropic-version, anthropic-dangerous-direct-browser-access, content-type, anthropic-beta';

const DEFAULT_ERROR_MESSAGES: Record<string, string> = {
  invalid_request_error: 'Invalid request',
  authentication_error: 'invalid x-api-key',
  billing_error: 'Your credit balance is too low to access the Anthropic API.',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'Not found',
  request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error: 'Number of requests has exceeded your rate limit.',
  timeout_error: 'Request timed out',
  api_error: 'Internal server error',
  overloaded_error: 'Overloaded',
};

const STATUS_FOR_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  timeout_error: 504,
  api_error: 500,
  overloaded_error: 529,
};

function newId(prefix: string): string {
  return prefix + randomBytes(12).toString('hex');
}

function rfc3339(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseLoose(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function blocksText(blocks: string | BlockParam[]): string {
  return typeof blocks === 'string' ? blocks : blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n');
}

interface Segment {
  role: string;
  /** text characters (counted together, four a token) */
  chars: number;
  /** tokens besides its text (an image, a PDF, search results sent back) */
  tokens: number;
  /** what makes it this block, for the prefix hash */
  key: string;
  cacheControl?: CacheControl;
}

/** The request's content blocks in order (system first), each with the cache_control it carries. */
function segments(body: CountTokensBody): Segment[] {
  const out: Segment[] = [];
  const add = (role: string, content: string | BlockParam[]) => {
    if (typeof content === 'string') out.push({ role, chars: content.length, tokens: 0, key: content });
    else
      for (const b of content)
        out.push({
          role,
          chars: blockChars(b),
          tokens: blockTokens(b),
          key: blockKey(b),
          ...(b.cache_control ? { cacheControl: b.cache_control } : {}),
        });
  };
  if (body.system !== undefined) add('system', body.system);
  for (const m of body.messages) add(m.role, m.content);
  return out;
}

/** The prompt's input tokens: its text at four characters a token, plus its images' and PDFs' tokens. */
function inputTokens(body: CountTokensBody): number {
  let chars = 0;
  let tokens = 0;
  for (const seg of segments(body)) {
    chars += seg.chars;
    tokens += seg.tokens;
  }
  return tokensFor(chars) + tokens;
}

const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const;

/**
 * Anthropic's prompt cache as seen on the wire: a breakpoint (a block's `cache_control`, or the
 * top-level field, which puts one on the last block) caches the prefix up to it, when that prefix
 * is at least `minTokens` long. A later request, with the same key and model, whose blocks start
 * with a cached prefix still alive reads it (and keeps it alive for another lifetime); what lies
 * between that prefix and the last breakpoint is written. Nothing is cached or read without a
 * breakpoint, or below the minimum.
 */
function createPromptCache(minTokens: number, now: () => number) {
  const entries = new Map<string, { expiresAt: number; ttl: keyof typeof TTL_MS }>();
  return {
    clear: () => entries.clear(),
    use(body: CountTokensBody, key: string): ReportedUsage {
      const segs = segments(body);
      const tokensAt: number[] = [];
      const ids: string[] = [];
      let chars = 0;
      let tokens = 0;
      const hash = createHash('sha256').update(JSON.stringify([key, body.model]));
      for (const seg of segs) {
        chars += seg.chars;
        tokens += seg.tokens;
        tokensAt.push(tokensFor(chars) + tokens);
        hash.update(JSON.stringify([seg.role, seg.key]));
        ids.push(hash.copy().digest('hex'));
      }
      const total = tokensFor(chars) + tokens;
      const breakpoints = segs.flatMap((seg, i) =>
        seg.cacheControl ? [{ at: i, ttl: seg.cacheControl.ttl ?? '5m' }] : [],
      );
      const auto = body.cache_control as CacheControl | undefined;
      if (auto && segs.length > 0) breakpoints.push({ at: segs.length - 1, ttl: auto.ttl ?? '5m' });
      const usage: ReportedUsage = {
        input_tokens: total,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      };
      if (breakpoints.length === 0) return usage;
      const t = now();
      const last = Math.max(...breakpoints.map((b) => b.at));
      let read = -1;
      for (let i = last; i >= 0; i--) {
        const hit = entries.get(ids[i]!);
        if (hit && hit.expiresAt > t) {
          hit.expiresAt = t + TTL_MS[hit.ttl];
          read = i;
          break;
        }
      }
      let covered = read >= 0 ? tokensAt[read]! : 0;
      usage.cache_read_input_tokens = covered;
      for (const b of breakpoints.sort((x, y) => x.at - y.at)) {
        if (b.at <= read || tokensAt[b.at]! < minTokens) continue;
        entries.set(ids[b.at]!, { expiresAt: t + TTL_MS[b.ttl], ttl: b.ttl });
        const written = tokensAt[b.at]! - covered;
        usage.cache_creation_input_tokens += written;
        usage.cache_creation[b.ttl === '1h' ? 'ephemeral_1h_input_tokens' : 'ephemeral_5m_input_tokens'] += written;
        covered = tokensAt[b.at]!;
      }
      usage.input_tokens = total - covered;
      return usage;
    },
  };
}

const MAX_CACHE_BREAKPOINTS = 4;

function checkCommon(raw: string, models: readonly ModelEntry[]): { body: CountTokensBody; knownModel: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw) as unknown;
  } catch {
    throw invalid('There was an error parsing the body of your request: body is not valid JSON');
  }
  if (!isRecord(parsed)) throw invalid('body: Input should be a JSON object');

  const { model, messages, system } = parsed;
  if (model === undefined) throw invalid('model: Field required');
  if (typeof model !== 'string' || model.trim() === '') throw invalid('model: Input should be a non-empty string');

  if (messages === undefined) throw invalid('messages: Field required');
  if (!Array.isArray(messages)) throw invalid('messages: Input should be a valid list');
  if (messages.length === 0) throw invalid('messages: at least one message is required');
  const checked = messages.map((m: unknown, i): MessageParam => {
    if (!isRecord(m)) throw invalid(`messages.${i}: Input should be an object`);
    if (m.role !== 'user' && m.role !== 'assistant') {
      throw invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    }
    if (m.content === undefined) throw invalid(`messages.${i}.content: Field required`);
    return { role: m.role, content: checkContent(m.content, `messages.${i}.content`, m.role) };
  });
  if (checked[0]?.role !== 'user') throw invalid('messages: first message must use the "user" role');
  for (let i = 1; i < checked.length; i++) {
    const role = checked[i]?.role;
    if (role === checked[i - 1]?.role) {
      throw invalid(
        `messages: roles must alternate between "user" and "assistant", but found multiple "${role}" roles in a row`,
      );
    }
  }

  checkMedia(checked);

  const knownModel = models.some((m) => m.id === model);
  const body: CountTokensBody = { ...parsed, model, messages: checked, read: { tools: [] } };
  // Which thinking and tools a model takes is known only for a model that exists (else a 404 follows).
  if (knownModel) {
    const maxTokens = typeof parsed.max_tokens === 'number' ? parsed.max_tokens : undefined;
    const thinking = checkThinking(parsed.thinking, model, maxTokens);
    const outputConfig = checkOutputConfig(parsed.output_config);
    const { webSearch, names } = checkTools(parsed.tools, model);
    body.read = {
      ...(thinking ? { thinking } : {}),
      ...(outputConfig ? { outputConfig } : {}),
      ...(webSearch ? { webSearch } : {}),
      tools: names,
    };
  }
  // System blocks are text only (checkContent refuses any other type there).
  if (system !== undefined) body.system = checkContent(system, 'system', 'system') as string | TextBlockParam[];
  if (parsed.cache_control !== undefined && parsed.cache_control !== null)
    body.cache_control = checkCacheControl(parsed.cache_control, 'cache_control');
  const breakpoints = segments(body).filter((seg) => seg.cacheControl).length + (body.cache_control ? 1 : 0);
  if (breakpoints > MAX_CACHE_BREAKPOINTS) {
    throw invalid(
      `A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.`,
    );
  }
  return { body, knownModel };
}

function checkMessages(raw: string, models: readonly ModelEntry[]): MessagesBody {
  const { body, knownModel } = checkCommon(raw, models);
  const { max_tokens: maxTokens, stream } = body;
  if (maxTokens === undefined) throw invalid('max_tokens: Field required');
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens))
    throw invalid('max_tokens: Input should be a valid integer');
  if (maxTokens < 1) throw invalid('max_tokens: Input should be greater than or equal to 1');
  if (stream !== undefined && typeof stream !== 'boolean') throw invalid('stream: Input should be a valid boolean');
  if (!knownModel) throw new ApiFailure(404, 'not_found_error', `model: ${body.model}`);
  return { ...body, max_tokens: maxTokens, ...(stream === undefined ? {} : { stream }) };
}

function echoBehaviour(body: MessagesBody): Behaviour {
  const lastUser = [...body.messages].reverse().find((m) => m.role === 'user');
  const text = Array.from(lastUser === undefined ? '' : blocksText(lastUser.content))
    .slice(0, 200)
    .join('');
  // What else the turn held, so a page can show the attachments arrived: ` (+ 2 images, 1 PDF of 3 pages)`.
  const blocks = lastUser === undefined || typeof lastUser.content === 'string' ? [] : lastUser.content;
  const images = blocks.filter((b) => b.type === 'image').length;
  const pdfs = blocks.flatMap((b) => (b.type === 'document' ? [b.pageTexts.length] : []));
  const parts = [
    ...(images > 0 ? [`${images} image${images === 1 ? '' : 's'}`] : []),
    ...pdfs.map((pages) => `1 PDF of ${pages} page${pages === 1 ? '' : 's'}`),
  ];
  return { kind: 'text', text: `You said: "${text}"${parts.length > 0 ? ` (+ ${parts.join(', ')})` : ''}` };
}

function chunk(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

/**
 * A token bucket as Anthropic's: `limit` tokens, refilled continuously, the whole of it in `refillMs`
 * (a minute by default), advertised in the `anthropic-ratelimit-<kind>-*` trio with `remaining`
 * rounded to the nearest thousand (never below 0, though the level may go there).
 */
function refillingBucket(kind: string, { limit, refillMs = 60_000 }: { limit: number; refillMs?: number }) {
  let level = limit;
  let at = Date.now();
  const refill = () => {
    const now = Date.now();
    level = Math.min(limit, level + ((now - at) * limit) / refillMs);
    at = now;
  };
  return {
    /** 0 when `need` fits now; else the whole seconds until it does (a 429's retry-after). */
    secondsUntil(need: number): number {
      refill();
      return need > level ? Math.ceil(((need - level) * refillMs) / limit / 1000) : 0;
    },
    take(tokens: number): void {
      refill();
      level -= tokens;
    },
    headers(): Record<string, string> {
      refill();
      return {
        [`anthropic-ratelimit-${kind}-limit`]: String(limit),
        [`anthropic-ratelimit-${kind}-remaining`]: String(Math.round(Math.max(0, level) / 1000) * 1000),
        [`anthropic-ratelimit-${kind}-reset`]: rfc3339(Date.now() + Math.ceil(((limit - level) * refillMs) / limit)),
      };
    },
  };
}

export async function startClaudeServer(opts: ClaudeServerOptions = {}): Promise<ClaudeServer> {
  const host = opts.host ?? '127.0.0.1';
  const keys = new Set(opts.keys ?? [TEST_KEY]);
  const models = (opts.models ?? DEFAULT_MODELS).map((m, i) => ({
    type: 'model' as const,
    id: m.id,
    display_name: m.display_name,
    created_at: rfc3339(Date.UTC(2026, 0, 1) - i * 86_400_000),
  }));
  const requireBrowserHeader = opts.requireBrowserHeader ?? true;
  const initialDefault: DefaultBehaviour = opts.defaultBehaviour ?? echoBehaviour;

  const requests: RecordedRequest[] = [];
  let queue: Behaviour[] = [];
  let defaultBehaviour = initialDefault;
  let windowStart = Date.now();
  let used = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  const sockets = new Set<Socket>();
  const recordOf = new WeakMap<ServerResponse, RecordedRequest>();
  const promptCache = createPromptCache(opts.promptCache?.minTokens ?? 1024, opts.promptCache?.now ?? Date.now);
  // The server's own URL is known once it listens; results_url is built from it.
  let serverUrl = '';
  const batchEndpoints = createBatchEndpoints(models, () => serverUrl, opts.batches);

  const bucket = opts.bucket
    ? { capacity: opts.bucket.perMinute, tokens: opts.bucket.perMinute, at: Date.now() }
    : null;
  const refill = (): void => {
    if (!bucket) return;
    const now = Date.now();
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + ((now - bucket.at) * bucket.capacity) / 60_000);
    bucket.at = now;
  };

  const tokenBucket = opts.inputTokenBucket ? refillingBucket('input-tokens', opts.inputTokenBucket) : null;
  const outputBucket = opts.outputTokenBucket ? refillingBucket('output-tokens', opts.outputTokenBucket) : null;
  /** Takes output tokens from the bucket as an answer produces them. */
  const spendOutput = (tokens: number): void => {
    if (outputBucket && tokens > 0) outputBucket.take(tokens);
  };

  function rateLimitHeaders(): Record<string, string> {
    return {
      ...(opts.requestLimitHeaders === false ? {} : requestLimitHeaders()),
      ...tokenBucket?.headers(),
      ...outputBucket?.headers(),
    };
  }

  function requestLimitHeaders(): Record<string, string> {
    const now = Date.now();
    if (bucket) {
      refill();
      return {
        'anthropic-ratelimit-requests-limit': String(bucket.capacity),
        'anthropic-ratelimit-requests-remaining': String(Math.floor(bucket.tokens)),
        'anthropic-ratelimit-requests-reset': rfc3339(
          now + Math.ceil(((bucket.capacity - bucket.tokens) * 60_000) / bucket.capacity),
        ),
      };
    }
    if (now - windowStart >= 60_000) {
      windowStart = now;
      used = 0;
    }
    return {
      'anthropic-ratelimit-requests-limit': String(REQUESTS_PER_MINUTE),
      'anthropic-ratelimit-requests-remaining': String(Math.max(0, REQUESTS_PER_MINUTE - used)),
      'anthropic-ratelimit-requests-reset': rfc3339(windowStart + 60_000),
    };
  }

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  function sendError(
    res: ServerResponse,
    requestId: string,
    status: number,
    type: string,
    message: string,
    /** an error_code, or the whole details object */
    details?: string | Record<string, unknown>,
    headers: Record<string, string> = {},
  ): void {
    const error = {
      type,
      message,
      ...(details === undefined ? {} : { details: typeof details === 'string' ? { error_code: details } : details }),
    };
    const record = recordOf.get(res);
    if (record) record.error = { type, message };
    sendJson(res, status, { type: 'error', error, request_id: requestId }, headers);
  }

  /** The key a request presented: the prompt cache is per organization, i.e. per key here. */
  function keyOf(headers: IncomingHttpHeaders): string {
    return (
      header(headers, 'x-api-key') ?? /^Bearer\s+(.+)$/i.exec(header(headers, 'authorization') ?? '')?.[1]?.trim() ?? ''
    );
  }

  function checkHeaders(headers: IncomingHttpHeaders): void {
    const apiKey = header(headers, 'x-api-key');
    const bearer = /^Bearer\s+(.+)$/i.exec(header(headers, 'authorization') ?? '')?.[1]?.trim();
    if (apiKey === undefined && bearer === undefined) {
      throw new ApiFailure(401, 'authentication_error', 'x-api-key header is required');
    }
    if (!(apiKey !== undefined && keys.has(apiKey)) && !(bearer !== undefined && keys.has(bearer))) {
      throw new ApiFailure(401, 'authentication_error', 'invalid x-api-key');
    }
    const version = header(headers, 'anthropic-version');
    if (version === undefined) throw invalid('anthropic-version: header is required');
    if (!API_VERSIONS.includes(version)) {
      throw invalid(`anthropic-version: "${version}" is not a valid version (use ${API_VERSIONS.join(' or ')})`);
    }
    if (requireBrowserHeader && header(headers, BROWSER_HEADER) !== 'true') {
      throw new ApiFailure(
        401,
        'authentication_error',
        `CORS requests must set '${BROWSER_HEADER}' header to 'true' to call the API from a browser`,
      );
    }
    if (opts.browserAccess === false && header(headers, BROWSER_HEADER) === 'true') {
      throw new ApiFailure(403, 'permission_error', 'Your organization has disabled direct browser access to the API.');
    }
  }

  async function respondWith(
    behaviour: Behaviour,
    body: MessagesBody,
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    record: RecordedRequest,
  ): Promise<void> {
    const limits = rateLimitHeaders();
    record.answeredAt = Date.now();

    if (behaviour.kind === 'error') {
      if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
      const headers: Record<string, string> = behaviour.status === 429 ? { ...limits } : {};
      if (behaviour.retryAfter !== undefined) headers['retry-after'] = String(behaviour.retryAfter);
      const message = behaviour.message ?? DEFAULT_ERROR_MESSAGES[behaviour.type] ?? 'Error';
      sendError(res, requestId, behaviour.status, behaviour.type, message, behaviour.errorCode, {
        ...headers,
        ...behaviour.headers,
      });
      return;
    }

    if (behaviour.kind === 'events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        ...limits,
      });
      for (const event of behaviour.events) res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      res.end();
      return;
    }
    // The prompt is read (and its prefix cached) once the request is accepted.
    const usage = promptCache.use(body, keyOf(req.headers));
    const text = behaviour.kind === 'text' ? behaviour.text : (behaviour.textBefore ?? 'This answer will not finish');
    // What the answer holds besides its text: thinking, web searches, citations.
    const plan = planAnswer(answerRequest(body), text, behaviour.kind === 'text' ? behaviour.thinking : undefined);
    // The search results are read as input: they count in the answer's input tokens and in the bucket.
    const finalUsage = { ...usage, input_tokens: usage.input_tokens + plan.searchTokens };
    record.usage = finalUsage;
    const readResults = (): void => {
      if (plan.searchTokens > 0) tokenBucket?.take(plan.searchTokens);
    };

    if (body.stream !== true) {
      if (behaviour.kind === 'text') {
        const output = outputTokensOf(plan, behaviour.text);
        readResults();
        spendOutput(output);
        record.answer = answerFigures(plan, behaviour.text);
        sendJson(
          res,
          200,
          {
            id: newId('msg_'),
            type: 'message',
            role: 'assistant',
            model: body.model,
            content: contentOf(plan),
            stop_reason: behaviour.stopReason ?? 'end_turn',
            stop_sequence: null,
            usage: { ...finalUsage, output_tokens: output, ...usageExtras(plan) },
          },
          { ...limits, ...behaviour.headers },
        );
      } else if (behaviour.kind === 'midStreamError') {
        // Without a stream the only way to fail is the status line.
        const type = behaviour.type ?? 'overloaded_error';
        sendError(res, requestId, STATUS_FOR_TYPE[type] ?? 500, type, DEFAULT_ERROR_MESSAGES[type] ?? 'Error');
      } else if (behaviour.kind === 'drop') {
        req.socket.destroy();
      } else {
        await new Promise<void>((resolve) => res.once('close', resolve));
      }
      return;
    }

    let gone = false;
    res.once('close', () => {
      gone = true;
    });
    const send = (event: string, data: unknown): Promise<void> =>
      new Promise((resolve) => {
        if (gone || closing) return resolve();
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`, () => resolve());
      });

    const chunkSize = behaviour.kind === 'text' ? Math.max(1, behaviour.chunkSize ?? 8) : 8;
    const delayMs = behaviour.kind === 'text' ? (behaviour.delayMs ?? 15) : 15;
    const pingEvery = behaviour.kind === 'text' ? (behaviour.pingEvery ?? 5) : 5;

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...limits,
      ...(behaviour.kind === 'text' ? behaviour.headers : {}),
    });
    res.flushHeaders();

    // Output tokens leave the bucket as they are produced: the one message_start reports, then the
    // running total after each delta, then whatever the final count adds.
    let spent = 0;
    const produced = (total: number): void => {
      spendOutput(total - spent);
      spent = Math.max(spent, total);
    };
    const messageId = newId('msg_');
    produced(1);
    await send('message_start', {
      type: 'message_start',
      message: {
        id: messageId,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          ...usage,
          output_tokens: 1,
          ...(plan.searchOffered ? { server_tool_use: { web_search_requests: 0, web_fetch_requests: 0 } } : {}),
        },
      },
    });

    // One ping after the first block starts, then one every pingEvery text deltas.
    let index = 0;
    let pinged = false;
    const startBlock = async (block: unknown): Promise<void> => {
      await send('content_block_start', { type: 'content_block_start', index, content_block: block });
      if (!pinged && pingEvery > 0) await send('ping', { type: 'ping' });
      pinged = true;
    };
    const delta = (delta: unknown): Promise<void> =>
      send('content_block_delta', { type: 'content_block_delta', index, delta });
    const stopBlock = async (): Promise<void> => {
      await send('content_block_stop', { type: 'content_block_stop', index });
      index++;
    };
    let deltas = 0;
    const pause = async (): Promise<void> => {
      if (deltas++ > 0 && delayMs > 0) await sleep(delayMs);
    };

    const thinkingTokens = plan.thinking?.tokens ?? 0;
    if (plan.thinking) {
      await startBlock({ type: 'thinking', thinking: '', signature: '' });
      let shown = 0;
      for (const piece of chunk(plan.thinking.shown, Math.max(chunkSize, 16))) {
        await pause();
        if (gone || closing) return;
        shown += piece.length;
        produced(Math.max(1, tokensFor(shown)));
        await delta({ type: 'thinking_delta', thinking: piece });
      }
      produced(thinkingTokens);
      await delta({ type: 'signature_delta', signature: plan.thinking.signature });
      await stopBlock();
    }
    for (const step of plan.searches) {
      await startBlock({
        type: 'server_tool_use',
        id: step.id,
        name: 'web_search',
        input: {},
        caller: { type: 'direct' },
      });
      const input = JSON.stringify({ query: step.query });
      const half = Math.floor(input.length / 2);
      for (const partial of [input.slice(0, half), input.slice(half)]) {
        await pause();
        if (gone || closing) return;
        await delta({ type: 'input_json_delta', partial_json: partial });
      }
      await stopBlock();
      await startBlock({
        type: 'web_search_tool_result',
        tool_use_id: step.id,
        content: step.content,
        caller: { type: 'direct' },
      });
      await stopBlock();
    }
    readResults();

    let sentChars = 0;
    let textDeltas = 0;
    for (const [p, part] of plan.texts.entries()) {
      await startBlock(part.citations ? { type: 'text', text: '', citations: [] } : { type: 'text', text: '' });
      for (const citation of part.citations ?? []) await delta({ type: 'citations_delta', citation });
      const pieces =
        behaviour.kind === 'text' && behaviour.chunks && plan.texts.length === 1
          ? behaviour.chunks
          : chunk(part.text, chunkSize);
      for (const piece of pieces) {
        await pause();
        if (gone || closing) return;
        sentChars += piece.length;
        produced(thinkingTokens + Math.max(1, tokensFor(sentChars)));
        await delta({ type: 'text_delta', text: piece });
        textDeltas++;
        if (pingEvery > 0 && textDeltas % pingEvery === 0) await send('ping', { type: 'ping' });
      }
      if (p < plan.texts.length - 1) await stopBlock();
    }

    switch (behaviour.kind) {
      case 'text': {
        const output = outputTokensOf(plan, text);
        produced(output);
        record.answer = answerFigures(plan, text);
        await stopBlock();
        await send('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: behaviour.stopReason ?? 'end_turn', stop_sequence: null },
          usage: {
            output_tokens: output,
            ...(plan.searchOffered
              ? {
                  input_tokens: finalUsage.input_tokens,
                  cache_creation_input_tokens: finalUsage.cache_creation_input_tokens,
                  cache_read_input_tokens: finalUsage.cache_read_input_tokens,
                }
              : {}),
            ...usageExtras(plan),
          },
        });
        await send('message_stop', { type: 'message_stop' });
        res.end();
        return;
      }
      case 'midStreamError': {
        const type = behaviour.type ?? 'overloaded_error';
        await send('error', { type: 'error', error: { type, message: DEFAULT_ERROR_MESSAGES[type] ?? 'Error' } });
        res.end();
        return;
      }
      case 'stall':
        if (!gone && !closing) await new Promise<void>((resolve) => res.once('close', resolve));
        return;
      case 'drop':
        // Give the written events a moment to reach the client before the connection dies.
        await sleep(20);
        req.socket.destroy();
        return;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      headers: flattenHeaders(req.headers),
      body: undefined,
      at: Date.now(),
    };
    requests.push(record);
    recordOf.set(res, record);
    // The status the request was answered with, once the answer has started.
    res.once('close', () => {
      if (!res.headersSent) return;
      record.status = res.statusCode;
      const retryAfter = res.getHeader('retry-after');
      if (retryAfter !== undefined) record.retryAfter = Number(retryAfter);
    });

    const requestId = newId('req_');
    res.setHeader('request-id', requestId);
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    res.on('error', () => undefined);
    if (opts.noPreflight) {
      res.removeHeader('access-control-allow-origin');
      res.removeHeader('access-control-expose-headers');
    }

    const raw = await readBody(req);
    record.body = parseLoose(raw);

    if (method === 'OPTIONS' && opts.noPreflight) {
      res.writeHead(405, { allow: 'GET, POST' });
      res.end();
      return;
    }

    if (method === 'OPTIONS') {
      const headers: Record<string, string> = {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': header(req.headers, 'access-control-request-headers') ?? ALLOWED_HEADERS,
        'access-control-max-age': '600',
      };
      // Chrome's Private Network Access asks before letting a public page reach 127.0.0.1.
      if (header(req.headers, 'access-control-request-private-network') === 'true') {
        headers['access-control-allow-private-network'] = 'true';
      }
      res.writeHead(204, headers);
      res.end();
      return;
    }

    if (batchEndpoints.handles(url.pathname)) {
      try {
        checkHeaders(req.headers);
        batchEndpoints.answer(method, url, raw, res, rateLimitHeaders(), record);
      } catch (e) {
        if (!(e instanceof ApiFailure)) throw e;
        sendError(res, requestId, e.status, e.type, e.message, e.details);
      }
      return;
    }

    const path = url.pathname;
    const modelPath = /^\/v1\/models\/([^/]+)$/.exec(path);
    const route =
      method === 'GET' && path === '/v1/models'
        ? 'models'
        : method === 'GET' && modelPath !== null
          ? 'model'
          : method === 'POST' && path === '/v1/messages'
            ? 'messages'
            : method === 'POST' && path === '/v1/messages/count_tokens'
              ? 'count_tokens'
              : null;

    try {
      if (route === null) throw new ApiFailure(404, 'not_found_error', `Not found: ${method} ${path}`);
      checkHeaders(req.headers);
      if ((route === 'messages' || route === 'count_tokens') && Buffer.byteLength(raw) > MAX_REQUEST_BYTES)
        throw new ApiFailure(
          413,
          'request_too_large',
          `Request exceeds the maximum allowed number of bytes (${MAX_REQUEST_BYTES} bytes, 32 MB).`,
        );
      switch (route) {
        case 'models':
          sendJson(res, 200, {
            data: models,
            has_more: false,
            first_id: models[0]?.id ?? null,
            last_id: models.at(-1)?.id ?? null,
          });
          return;
        case 'model': {
          const id = decodeURIComponent(modelPath?.[1] ?? '');
          const found = models.find((m) => m.id === id);
          if (found === undefined) throw new ApiFailure(404, 'not_found_error', `model: ${id}`);
          sendJson(res, 200, found);
          return;
        }
        case 'count_tokens': {
          const { body, knownModel } = checkCommon(raw, models);
          if (!knownModel) throw new ApiFailure(404, 'not_found_error', `model: ${body.model}`);
          record.parsed = parsedRequest(body);
          sendJson(res, 200, { input_tokens: inputTokens(body) });
          return;
        }
        case 'messages': {
          const body = checkMessages(raw, models);
          record.parsed = parsedRequest(body);
          if (
            opts.refuseCacheControl &&
            (body.cache_control ||
              (opts.refuseCacheControl === 'all' && segments(body).some((seg) => seg.cacheControl)))
          ) {
            throw invalid(
              `${body.cache_control ? 'cache_control' : 'messages.content.cache_control'}: Extra inputs are not permitted`,
            );
          }
          if (bucket) {
            refill();
            if (bucket.tokens < 1) {
              const retryAfter = Math.ceil(((1 - bucket.tokens) * 60) / bucket.capacity);
              await respondWith(
                {
                  kind: 'error',
                  status: 429,
                  type: 'rate_limit_error',
                  message: 'Number of requests has exceeded your per-minute rate limit',
                  retryAfter,
                },
                body,
                req,
                res,
                requestId,
                record,
              );
              return;
            }
            bucket.tokens -= 1;
          }
          // Output tokens are counted as they are produced: a request goes while the bucket holds one.
          const outputWait = outputBucket?.secondsUntil(1);
          if (outputWait) {
            await respondWith(
              {
                kind: 'error',
                status: 429,
                type: 'rate_limit_error',
                message: 'This request would exceed your rate limit for output tokens per minute',
                retryAfter: outputWait,
              },
              body,
              req,
              res,
              requestId,
              record,
            );
            return;
          }
          if (tokenBucket) {
            const need = inputTokens(body);
            const inputWait = tokenBucket.secondsUntil(need);
            if (inputWait) {
              await respondWith(
                {
                  kind: 'error',
                  status: 429,
                  type: 'rate_limit_error',
                  message: 'This request would exceed your rate limit for input tokens per minute',
                  retryAfter: inputWait,
                },
                body,
                req,
                res,
                requestId,
                record,
              );
              return;
            }
            tokenBucket.take(need);
          }
          used++;
          const behaviour =
            queue.shift() ?? (typeof defaultBehaviour === 'function' ? defaultBehaviour(body) : defaultBehaviour);
          await respondWith(behaviour, body, req, res, requestId, record);
          return;
        }
      }
    } catch (e) {
      if (!(e instanceof ApiFailure)) throw e;
      sendError(res, requestId, e.status, e.type, e.message, e.details);
    }
  }

  const server = createServer({ noDelay: true }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const requestId = String(res.getHeader('request-id') ?? newId('req_'));
      sendError(res, requestId, 500, 'api_error', `test server failure: ${e instanceof Error ? e.message : String(e)}`);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error('claude test server: no TCP address');
  const { port } = address;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  serverUrl = url;

  return {
    url,
    port,
    requests,
    messageRequests: () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages'),
    lastParsed: () => requests.findLast((r) => r.method === 'POST' && r.path === '/v1/messages' && r.parsed)?.parsed,
    script: (...behaviours) => {
      queue.push(...behaviours);
    },
    setDefault: (b) => {
      defaultBehaviour = b;
    },
    reset: () => {
      requests.length = 0;
      queue = [];
      defaultBehaviour = initialDefault;
      windowStart = Date.now();
      used = 0;
      promptCache.clear();
      batchEndpoints.reset();
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

// ---- Message Batches -------------------------------------------------------------------------
// POST /v1/messages/batches, GET /v1/messages/batches[/{id}[/results]], POST .../{id}/cancel, as
// shared/claude-api.md ("Message Batches") describes them. A batch answers `in_progress` for a
// while (a number of retrieves, or a time), then has ended: every request has its outcome, and the
// results come as JSON Lines in the reverse of the order sent (the API promises no order).

/** What one request of a batch comes to once its batch has ended. */
type BatchOutcome =
  | { type: 'succeeded'; /** default: the echo answer */ text?: string }
  | { type: 'errored'; errorType?: string; message?: string }
  | { type: 'expired' };

interface BatchOptions {
  /** A batch answers `in_progress` to this many retrieves, then has ended (default 1 unless inProgressMs is set). */
  inProgressPolls?: number;
  /** A batch has ended once this many ms have passed since it was created (with inProgressPolls: whichever comes first). */
  inProgressMs?: number;
  /**
   * Each request's outcome. Default: its params are checked as a Messages body would be (a failure
   * is an `errored` result, as the API checks them only once the batch runs), else `succeeded`.
   */
  outcome?: (request: { custom_id: string; params: unknown }) => BatchOutcome;
}

const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_BATCH_REQUESTS = 100_000;
const BATCH_LIFETIME_MS = 24 * 60 * 60_000;

type BatchResult =
  | { type: 'succeeded'; message: unknown }
  | { type: 'errored'; error: { type: 'error'; error: { type: string; message: string }; request_id: string } }
  | { type: 'expired' }
  | { type: 'canceled' };

interface StoredBatch {
  id: string;
  createdAt: number;
  polls: number;
  cancelAt: number | null;
  /** The cancel's own answer said `canceling`; the next look finds the batch ended. */
  cancelAnswered: boolean;
  endedAt: number | null;
  requests: { custom_id: string; result: BatchResult }[];
}

function createBatchEndpoints(models: readonly ModelEntry[], baseUrl: () => string, opts: BatchOptions = {}) {
  const batches = new Map<string, StoredBatch>();

  /** One request's result, with what the server read of it (or why it refused it) for the record. */
  const outcomeOf = (request: {
    custom_id: string;
    params: unknown;
  }): { result: BatchResult; seen: NonNullable<RecordedRequest['batch']>[number] } => {
    let outcome: BatchOutcome;
    let body: MessagesBody | undefined;
    const seen: NonNullable<RecordedRequest['batch']>[number] = { custom_id: request.custom_id };
    try {
      const raw = JSON.stringify(request.params);
      if (Buffer.byteLength(raw) > MAX_REQUEST_BYTES)
        throw new ApiFailure(
          413,
          'request_too_large',
          `Request exceeds the maximum allowed number of bytes (${MAX_REQUEST_BYTES} bytes, 32 MB).`,
        );
      body = checkMessages(raw, models);
      seen.parsed = parsedRequest(body);
      if (body.stream === true) throw invalid('stream: batch requests cannot be streamed');
      outcome = opts.outcome?.(request) ?? { type: 'succeeded' };
    } catch (e) {
      if (!(e instanceof ApiFailure)) throw e;
      seen.error = { type: e.type, message: e.message };
      outcome = { type: 'errored', errorType: e.type, message: e.message };
    }
    if (outcome.type === 'expired') return { result: { type: 'expired' }, seen };
    if (outcome.type === 'errored') {
      const type = outcome.errorType ?? 'invalid_request_error';
      const error = { type, message: outcome.message ?? DEFAULT_ERROR_MESSAGES[type] ?? 'Error' };
      return { result: { type: 'errored', error: { type: 'error', error, request_id: newId('req_') } }, seen };
    }
    const echo = body ? echoBehaviour(body) : undefined;
    const text = outcome.text ?? (echo?.kind === 'text' ? echo.text : '');
    // The same answer as a Messages request gets: thinking, searches and citations included.
    const plan = body ? planAnswer(answerRequest(body), text) : undefined;
    const input = body ? inputTokens(body) : 0;
    const message = {
      id: newId('msg_'),
      type: 'message',
      role: 'assistant',
      model: body?.model,
      content: plan ? contentOf(plan) : [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: input + (plan?.searchTokens ?? 0),
        output_tokens: plan ? outputTokensOf(plan, text) : textTokens(text),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        ...(plan ? usageExtras(plan) : {}),
      },
    };
    return { result: { type: 'succeeded', message }, seen };
  };

  const hasEnded = (b: StoredBatch): boolean => {
    if (b.endedAt !== null) return true;
    const now = Date.now();
    const byPolls = opts.inProgressPolls ?? (opts.inProgressMs === undefined ? 1 : undefined);
    if (b.cancelAnswered) {
      // What had not run when the cancel arrived is canceled.
      for (const r of b.requests) r.result = { type: 'canceled' };
    } else if (!(
      (byPolls !== undefined && b.polls >= byPolls) ||
      (opts.inProgressMs !== undefined && now - b.createdAt >= opts.inProgressMs)
    )) {
      return false;
    }
    b.endedAt = now;
    return true;
  };

  const view = (b: StoredBatch) => {
    const ended = hasEnded(b);
    const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    for (const r of b.requests) counts[ended ? r.result.type : 'processing']++;
    return {
      id: b.id,
      type: 'message_batch',
      processing_status: ended ? 'ended' : b.cancelAt !== null ? 'canceling' : 'in_progress',
      request_counts: counts,
      ended_at: b.endedAt === null ? null : new Date(b.endedAt).toISOString(),
      created_at: new Date(b.createdAt).toISOString(),
      expires_at: new Date(b.createdAt + BATCH_LIFETIME_MS).toISOString(),
      cancel_initiated_at: b.cancelAt === null ? null : new Date(b.cancelAt).toISOString(),
      archived_at: null,
      results_url: ended ? `${baseUrl()}/v1/messages/batches/${b.id}/results` : null,
    };
  };

  const find = (id: string): StoredBatch => {
    const b = batches.get(id);
    if (!b) throw new ApiFailure(404, 'not_found_error', `message_batch_id: no batch ${id}`);
    return b;
  };

  const create = (raw: string, record: RecordedRequest): StoredBatch => {
    const parsed = parseLoose(raw);
    if (!isRecord(parsed)) throw invalid('Input should be a valid dictionary');
    const { requests } = parsed;
    if (requests === undefined) throw invalid('requests: Field required');
    if (!Array.isArray(requests)) throw invalid('requests: Input should be a valid list');
    if (requests.length === 0) throw invalid('requests: List should have at least 1 item after validation, not 0');
    if (requests.length > MAX_BATCH_REQUESTS)
      throw invalid(
        `requests: List should have at most ${MAX_BATCH_REQUESTS} items after validation, not ${requests.length}`,
      );
    const seen = new Set<string>();
    const checked = requests.map((r: unknown, i) => {
      if (!isRecord(r)) throw invalid(`requests.${i}: Input should be a valid dictionary`);
      if (typeof r.custom_id !== 'string') throw invalid(`requests.${i}.custom_id: Input should be a valid string`);
      if (!CUSTOM_ID.test(r.custom_id))
        throw invalid(`requests.${i}.custom_id: String should match pattern '${CUSTOM_ID.source}'`);
      if (seen.has(r.custom_id))
        throw invalid(
          `requests: custom_id values must be unique within a batch; '${r.custom_id}' appears more than once`,
        );
      seen.add(r.custom_id);
      if (!isRecord(r.params)) throw invalid(`requests.${i}.params: Input should be a valid dictionary`);
      return { custom_id: r.custom_id, params: r.params };
    });
    const batch: StoredBatch = {
      id: newId('msgbatch_'),
      createdAt: Date.now(),
      polls: 0,
      cancelAt: null,
      cancelAnswered: false,
      endedAt: null,
      requests: [],
    };
    for (const r of checked) {
      const { result, seen } = outcomeOf(r);
      batch.requests.push({ custom_id: r.custom_id, result });
      record.batch ??= [];
      record.batch.push(seen);
    }
    batches.set(batch.id, batch);
    return batch;
  };

  const list = (url: URL) => {
    const limitText = url.searchParams.get('limit') ?? '20';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw invalid(`limit: Input should be an integer from 1 to 1000, not ${limitText}`);
    // Newest first; after_id pages towards older batches, before_id towards newer ones.
    let all = [...batches.values()].reverse();
    const afterId = url.searchParams.get('after_id');
    const beforeId = url.searchParams.get('before_id');
    if (afterId !== null) all = all.slice(all.indexOf(find(afterId)) + 1);
    if (beforeId !== null) all = all.slice(0, all.indexOf(find(beforeId)));
    const page = (beforeId !== null ? all.slice(-limit) : all.slice(0, limit)).map(view);
    return {
      data: page,
      has_more: page.length < all.length,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
    };
  };

  const send = (
    res: ServerResponse,
    status: number,
    contentType: string,
    body: string,
    headers: Record<string, string>,
  ): void => {
    res.writeHead(status, { 'content-type': contentType, ...headers });
    res.end(body);
  };

  return {
    handles: (path: string): boolean => path === '/v1/messages/batches' || path.startsWith('/v1/messages/batches/'),
    /** Answers one batch request (its headers already checked); throws ApiFailure for the API's errors. */
    answer(
      method: string,
      url: URL,
      raw: string,
      res: ServerResponse,
      headers: Record<string, string>,
      record: RecordedRequest,
    ): void {
      const json = (status: number, body: unknown) =>
        send(res, status, 'application/json', JSON.stringify(body), headers);
      const m = /^\/v1\/messages\/batches(?:\/([^/]+)(?:\/(results|cancel))?)?$/.exec(url.pathname);
      const id = m?.[1] === undefined ? undefined : decodeURIComponent(m[1]);
      const action = m?.[2];
      if (m && id === undefined && method === 'POST') return json(200, view(create(raw, record)));
      if (m && id === undefined && method === 'GET') return json(200, list(url));
      if (m && id !== undefined && action === undefined && method === 'GET') {
        const batch = find(id);
        const answer = view(batch);
        batch.polls++;
        return json(200, answer);
      }
      if (m && id !== undefined && action === 'cancel' && method === 'POST') {
        const batch = find(id);
        if (!hasEnded(batch)) batch.cancelAt ??= Date.now();
        json(200, view(batch));
        batch.cancelAnswered = batch.cancelAt !== null;
        return;
      }
      if (m && id !== undefined && action === 'results' && method === 'GET') {
        const batch = find(id);
        if (!hasEnded(batch))
          throw invalid(
            `Batch ${id} is still ${view(batch).processing_status}: its results are available once it has ended`,
          );
        const lines = [...batch.requests]
          .reverse()
          .map((r) => JSON.stringify({ custom_id: r.custom_id, result: r.result }));
        return send(res, 200, 'application/binary', lines.map((l) => `${l}\n`).join(''), headers);
      }
      throw new ApiFailure(404, 'not_found_error', `Not found: ${method} ${url.pathname}`);
    },
    reset: (): void => batches.clear(),
  };
}
