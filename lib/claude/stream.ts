/**
 * Assembles the Messages API's server-sent events into an answer, one event at a time.
 * Pure: `applyStreamEvent(state, event)` returns the next state, so a stream can be checkpointed,
 * replayed and tested without a network. Each event costs the same whatever came before (the text
 * only grows at its end, but for the blank line a cited block takes back, at most once per citation
 * kept), and the stream is not trusted: a block index out of range or out of
 * order throws a BadStreamError, usage figures that are not token counts are ignored, and text
 * past MAX_ANSWER_CHARS is dropped with `truncated` set, for the runner to end the answer.
 *
 * Besides the text it gathers the thinking (`thinking` blocks, shown folded), the web searches run
 * (`server_tool_use` queries, `usage.server_tool_use.web_search_requests`), the pages they found
 * (`web_search_tool_result`, as sources) and what the text cites (`citations`, `citations_delta`).
 * Text blocks are joined with a blank line, except where the answer cites or searched: there
 * neighbouring text blocks are pieces of one paragraph (a cited passage is a block of its own).
 */
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { isObject } from '../is-object';
import type { Citation, PaceError, WebSource } from '../storage/rows';

/**
 * The most text an answer may hold: 4 Mi characters. The longest real answer (128k output
 * tokens) is about 500 KB of text; this stops a broken or hostile endpoint from filling memory
 * and storage, far above anything Claude writes.
 */
export const MAX_ANSWER_CHARS = 4 * 1024 * 1024;

/** The highest content block index believed; a real answer has a few blocks, a long one with search results some hundreds. */
const MAX_BLOCK_INDEX = 9_999;

/** The largest token count believed for one figure: far above any context window. */
export const MAX_TOKEN_COUNT = 100_000_000;

/** The most web searches believed for one answer (a request allows at most 10): a larger count is unknown usage. */
export const MAX_WEB_SEARCHES = 1_000;

/** The most citations, sources and search queries kept for one answer, and the longest text of each one's fields. */
const MAX_CITATIONS = 500;
const MAX_SOURCES = 200;
const MAX_QUERIES = 50;
const MAX_FIELD_CHARS = 2_000;

/** The stop reason Pace records for an answer it stopped reading at MAX_ANSWER_CHARS. */
export const SIZE_CAP_STOP = 'pace_size_cap';

export interface AssembledAnswer {
  id: string | null;
  model: string | null;
  /** Text of every text block, in order, joined with a blank line. */
  text: string;
  stopReason: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  done: boolean;
  /** The text reached MAX_ANSWER_CHARS; what came after it was dropped. */
  truncated: boolean;
  /** The highest block index started so far (-1 before any): blocks come in order. */
  lastIndex: number;
  /** The text block deltas extend, or null when the open block is not text. */
  textIndex: number | null;
  /** Text blocks started so far (the second and later are set off by a blank line, or not: see the header). */
  textBlocks: number;
  /** Every thinking block's text, in order, joined with a blank line (thinking tokens are in `outputTokens`). */
  thinking: string;
  /** The thinking block deltas extend, or null when the open block is not thinking. */
  thinkingIndex: number | null;
  thinkingBlocks: number;
  /** The open text block carries citations (or the one before it, when it is still the last block). */
  textCited: boolean;
  /** The answer has cited or searched: neighbouring text blocks join without a blank line. */
  joined: boolean;
  /** Where the open text block's own text begins in `text` (after its separator). */
  textStart: number;
  /** The open text block came right after another text block (no thinking or search between). */
  textFollows: boolean;
  /** Passages the text cites, in order, without repeats. */
  citations: Citation[];
  /** Pages the web searches returned, in order, one per address. */
  sources: WebSource[];
  /** The queries of the web searches the model asked for. */
  searchQueries: string[];
  /** The open `server_tool_use` block of a web search and its input's JSON so far, or null. */
  searchIndex: number | null;
  searchInput: string;
  /**
   * Web searches the server ran: the larger of its usage's figure (a running total) and the
   * successful results seen, so a stream cut before the usage still counts the searches billed.
   */
  webSearches: number;
  /** The web_search_tool_result blocks that held results (an error result is not billed). */
  searchResults: number;
  /** The usage named a web search count that is not one (negative, fractional, text...): the usage is unknown. */
  webSearchesUnknown: boolean;
}

