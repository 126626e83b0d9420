/// <reference types="node" />
/**
 * What the local Claude server reads in a request body besides plain text: image and PDF blocks
 * (checked as the API checks them, measured from their own headers), the blocks of earlier answers
 * sent back in assistant turns, `thinking` with `output_config`, and the web search tool. It also
 * holds the server's token arithmetic, so that usage, count_tokens, the buckets and the prompt cache
 * agree:
 * - text: four characters a token over the whole prompt (as before images came);
 * - an image: width x height / 750, rounded up (no down-scaling);
 * - a PDF: 1,500 tokens a page (the image of the page) plus its extracted text at four characters
 *   a token (text from `Tj`/`TJ` strings of its content streams, FlateDecode ones inflated);
 * - a web search result sent back in an assistant turn: its page text (the base64 of
 *   `encrypted_content`) at four characters a token; thinking blocks sent back count nothing.
 * Tool definitions count nothing.
 */
import { inflateSync } from 'node:zlib';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    /** sent as the error's `details` (e.g. an `error_code`) */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const invalid = (message: string, details?: Record<string, unknown>): ApiFailure =>
  new ApiFailure(400, 'invalid_request_error', message, details);

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const tokensFor = (chars: number): number => Math.ceil(chars / 4);

/** The whole request body, as the API measures it (32 MB). */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;
const MAX_PDF_PAGES = 100;
const MAX_IMAGE_SIDE = 8000;
/** The longest side allowed once a request holds more than MANY_IMAGES images. */
const MANY_IMAGES_SIDE = 2000;
const MANY_IMAGES = 20;
const PDF_PAGE_TOKENS = 1500;
const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];

export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface TextBlockParam {
  type: 'text';
  text: string;
  cache_control?: CacheControl;
}

interface ImageBlockParam {
  type: 'image';
  /** none: a reader that maps blocks to `b.text` (as the demo server does) gets undefined */
  text?: undefined;
  mediaType: ImageMediaType;
  data: string;
  bytes: number;
  width: number;
  height: number;
  cache_control?: CacheControl;
}

interface DocumentBlockParam {
  type: 'document';
  /** none: a reader that maps blocks to `b.text` (as the demo server does) gets undefined */
  text?: undefined;
  mediaType: 'application/pdf';
  data: string;
  bytes: number;
  /** each page's extracted text, in page order */
  pageTexts: string[];
  title?: string;
  citations: boolean;
  cache_control?: CacheControl;
}

/** A block of an earlier answer sent back in an assistant turn. */
interface AnswerBlockParam {
  type: 'thinking' | 'redacted_thinking' | 'server_tool_use' | 'web_search_tool_result';
  /** none: a reader that maps blocks to `b.text` (as the demo server does) gets undefined */
  text?: undefined;
  /** what the block weighs as input (its search results' text; 0 for the others) */
  tokens: number;
  /** what makes it this block, for the prompt cache's prefix hash */
  key: string;
  cache_control?: CacheControl;
}

export type BlockParam = TextBlockParam | ImageBlockParam | DocumentBlockParam | AnswerBlockParam;

/** What a recorded request shows of one block (RecordedRequest.parsed). */
export type ParsedBlock =
  | { type: 'text'; text: string; cacheControl?: CacheControl }
  | {
      type: 'image';
      mediaType: string;
      base64Length: number;
      bytes: number;
      width: number;
      height: number;
      tokens: number;
      cacheControl?: CacheControl;
    }
  | {
      type: 'document';
      mediaType: string;
      base64Length: number;
      bytes: number;
      pages: number;
      title?: string;
      citations: boolean;
      tokens: number;
      cacheControl?: CacheControl;
    }
  | { type: AnswerBlockParam['type']; tokens: number; cacheControl?: CacheControl };

export function parsedBlock(b: BlockParam): ParsedBlock {
  const cc = b.cache_control ? { cacheControl: b.cache_control } : {};
  switch (b.type) {
    case 'text':
      return { type: 'text', text: b.text, ...cc };
    case 'image':
      return {
        type: 'image',
        mediaType: b.mediaType,
        base64Length: b.data.length,
        bytes: b.bytes,
        width: b.width,
        height: b.height,
        tokens: blockTokens(b),
        ...cc,
      };
    case 'document':
      return {
        type: 'document',
        mediaType: b.mediaType,
        base64Length: b.data.length,
        bytes: b.bytes,
        pages: b.pageTexts.length,
        ...(b.title === undefined ? {} : { title: b.title }),
        citations: b.citations,
        tokens: blockTokens(b),
        ...cc,
      };
    default:
      return { type: b.type, tokens: b.tokens, ...cc };
  }
}

