/// <reference types="node" />
/**
 * What the local Claude server's answer holds besides its text, decided once from the request so
 * that a streamed answer, a whole one and a batch result agree: a thinking block when thinking is
 * on; the web searches (a `server_tool_use` block and a `web_search_tool_result` block each) when
 * the web search tool is offered; and citations of the search results and of the PDFs whose
 * citations are enabled, carried by the first text block (the answer's text is then cut in two
 * blocks, the first cited, the second not; joined they give the answer's text).
 *
 * Markers in the last user turn's text steer the searches: `[searches:N]` searches N times (default
 * once; never more than the tool's max_uses), `[no-search]` (or `[searches:0]`) not at all,
 * `[search-error:CODE]` makes every search fail with that error_code (a failed search is not
 * counted in web_search_requests, as the API does not bill it).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BlockParam, Effort, ThinkingParam, WebSearchToolParam } from './claude-server-content';
import { tokensFor } from './claude-server-content';

export interface AnswerRequest {
  messages: { role: 'user' | 'assistant'; content: string | BlockParam[] }[];
  thinking?: ThinkingParam;
  outputConfig?: { effort?: Effort };
  webSearch?: WebSearchToolParam;
}

interface WebSearchResult {
  type: 'web_search_result';
  url: string;
  title: string;
  page_age: string | null;
  encrypted_content: string;
}

type Citation =
  | { type: 'web_search_result_location'; url: string; title: string; cited_text: string; encrypted_index: string }
  | {
      type: 'page_location';
      cited_text: string;
      document_index: number;
      document_title: string | null;
      start_page_number: number;
      end_page_number: number;
      file_id: null;
    };

interface SearchStep {
  id: string;
  query: string;
  content: WebSearchResult[] | { type: 'web_search_tool_result_error'; error_code: string };
  /** the result pages' text, read as input tokens */
  tokens: number;
}

export interface AnswerPlan {
  thinking?: { text: string; shown: string; signature: string; tokens: number };
  searches: SearchStep[];
  /** searches that succeeded (billed): usage.server_tool_use.web_search_requests */
  webSearchRequests: number;
  /** input tokens the search results add */
  searchTokens: number;
  /** the answer's text blocks, in order; `citations` set on a cited block */
  texts: { text: string; citations?: Citation[] }[];
  /** whether usage reports server_tool_use (the tool was offered) */
  searchOffered: boolean;
}

const SEARCH_ERRORS = ['too_many_requests', 'invalid_input', 'max_uses_exceeded', 'query_too_long', 'unavailable'];

/** The text of the last user turn, where the markers are read. */
function lastUserText(messages: AnswerRequest['messages']): string {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n');
}

function effortOf(req: AnswerRequest): Effort {
  if (req.thinking?.type === 'enabled') {
    const budget = req.thinking.budget_tokens;
    return budget < 4096 ? 'low' : budget < 16000 ? 'medium' : 'high';
  }
  return req.outputConfig?.effort ?? 'high';
}

const REPEATS: Record<Effort, number> = { low: 1, medium: 2, high: 4, xhigh: 6, max: 8 };

function firstSentence(text: string): string {
  const m = /^[^.!?]*[.!?]/.exec(text.trim());
  return Array.from(m ? m[0] : text.trim())
    .slice(0, 150)
    .join('');
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'query'
  );
}

function searchHost(tool: WebSearchToolParam): string {
  if (tool.allowedDomains?.[0]) return tool.allowedDomains[0];
  return tool.blockedDomains?.includes('example.com') ? 'example.org' : 'example.com';
}

function search(tool: WebSearchToolParam, query: string, n: number, error: string | undefined): SearchStep {
  const id = `srvtoolu_${randomBytes(12).toString('hex')}`;
  if (error !== undefined)
    return { id, query, content: { type: 'web_search_tool_result_error', error_code: error }, tokens: 0 };
  const host = searchHost(tool);
  const content: WebSearchResult[] = [1, 2, 3].map((k) => {
    const page = `Page ${k} about ${query}. It says what a page about ${query} would say, at some length, for the test.`;
    return {
      type: 'web_search_result',
      url: `https://${host}/search-${n}/${slug(query)}/${k}`,
      title: `Result ${k} for "${query}"`,
      page_age: k === 3 ? null : `November ${k}, 2026`,
      encrypted_content: Buffer.from(page, 'utf8').toString('base64'),
    };
  });
  const tokens = content.reduce(
    (sum, r) => sum + tokensFor(Buffer.from(r.encrypted_content, 'base64').toString('utf8').length),
    0,
  );
  return { id, query, content, tokens };
}

/** Cut the text in two at a space near its middle (the first part carries the citations). */
function cut(text: string): [string, string] {
  const chars = Array.from(text);
  const space = chars.indexOf(' ', Math.floor(chars.length / 2));
  if (space <= 0) return [text, ''];
  return [chars.slice(0, space).join(''), chars.slice(space).join('')];
}