/** The stream broke the API's format: the attempt fails with this, and nothing more is read. */
export class BadStreamError extends Error {
  readonly error: PaceError;
  constructor(problem: string) {
    const message = `The API's answer broke the streaming format (${problem}), so Pace stopped reading it. Check the base URL on the options page.`;
    super(message);
    this.name = 'BadStreamError';
    this.error = { code: 'bad_answer', message };
  }
}

export const emptyAnswer = (): AssembledAnswer => ({
  id: null,
  model: null,
  text: '',
  stopReason: null,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  done: false,
  truncated: false,
  lastIndex: -1,
  textIndex: null,
  textBlocks: 0,
  thinking: '',
  thinkingIndex: null,
  thinkingBlocks: 0,
  textCited: false,
  joined: false,
  textStart: 0,
  textFollows: false,
  citations: [],
  sources: [],
  searchQueries: [],
  searchIndex: null,
  searchInput: '',
  webSearches: 0,
  searchResults: 0,
  webSearchesUnknown: false,
});

export function applyStreamEvent(state: AssembledAnswer, event: RawMessageStreamEvent): AssembledAnswer {
  switch (event.type) {
    case 'message_start': {
      const message = (event.message ?? {}) as Partial<typeof event.message>;
      const usage = (message.usage ?? {}) as Partial<typeof event.message.usage>;
      return {
        ...state,
        id: typeof message.id === 'string' ? message.id : state.id,
        model: typeof message.model === 'string' ? message.model : state.model,
        inputTokens: tokens(usage.input_tokens, 0),
        outputTokens: tokens(usage.output_tokens, 0),
        cacheReadTokens: tokens(usage.cache_read_input_tokens, 0),
        cacheCreationTokens: tokens(usage.cache_creation_input_tokens, 0),
        ...searchesOf(state, usage),
      };
    }
    case 'content_block_start': {
      const index = blockIndex(event.index);
      if (index <= state.lastIndex) throw new BadStreamError(`block ${index} started after block ${state.lastIndex}`);
      const closed = closeSearch(state);
      const block = (event.content_block ?? {}) as unknown as Record<string, unknown>;
      const opened = { ...closed, lastIndex: index, textIndex: null, thinkingIndex: null };
      switch (block.type) {
        case 'text': {
          const cited = Array.isArray(block.citations);
          const started = startText(closed, index, typeof block.text === 'string' ? block.text : '', cited);
          return cited ? addCitations(started, block.citations as unknown[]) : started;
        }
        case 'thinking':
          return startThinking(closed, index, typeof block.thinking === 'string' ? block.thinking : '');
        case 'server_tool_use':
          if (block.name !== 'web_search') return { ...opened, joined: true };
          return { ...opened, joined: true, searchIndex: index, searchInput: queryJson(block.input) };
        case 'web_search_tool_result':
          return addSources(countResult({ ...opened, joined: true }, block.content), block.content);
        default:
          return opened;
      }
    }
    case 'content_block_delta': {
      const index = blockIndex(event.index);
      const delta = (event.delta ?? {}) as unknown as Record<string, unknown>;
      switch (delta.type) {
        case 'text_delta': {
          if (typeof delta.text !== 'string') throw new BadStreamError(`a text delta of block ${index} holds no text`);
          if (index === state.textIndex) return append(state, delta.text);
          // A delta with no content_block_start before it opens its block.
          if (index > state.lastIndex) return startText(closeSearch(state), index, delta.text, false);
          throw new BadStreamError(`text arrived for block ${index} while block ${state.lastIndex} was open`);
        }
        case 'thinking_delta': {
          if (typeof delta.thinking !== 'string')
            throw new BadStreamError(`a thinking delta of block ${index} holds no thinking`);
          if (index === state.thinkingIndex) return appendThinking(state, delta.thinking);
          if (index > state.lastIndex) return startThinking(closeSearch(state), index, delta.thinking);
          throw new BadStreamError(`thinking arrived for block ${index} while block ${state.lastIndex} was open`);
        }
        case 'citations_delta':
          // A citation belongs to the open text block; one for any other block is not shown.
          return index === state.textIndex ? citeOpenText(state, delta.citation) : state;
        case 'input_json_delta':
          if (index !== state.searchIndex || typeof delta.partial_json !== 'string') return state;
          if (state.searchInput.length + delta.partial_json.length > MAX_FIELD_CHARS * 4) return state;
          return { ...state, searchInput: state.searchInput + delta.partial_json };
        default:
          // signature_delta (the thinking's signature, not shown) and anything newer.
          return state;
      }
    }
    case 'content_block_stop':
      return blockIndexOrNull(event.index) === state.searchIndex ? closeSearch(state) : state;
    case 'message_delta': {
      const usage = (event.usage ?? {}) as Partial<typeof event.usage>;
      const stop = (event.delta as { stop_reason?: unknown } | undefined)?.stop_reason;
      return {
        ...state,
        stopReason: typeof stop === 'string' ? stop : state.stopReason,
        // Every count here is a running total, not an increment; a missing one keeps message_start's.
        outputTokens: tokens(usage.output_tokens, state.outputTokens),
        inputTokens: tokens(usage.input_tokens, state.inputTokens),
        cacheReadTokens: tokens(usage.cache_read_input_tokens, state.cacheReadTokens),
        cacheCreationTokens: tokens(usage.cache_creation_input_tokens, state.cacheCreationTokens),
        ...searchesOf(state, usage),
      };
    }
    case 'message_stop':
      return { ...closeSearch(state), done: true };
    default:
      return state;
  }
}