/** Characters of text the block adds to the prompt (counted together, four a token). */
export const blockChars = (b: BlockParam): number => (b.type === 'text' ? b.text.length : 0);

/** Tokens the block adds besides its text. */
export function blockTokens(b: BlockParam): number {
  switch (b.type) {
    case 'text':
      return 0;
    case 'image':
      return Math.ceil((b.width * b.height) / 750);
    case 'document':
      return b.pageTexts.length * PDF_PAGE_TOKENS + tokensFor(b.pageTexts.reduce((n, t) => n + t.length, 0));
    default:
      return b.tokens;
  }
}

/** What identifies the block in the prompt cache's prefix hash. */
export function blockKey(b: BlockParam): string {
  switch (b.type) {
    case 'text':
      return b.text;
    case 'image':
    case 'document':
      return `${b.type}:${b.data}`;
    default:
      return `${b.type}:${b.key}`;
  }
}

export function checkCacheControl(value: unknown, where: string): CacheControl {
  if (!isRecord(value)) throw invalid(`${where}: Input should be an object`);
  if (value.type !== 'ephemeral') throw invalid(`${where}.type: Input should be 'ephemeral'`);
  if (value.ttl !== undefined && value.ttl !== '5m' && value.ttl !== '1h')
    throw invalid(`${where}.ttl: Input should be '5m' or '1h'`);
  return { type: 'ephemeral', ...(value.ttl === undefined ? {} : { ttl: value.ttl }) };
}

function optionalCacheControl(block: Record<string, unknown>, where: string): { cache_control?: CacheControl } {
  return block.cache_control === undefined || block.cache_control === null
    ? {}
    : { cache_control: checkCacheControl(block.cache_control, `${where}.cache_control`) };
}

function checkText(block: Record<string, unknown>, where: string): TextBlockParam {
  if (typeof block.text !== 'string') throw invalid(`${where}.text: Input should be a valid string`);
  if (block.text.trim() === '') throw invalid('messages: text content blocks must be non-empty');
  return { type: 'text', text: block.text, ...optionalCacheControl(block, where) };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(source: Record<string, unknown>, where: string): { data: string; bytes: Buffer } {
  if (source.type !== 'base64')
    throw invalid(
      `${where}.source.type: this test server only supports 'base64' sources, not ${JSON.stringify(source.type)}`,
    );
  if (typeof source.data !== 'string') throw invalid(`${where}.source.data: Input should be a valid string`);
  const data = source.data;
  if (data === '') throw invalid(`${where}.source.data: the base64 data is empty`);
  if (data.length % 4 !== 0 || !BASE64.test(data))
    throw invalid(`${where}.source.data: the data is not valid base64 (use the standard alphabet, with = padding)`);
  return { data, bytes: Buffer.from(data, 'base64') };
}

/** The image's format as its first bytes say. */
function sniffImage(b: Buffer): ImageMediaType | undefined {
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 6 && /^GIF8[79]a$/.test(b.toString('latin1', 0, 6))) return 'image/gif';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP')
    return 'image/webp';
  return undefined;
}