export function planAnswer(req: AnswerRequest, text: string, thinkingText?: string): AnswerPlan {
  const asked = lastUserText(req.messages);
  const question = Array.from(asked.replace(/\s+/g, ' ').trim()).slice(0, 60).join('');
  const plan: AnswerPlan = {
    searches: [],
    webSearchRequests: 0,
    searchTokens: 0,
    texts: [],
    searchOffered: req.webSearch !== undefined,
  };

  if (req.thinking && req.thinking.type !== 'disabled') {
    const effort = effortOf(req);
    const full = thinkingText ?? `Thinking about "${question}" at ${effort} effort. `.repeat(REPEATS[effort]).trim();
    plan.thinking = {
      text: full,
      shown: req.thinking.display === 'omitted' ? '' : full,
      signature: randomBytes(48).toString('base64'),
      tokens: tokensFor(full.length),
    };
  }

  const citations: Citation[] = [];
  if (req.webSearch) {
    const marked = /\[searches:(\d+)\]/.exec(asked);
    let count = /\[no-search\]/.test(asked) ? 0 : marked ? Number(marked[1]) : 1;
    if (req.webSearch.maxUses !== undefined) count = Math.min(count, req.webSearch.maxUses);
    const errorMark = /\[search-error:([a-z_]+)\]/.exec(asked)?.[1];
    const error = errorMark === undefined ? undefined : SEARCH_ERRORS.includes(errorMark) ? errorMark : 'unavailable';
    const query =
      asked
        .replace(/\[[a-z-]+(?::[a-z_0-9]+)?\]/g, '')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 100) || 'anything';
    for (let n = 1; n <= count; n++) {
      const step = search(req.webSearch, n === 1 ? query : `${query} (${n})`, n, error);
      plan.searches.push(step);
      plan.searchTokens += step.tokens;
      if (Array.isArray(step.content)) {
        plan.webSearchRequests++;
        const first = step.content[0]!;
        citations.push({
          type: 'web_search_result_location',
          url: first.url,
          title: first.title,
          cited_text: firstSentence(Buffer.from(first.encrypted_content, 'base64').toString('utf8')),
          encrypted_index: createHash('sha256').update(first.url).digest('base64').slice(0, 24),
        });
      }
    }
  }

  let documentIndex = 0;
  for (const m of req.messages) {
    if (typeof m.content === 'string') continue;
    for (const b of m.content) {
      if (b.type !== 'document') continue;
      if (b.citations) {
        const page = Math.max(
          0,
          b.pageTexts.findIndex((t) => t.trim() !== ''),
        );
        citations.push({
          type: 'page_location',
          cited_text: firstSentence(b.pageTexts[page] ?? ''),
          document_index: documentIndex,
          document_title: b.title ?? null,
          start_page_number: page + 1,
          end_page_number: page + 2,
          file_id: null,
        });
      }
      documentIndex++;
    }
  }

  if (citations.length === 0) plan.texts = [{ text }];
  else {
    const [cited, rest] = cut(text);
    plan.texts = [{ text: cited, citations }, ...(rest === '' ? [] : [{ text: rest }])];
  }
  return plan;
}

export const textTokens = (text: string): number => Math.max(1, tokensFor(text.length));

/** The answer's output tokens: its thinking, then its text (at least one token). */
export const outputTokensOf = (plan: AnswerPlan, text: string): number =>
  (plan.thinking?.tokens ?? 0) + textTokens(text);

/** The usage fields the plan adds to a Messages answer's usage (none for a plain answer). */
export function usageExtras(plan: AnswerPlan): Record<string, unknown> {
  return {
    ...(plan.searchOffered
      ? { server_tool_use: { web_search_requests: plan.webSearchRequests, web_fetch_requests: 0 } }
      : {}),
    ...(plan.thinking ? { output_tokens_details: { thinking_tokens: plan.thinking.tokens } } : {}),
  };
}

/** The content of a whole (non-streamed or batch) answer: exactly [{type:'text', text}] for a plain one. */
export function contentOf(plan: AnswerPlan): unknown[] {
  const out: unknown[] = [];
  if (plan.thinking) out.push({ type: 'thinking', thinking: plan.thinking.shown, signature: plan.thinking.signature });
  for (const s of plan.searches) {
    out.push({
      type: 'server_tool_use',
      id: s.id,
      name: 'web_search',
      input: { query: s.query },
      caller: { type: 'direct' },
    });
    out.push({ type: 'web_search_tool_result', tool_use_id: s.id, content: s.content, caller: { type: 'direct' } });
  }
  for (const t of plan.texts)
    out.push(t.citations ? { type: 'text', text: t.text, citations: t.citations } : { type: 'text', text: t.text });
  return out;
}