/**
 * A text block begins: set off from the text before by a blank line, or joined to it where the
 * answer cites or searched and the block before was text too (`cited`: this one carries citations).
 */
function startText(state: AssembledAnswer, index: number, text: string, cited: boolean): AssembledAnswer {
  const follows = state.textIndex !== null && state.textIndex === state.lastIndex;
  const join = follows && (state.joined || state.textCited || cited);
  const separator = state.textBlocks > 0 && !join ? '\n\n' : '';
  const next: AssembledAnswer = {
    ...state,
    lastIndex: index,
    textIndex: index,
    thinkingIndex: null,
    textBlocks: state.textBlocks + 1,
    textCited: cited,
    textFollows: follows,
    joined: state.joined || cited,
  };
  const withSeparator = append(next, separator);
  return append({ ...withSeparator, textStart: withSeparator.text.length }, text);
}

/**
 * A citation for the open text block. The first one of a block that came right after another text
 * block takes back the blank line set before it, whether its text has begun or not: the block is a
 * piece of the paragraph before (the text shrinks by that line once).
 */
function citeOpenText(state: AssembledAnswer, citation: unknown): AssembledAnswer {
  let next: AssembledAnswer = { ...state, textCited: true, joined: true };
  const at = state.textStart - 2;
  // Bounded as citations are: a hostile stream cannot make every block copy the whole text.
  const room = state.citations.length < MAX_CITATIONS;
  if (room && !state.textCited && state.textFollows && !state.truncated && at >= 0 && state.text.startsWith('\n\n', at))
    next = { ...next, text: state.text.slice(0, at) + state.text.slice(state.textStart), textStart: at };
  return addCitations(next, [citation]);
}

function startThinking(state: AssembledAnswer, index: number, thinking: string): AssembledAnswer {
  const next: AssembledAnswer = {
    ...state,
    lastIndex: index,
    textIndex: null,
    thinkingIndex: index,
    thinkingBlocks: state.thinkingBlocks + 1,
  };
  return appendThinking(next, state.thinkingBlocks > 0 ? `\n\n${thinking}` : thinking);
}