/** Width and height from the image's own header; undefined when the header is cut short or broken. */
function imageSize(b: Buffer, type: ImageMediaType): { width: number; height: number } | undefined {
  switch (type) {
    case 'image/png':
      // IHDR is the first chunk: length (4), "IHDR" (4), width (4), height (4).
      if (b.length < 24 || b.toString('latin1', 12, 16) !== 'IHDR') return undefined;
      return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
    case 'image/gif':
      if (b.length < 10) return undefined;
      return { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
    case 'image/webp': {
      if (b.length < 30) return undefined;
      const chunk = b.toString('latin1', 12, 16);
      if (chunk === 'VP8X') return { width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 };
      if (chunk === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
      if (chunk === 'VP8L') {
        const bits = b.readUInt32LE(21);
        return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
      }
      return undefined;
    }
    case 'image/jpeg': {
      // Walk the markers to the first start-of-frame; its payload holds the height, then the width.
      let i = 2;
      while (i + 9 < b.length) {
        if (b[i] !== 0xff) return undefined;
        const marker = b[i + 1]!;
        if (marker === 0xff) {
          i++;
          continue;
        }
        const length = b.readUInt16BE(i + 2);
        const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
        if (sof) return { width: b.readUInt16BE(i + 7), height: b.readUInt16BE(i + 5) };
        i += 2 + length;
      }
      return undefined;
    }
  }
}

function checkImage(block: Record<string, unknown>, where: string): ImageBlockParam {
  if (!isRecord(block.source)) throw invalid(`${where}.source: Field required (an object)`);
  const mediaType = block.source.media_type;
  if (!IMAGE_MEDIA_TYPES.includes(mediaType as ImageMediaType))
    throw invalid(
      `${where}.source.media_type: Input should be ${IMAGE_MEDIA_TYPES.map((t) => `'${t}'`).join(', ')}, not ${JSON.stringify(mediaType)}`,
    );
  const { data, bytes } = decodeBase64(block.source, where);
  const actual = sniffImage(bytes);
  if (actual === undefined || actual !== mediaType)
    throw invalid(
      `${where}.source: the image was specified using the ${String(mediaType)} media type, but the data ${
        actual === undefined ? 'is not a JPEG, PNG, GIF or WebP image' : `is ${actual}`
      }`,
    );
  const size = imageSize(bytes, actual);
  if (!size || size.width < 1 || size.height < 1)
    throw invalid(
      `${where}.source.data: could not read the ${actual} image's dimensions (the data is cut short or broken)`,
    );
  return {
    type: 'image',
    mediaType: actual,
    data,
    bytes: bytes.length,
    ...size,
    ...optionalCacheControl(block, where),
  };
}

/** The PDF's pages, each with the text its content streams show, in the order the page objects come. */
function pdfPageTexts(pdf: Buffer): string[] {
  const text = pdf.toString('latin1');
  const objects = new Map<string, string>();
  for (const m of text.matchAll(/(\d+)\s+\d+\s+obj\b([\s\S]*?)\bendobj/g)) objects.set(m[1]!, m[2]!);
  const streamText = (body: string | undefined): string => {
    if (body === undefined) return '';
    const m = /^([\s\S]*?)stream\r?\n([\s\S]*?)\r?\nendstream/.exec(body);
    if (!m) return '';
    let content = m[2]!;
    if (/\/FlateDecode/.test(m[1]!)) {
      try {
        content = inflateSync(Buffer.from(content, 'latin1')).toString('latin1');
      } catch {
        return ''; // A stream that does not inflate shows no text; the page still costs its image.
      }
    }
    const shown: string[] = [];
    for (const op of content.matchAll(/(\((?:\\.|[^\\)])*\))\s*(?:Tj|'|")|\[((?:\\.|[^\]])*)\]\s*TJ/g)) {
      const strings = op[1] ?? op[2] ?? '';
      for (const s of strings.matchAll(/\(((?:\\.|[^\\)])*)\)/g)) shown.push(s[1]!.replace(/\\(.)/g, '$1'));
    }
    return shown.join('');
  };
  const pages: string[] = [];
  for (const m of text.matchAll(/(\d+)\s+\d+\s+obj\b([\s\S]*?)\bendobj/g)) {
    const body = m[2]!;
    if (!/\/Type\s*\/Page(?![a-zA-Z])/.test(body)) continue;
    const contents = /\/Contents\s*(?:(\d+)\s+\d+\s+R|\[([^\]]*)\])/.exec(body);
    const refs =
      contents?.[1] !== undefined
        ? [contents[1]]
        : [...(contents?.[2] ?? '').matchAll(/(\d+)\s+\d+\s+R/g)].map((r) => r[1]!);
    pages.push(refs.map((r) => streamText(objects.get(r))).join(''));
  }
  return pages;
}

function checkDocument(block: Record<string, unknown>, where: string): DocumentBlockParam {
  if (!isRecord(block.source)) throw invalid(`${where}.source: Field required (an object)`);
  if (block.source.type === 'base64' && block.source.media_type !== 'application/pdf')
    throw invalid(
      `${where}.source.media_type: Input should be 'application/pdf', not ${JSON.stringify(block.source.media_type)}`,
    );
  const { data, bytes } = decodeBase64(block.source, where);
  if (bytes.toString('latin1', 0, 5) !== '%PDF-')
    throw invalid(`${where}.source.data: the PDF specified was not valid (it does not start with %PDF-)`);
  const pageTexts = pdfPageTexts(bytes);
  if (pageTexts.length === 0) throw invalid(`${where}.source.data: the PDF specified has no pages`);
  if (block.title !== undefined && block.title !== null && typeof block.title !== 'string')
    throw invalid(`${where}.title: Input should be a valid string`);
  let citations = false;
  if (block.citations !== undefined && block.citations !== null) {
    if (
      !isRecord(block.citations) ||
      (block.citations.enabled !== undefined && typeof block.citations.enabled !== 'boolean')
    )
      throw invalid(`${where}.citations: Input should be an object {enabled: boolean}`);
    citations = block.citations.enabled === true;
  }
  return {
    type: 'document',
    mediaType: 'application/pdf',
    data,
    bytes: bytes.length,
    pageTexts,
    ...(typeof block.title === 'string' ? { title: block.title } : {}),
    citations,
    ...optionalCacheControl(block, where),
  };
}

function checkAnswerBlock(block: Record<string, unknown>, where: string): AnswerBlockParam {
  const cc = optionalCacheControl(block, where);
  switch (block.type) {
    case 'thinking':
      if (typeof block.thinking !== 'string') throw invalid(`${where}.thinking: Field required (a string)`);
      if (typeof block.signature !== 'string') throw invalid(`${where}.signature: Field required (a string)`);
      return { type: 'thinking', tokens: 0, key: block.signature, ...cc };
    case 'redacted_thinking':
      if (typeof block.data !== 'string') throw invalid(`${where}.data: Field required (a string)`);
      return { type: 'redacted_thinking', tokens: 0, key: block.data, ...cc };
    case 'server_tool_use':
      if (typeof block.id !== 'string' || !block.id.startsWith('srvtoolu_'))
        throw invalid(`${where}.id: a server tool use id starts with 'srvtoolu_'`);
      if (block.name !== 'web_search') throw invalid(`${where}.name: this test server only runs 'web_search'`);
      return { type: 'server_tool_use', tokens: 0, key: JSON.stringify([block.id, block.input]), ...cc };
    default: {
      if (typeof block.tool_use_id !== 'string') throw invalid(`${where}.tool_use_id: Field required (a string)`);
      const content = block.content;
      let tokens = 0;
      if (Array.isArray(content)) {
        for (const [k, r] of content.entries()) {
          if (!isRecord(r) || r.type !== 'web_search_result' || typeof r.encrypted_content !== 'string')
            throw invalid(`${where}.content.${k}: Input should be a web_search_result with its encrypted_content`);
          // Each result counts on its own, as the answer that read it counted it.
          tokens += tokensFor(Buffer.from(r.encrypted_content, 'base64').toString('utf8').length);
        }
      } else if (!isRecord(content) || content.type !== 'web_search_tool_result_error') {
        throw invalid(
          `${where}.content: Input should be a list of web_search_result or a web_search_tool_result_error`,
        );
      }
      return { type: 'web_search_tool_result', tokens, key: JSON.stringify(block.content), ...cc };
    }
  }
}

const USER_TYPES = ['text', 'image', 'document'];
const ASSISTANT_TYPES = ['text', 'thinking', 'redacted_thinking', 'server_tool_use', 'web_search_tool_result'];

/** A message's content: a non-empty string, or a non-empty list of the blocks its role may send. */
export function checkContent(
  value: unknown,
  where: string,
  role: 'user' | 'assistant' | 'system',
): string | BlockParam[] {
  if (typeof value === 'string') {
    if (value.trim() === '') throw invalid('messages: text content blocks must be non-empty');
    return value;
  }
  if (!Array.isArray(value)) throw invalid(`${where}: Input should be a valid string or a list of content blocks`);
  if (value.length === 0) throw invalid(`${where}: content must be a non-empty string or a non-empty list of blocks`);
  const allowed = role === 'user' ? USER_TYPES : role === 'assistant' ? ASSISTANT_TYPES : ['text'];
  return value.map((block: unknown, j): BlockParam => {
    const at = `${where}.${j}`;
    if (!isRecord(block)) throw invalid(`${at}: Input should be an object`);
    if (typeof block.type !== 'string' || !allowed.includes(block.type)) {
      throw invalid(
        `${at}.type: this test server only supports ${allowed.map((t) => `'${t}'`).join(', ')} content blocks in ${
          role === 'system' ? 'system' : `${role} turns`
        }, not ${JSON.stringify(block.type)}`,
      );
    }
    if (block.type === 'text') return checkText(block, at);
    if (block.type === 'image') return checkImage(block, at);
    if (block.type === 'document') return checkDocument(block, at);
    return checkAnswerBlock(block, at);
  });
}

/** The request-wide limits on what its blocks hold: PDF pages and image sizes. */
export function checkMedia(messages: { content: string | BlockParam[] }[]): void {
  let pages = 0;
  const images: { path: string; side: number }[] = [];
  for (const [i, m] of messages.entries()) {
    if (typeof m.content === 'string') continue;
    for (const [j, b] of m.content.entries()) {
      if (b.type === 'document') pages += b.pageTexts.length;
      if (b.type === 'image') images.push({ path: `messages.${i}.content.${j}`, side: Math.max(b.width, b.height) });
    }
  }
  if (pages > MAX_PDF_PAGES) throw invalid(`A maximum of ${MAX_PDF_PAGES} PDF pages may be provided. Found ${pages}.`);
  const limit = images.length > MANY_IMAGES ? MANY_IMAGES_SIDE : MAX_IMAGE_SIDE;
  const over = images.filter((img) => img.side > limit);
  if (over.length > 0)
    throw invalid(
      `${over[0]!.path}.image.source.base64.data: At least one of the image dimensions exceed max allowed size${
        images.length > MANY_IMAGES ? ` for many-image requests (more than ${MANY_IMAGES} images)` : ''
      }: ${limit} pixels`,
      { error_code: 'image_dimensions_too_large', max_side_length_pixels: limit, paths: over.map((img) => img.path) },
    );
}

// ---- thinking, output_config and tools ----------------------------------------------------------

export type ThinkingParam =
  | { type: 'adaptive'; display?: 'summarized' | 'omitted' }
  | { type: 'enabled'; budget_tokens: number; display?: 'summarized' | 'omitted' }
  | { type: 'disabled' };

const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'] as const;
export type Effort = (typeof EFFORTS)[number];

export interface WebSearchToolParam {
  type: 'web_search_20260209' | 'web_search_20250305';
  name: 'web_search';
  maxUses?: number;
  allowedDomains?: string[];
  blockedDomains?: string[];
}

/**
 * Which thinking shapes a model takes: the newest (claude-opus-4-7 and later, the 5.x family and
 * their kin) only `adaptive`; claude-opus-4-6 and claude-sonnet-4-6 both; the older ones (e.g.
 * claude-haiku-4-5) only `enabled` with budget_tokens.
 */
function thinkingShapes(model: string): { adaptive: boolean; budget: boolean } {
  if (/^claude-(opus|sonnet)-4-6\b/.test(model)) return { adaptive: true, budget: true };
  if (isNewestModel(model)) return { adaptive: true, budget: false };
  return { adaptive: false, budget: true };
}

function isNewestModel(model: string): boolean {
  return /^claude-opus-4-([7-9]|\d\d)\b/.test(model) || /^claude-[a-z]+-([5-9]|\d\d)(-|$)/.test(model);
}

/** The models that take the newer web search tool (the agreed split: 4.6 and older take only the 2025 one). */
const takesNewSearchTool = (model: string): boolean => isNewestModel(model);

export function checkThinking(value: unknown, model: string, maxTokens: number | undefined): ThinkingParam | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw invalid('thinking: Input should be an object');
  const display = value.display;
  if (display !== undefined && display !== null && display !== 'summarized' && display !== 'omitted')
    throw invalid(`thinking.display: Input should be 'summarized' or 'omitted'`);
  const shown: { display?: 'summarized' | 'omitted' } =
    display === 'summarized' || display === 'omitted' ? { display } : {};
  const shapes = thinkingShapes(model);
  let thinking: ThinkingParam;
  switch (value.type) {
    case 'disabled':
      return { type: 'disabled' };
    case 'adaptive':
      if (!shapes.adaptive)
        throw invalid(
          `thinking.type.adaptive: adaptive thinking is not supported on ${model}; use thinking.type enabled with budget_tokens`,
        );
      thinking = { type: 'adaptive', ...shown };
      break;
    case 'enabled': {
      if (!shapes.budget)
        throw invalid(
          `thinking.type.enabled: budget_tokens is not supported on this model; use thinking.type adaptive`,
        );
      const budget = value.budget_tokens;
      if (budget === undefined) throw invalid('thinking.enabled.budget_tokens: Field required');
      if (typeof budget !== 'number' || !Number.isInteger(budget))
        throw invalid('thinking.enabled.budget_tokens: Input should be a valid integer');
      if (budget < 1024) throw invalid('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
      if (maxTokens !== undefined && maxTokens <= budget)
        throw invalid(
          `max_tokens must be greater than thinking.budget_tokens (max_tokens ${maxTokens}, budget_tokens ${budget})`,
        );
      thinking = { type: 'enabled', budget_tokens: budget, ...shown };
      break;
    }
    default:
      throw invalid(
        `thinking.type: Input should be 'adaptive', 'enabled' or 'disabled', not ${JSON.stringify(value.type)}`,
      );
  }
  return thinking;
}

export function checkOutputConfig(value: unknown): { effort?: Effort } | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw invalid('output_config: Input should be an object');
  const { effort } = value;
  if (effort === undefined || effort === null) return {};
  if (!EFFORTS.includes(effort as Effort))
    throw invalid(
      `output_config.effort: Input should be ${EFFORTS.map((e) => `'${e}'`).join(', ')}, not ${JSON.stringify(effort)}`,
    );
  return { effort: effort as Effort };
}

const WEB_SEARCH_TYPES = ['web_search_20260209', 'web_search_20250305'];

/** The tools list: the web search tool is checked and returned; other tools pass as before, unread. */
export function checkTools(value: unknown, model: string): { webSearch?: WebSearchToolParam; names: string[] } {
  if (value === undefined || value === null) return { names: [] };
  if (!Array.isArray(value)) throw invalid('tools: Input should be a valid list');
  let webSearch: WebSearchToolParam | undefined;
  const names: string[] = [];
  for (const [i, tool] of value.entries()) {
    const where = `tools.${i}`;
    if (!isRecord(tool)) throw invalid(`${where}: Input should be an object`);
    if (typeof tool.name === 'string') {
      if (names.includes(tool.name)) throw invalid(`tools: Tool names must be unique; '${tool.name}' appears twice`);
      names.push(tool.name);
    }
    const isSearch = typeof tool.type === 'string' && tool.type.startsWith('web_search');
    if (!isSearch) continue;
    if (!WEB_SEARCH_TYPES.includes(tool.type as string))
      throw invalid(
        `${where}.type: unknown web search tool version ${JSON.stringify(tool.type)} (use ${WEB_SEARCH_TYPES.join(' or ')})`,
      );
    if (tool.type === 'web_search_20260209' && !takesNewSearchTool(model))
      throw invalid(`${where}.type: 'web_search_20260209' is not supported on ${model}; use 'web_search_20250305'`);
    if (tool.name !== 'web_search') throw invalid(`${where}.name: Input should be 'web_search'`);
    const maxUses = tool.max_uses;
    if (
      maxUses !== undefined &&
      maxUses !== null &&
      (typeof maxUses !== 'number' || !Number.isInteger(maxUses) || maxUses < 1)
    )
      throw invalid(`${where}.max_uses: Input should be an integer greater than or equal to 1`);
    const domains = (field: 'allowed_domains' | 'blocked_domains'): string[] | undefined => {
      const v = tool[field];
      if (v === undefined || v === null) return undefined;
      if (!Array.isArray(v) || !v.every((d) => typeof d === 'string'))
        throw invalid(`${where}.${field}: Input should be a list of strings`);
      return v;
    };
    const allowedDomains = domains('allowed_domains');
    const blockedDomains = domains('blocked_domains');
    if (allowedDomains && blockedDomains)
      throw invalid(`${where}: allowed_domains and blocked_domains cannot both be given`);
    webSearch = {
      type: tool.type as WebSearchToolParam['type'],
      name: 'web_search',
      ...(typeof maxUses === 'number' ? { maxUses } : {}),
      ...(allowedDomains ? { allowedDomains } : {}),
      ...(blockedDomains ? { blockedDomains } : {}),
    };
  }
  return { webSearch, names };
}