/** Adds thinking at its end, up to MAX_ANSWER_CHARS: past it the answer is cut as for text. */
function appendThinking(state: AssembledAnswer, piece: string): AssembledAnswer {
  if (state.truncated || piece === '') return state;
  if (state.thinking.length + piece.length <= MAX_ANSWER_CHARS) return { ...state, thinking: state.thinking + piece };
  return { ...state, thinking: state.thinking + cut(piece, MAX_ANSWER_CHARS - state.thinking.length), truncated: true };
}

/**
 * The usage's web search count, when it gives one (never below the results seen); a count that is
 * not one makes the usage unknown.
 */
function searchesOf(
  state: AssembledAnswer,
  usage: object,
): Pick<AssembledAnswer, 'webSearches' | 'webSearchesUnknown'> {
  const tools = (usage as { server_tool_use?: unknown }).server_tool_use;
  const keep = { webSearches: state.webSearches, webSearchesUnknown: state.webSearchesUnknown };
  if (tools === undefined || tools === null) return keep;
  const n = typeof tools === 'object' ? (tools as { web_search_requests?: unknown }).web_search_requests : tools;
  if (n === undefined || n === null) return keep;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_WEB_SEARCHES)
    return { ...keep, webSearches: Math.max(n, state.searchResults) };
  return { ...keep, webSearchesUnknown: true };
}

/** A web search's result block: one search billed when it holds results (an error object is not). */
function countResult(state: AssembledAnswer, content: unknown): AssembledAnswer {
  if (!Array.isArray(content) || state.searchResults >= MAX_WEB_SEARCHES) return state;
  const searchResults = state.searchResults + 1;
  return { ...state, searchResults, webSearches: Math.max(state.webSearches, searchResults) };
}

/** The open web search block's query, read from its input's JSON once the block is over. */
function closeSearch(state: AssembledAnswer): AssembledAnswer {
  if (state.searchIndex === null) return state;
  const next = { ...state, searchIndex: null, searchInput: '' };
  let query: unknown;
  try {
    query = (JSON.parse(state.searchInput || '{}') as { query?: unknown } | null)?.query;
  } catch {
    // Half a JSON object (the stream broke off): the search ran all the same; its query is not shown.
    query = undefined;
  }
  if (typeof query !== 'string' || query.trim() === '' || state.searchQueries.length >= MAX_QUERIES) return next;
  return { ...next, searchQueries: [...state.searchQueries, cut(query.trim(), MAX_FIELD_CHARS)] };
}

/** A server_tool_use block's input as JSON text: the whole input when its start carries it, else what its deltas add. */
function queryJson(input: unknown): string {
  if (input === null || typeof input !== 'object' || Object.keys(input).length === 0) return '';
  const json = JSON.stringify(input);
  return json.length <= MAX_FIELD_CHARS * 4 ? json : '';
}

/** The pages of a web_search_tool_result (an error result has none), each address once. */
function addSources(state: AssembledAnswer, content: unknown): AssembledAnswer {
  if (!Array.isArray(content)) return state;
  const sources = [...state.sources];
  for (const r of content as unknown[]) {
    if (sources.length >= MAX_SOURCES) break;
    if (!isObject(r)) continue;
    const url = webUrl(r.url);
    if (url === null || sources.some((s) => s.url === url)) continue;
    const title = typeof r.title === 'string' && r.title.trim() !== '' ? cut(r.title.trim(), MAX_FIELD_CHARS) : url;
    const pageAge = typeof r.page_age === 'string' && r.page_age !== '' ? cut(r.page_age, 100) : undefined;
    sources.push({ url, title, ...(pageAge === undefined ? {} : { pageAge }) });
  }
  return sources.length === state.sources.length ? state : { ...state, sources };
}

/** Citations as Pace keeps them (a web page, or a place in an attached document), each once. */
function addCitations(state: AssembledAnswer, given: unknown[]): AssembledAnswer {
  let citations = state.citations;
  for (const raw of given) {
    if (citations.length >= MAX_CITATIONS) break;
    const c = citationOf(raw);
    if (c === null) continue;
    const key = JSON.stringify(c);
    if (citations.some((x) => JSON.stringify(x) === key)) continue;
    citations = [...citations, c];
  }
  return citations === state.citations ? state : { ...state, citations };
}

function citationOf(raw: unknown): Citation | null {
  if (!isObject(raw) || typeof raw.cited_text !== 'string') return null;
  const citedText = cut(raw.cited_text, MAX_FIELD_CHARS);
  const titled = (t: unknown) =>
    typeof t === 'string' && t.trim() !== '' ? { title: cut(t.trim(), MAX_FIELD_CHARS) } : {};
  switch (raw.type) {
    case 'web_search_result_location': {
      const url = webUrl(raw.url);
      return url === null ? null : { kind: 'web', citedText, ...titled(raw.title), url };
    }
    case 'page_location': {
      const first = raw.start_page_number;
      const end = raw.end_page_number;
      // The API's end page is exclusive; Pace keeps the last page cited.
      const pages: [number, number] | null = isPage(first) && isPage(end) ? [first, Math.max(first, end - 1)] : null;
      return { kind: 'document', citedText, ...titled(raw.document_title), ...(pages ? { pages } : {}) };
    }
    case 'char_location':
    case 'content_block_location':
      return { kind: 'document', citedText, ...titled(raw.document_title) };
    default:
      return null;
  }
}

const isPage = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1_000_000;

/** An http(s) address a page may link to; anything else (javascript:, data:, not a URL) is none. */
function webUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_FIELD_CHARS) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * A whole message's content blocks (a batch result's), read as a stream of them would be: its
 * thinking, citations, sources and search queries (and text, with the stream's joins).
 */
export function assembleContent(content: readonly unknown[]): AssembledAnswer {
  let state = emptyAnswer();
  for (const [index, block] of content.slice(0, MAX_BLOCK_INDEX + 1).entries()) {
    state = applyStreamEvent(state, {
      type: 'content_block_start',
      index,
      content_block: block,
    } as unknown as RawMessageStreamEvent);
    state = applyStreamEvent(state, { type: 'content_block_stop', index });
  }
  return state;
}

/** An answer's whole text (a batch result's) cut at MAX_ANSWER_CHARS as a streamed one is; `truncated` when it was. */
export function capAnswerText(text: string): { text: string; truncated: boolean } {
  const capped = append(emptyAnswer(), text);
  return { text: capped.text, truncated: capped.truncated };
}

/** Adds text at the end, up to MAX_ANSWER_CHARS (never cutting a character in two). */
function append(state: AssembledAnswer, piece: string): AssembledAnswer {
  if (state.truncated || piece === '') return state;
  if (state.text.length + piece.length <= MAX_ANSWER_CHARS) return { ...state, text: state.text + piece };
  return { ...state, text: state.text + cut(piece, MAX_ANSWER_CHARS - state.text.length), truncated: true };
}

/** The first `room` characters of `text`, never cutting a character in two. */
function cut(text: string, room: number): string {
  if (text.length <= room) return text;
  const last = text.charCodeAt(room - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? room - 1 : room);
}

/** A block index as `blockIndex` takes it, or null for one it would refuse (content_block_stop is only looked at). */
function blockIndexOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_BLOCK_INDEX ? value : null;
}

function blockIndex(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_BLOCK_INDEX) return value;
  throw new BadStreamError(
    `content block index ${String(value).slice(0, 40)} is not a whole number from 0 to ${MAX_BLOCK_INDEX}`,
  );
}

/** A token count as the API gives it; anything else (text, negative, fractional, absurd) keeps `fallback`. */
function tokens(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN_COUNT
    ? value
    : fallback;
}
