/**
 * The Message Batch calls Pace makes (shared/claude-api.md, "Message Batches"), over the thin
 * client: `createBatch` checks the requests before they go, `retrieveBatch` polls, and
 * `batchResults` reads an ended batch's JSON Lines into one entry per request (in the order the
 * API sent them, which is none in particular: match them by `custom_id`), each checked as a
 * streamed answer is (a broken line is a MalformedResult for its question alone). Failures are the
 * client's (APIError by status, APIConnectionError...), or BatchInputError for what Pace itself
 * refuses to send or cannot read.
 */
import type { MessageBatch, MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import type { ClaudeClient } from './client';
import { errorText } from '../error-text';
import { isObject } from '../is-object';
import { MAX_BATCH_RESULTS_BYTES } from './read-capped';
import { MAX_TOKEN_COUNT, MAX_WEB_SEARCHES } from './stream';

export type { MessageBatch, MessageBatchIndividualResponse };

export interface BatchRequest {
  custom_id: string;
  params: MessageCreateParamsNonStreaming;
}

/** The API's rule for a request's id within its batch. */
const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_BATCH_REQUESTS = 100_000;

/** A batch Pace will not send, or results it cannot read; the message says which and why. */
export class BatchInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BatchInputError';
  }
}

/** The reason these requests cannot go as one batch, or null when they can. */
export function checkBatchRequests(requests: readonly BatchRequest[]): string | null {
  if (requests.length === 0) return 'a batch needs at least one request';
  if (requests.length > MAX_BATCH_REQUESTS)
    return `a batch holds at most ${MAX_BATCH_REQUESTS} requests, not ${requests.length}`;
  const seen = new Set<string>();
  for (const [i, { custom_id: id }] of requests.entries()) {
    if (!CUSTOM_ID_PATTERN.test(id)) {
      return `request ${i + 1}: custom_id ${JSON.stringify(id.slice(0, 80))} must be 1 to 64 letters, digits, "-" or "_"`;
    }
    if (seen.has(id)) return `request ${i + 1}: custom_id "${id}" is already used by an earlier request of this batch`;
    seen.add(id);
  }
  return null;
}

export async function createBatch(
  client: ClaudeClient,
  requests: readonly BatchRequest[],
  signal?: AbortSignal,
): Promise<MessageBatch> {
  const problem = checkBatchRequests(requests);
  if (problem !== null) throw new BatchInputError(problem);
  return client.messages.batches.create({ requests: [...requests] }, { signal });
}

export async function retrieveBatch(client: ClaudeClient, id: string, signal?: AbortSignal): Promise<MessageBatch> {
  return client.messages.batches.retrieve(checkId(id), { signal });
}

/** Asks the API to cancel a running batch: what has not run comes back as `canceled` in its results. */
export async function cancelBatch(client: ClaudeClient, id: string, signal?: AbortSignal): Promise<MessageBatch> {
  return client.messages.batches.cancel(checkId(id), { signal });
}

/** The results of a batch that has ended (pass the batch as last retrieved: one still running is refused before any call). */
export async function batchResults(
  client: ClaudeClient,
  batch: Pick<MessageBatch, 'id' | 'processing_status'>,
  { signal, onSkip }: { signal?: AbortSignal; onSkip?: (why: string) => void } = {},
): Promise<BatchResultEntry[]> {
  if (batch.processing_status !== 'ended') {
    throw new BatchInputError(
      `batch ${batch.id} is still ${batch.processing_status.replace('_', ' ')}: its results can be read once it has ended`,
    );
  }
  const { text, cut } = await client.messages.batches.results(checkId(batch.id), { signal });
  if (cut) throw new BatchResultsTooLargeError();
  return parseBatchResults(text, onSkip);
}

/** The results file is larger than Pace reads (MAX_BATCH_RESULTS_BYTES): the rest was not downloaded. */
export class BatchResultsTooLargeError extends BatchInputError {
  constructor() {
    super(
      `Anthropic's results for this batch are larger than Pace reads (${MAX_BATCH_RESULTS_BYTES / 1024 / 1024} MB), so they were not read`,
    );
    this.name = 'BatchResultsTooLargeError';
  }
}

/**
 * A result line Pace will not believe: its question fails alone, saying why (`problem`), and nothing
 * of it is counted. The other lines of the batch are placed as usual.
 */
interface MalformedResult {
  custom_id: string;
  result: { type: 'malformed'; problem: string };
}

export type BatchResultEntry = MessageBatchIndividualResponse | MalformedResult;

/**
 * One entry per non-empty line that names its request (`custom_id`). A line naming its request but
 * broken (a succeeded message without whole token counts, content that is not a list, no model...)
 * is a MalformedResult for that request alone; a line naming none (not JSON, no custom_id) cannot
 * be given to any question and is skipped (`onSkip` says which and why): its question ends as
 * having no result.
 */
export function parseBatchResults(text: string, onSkip: (why: string) => void = () => undefined): BatchResultEntry[] {
  const out: BatchResultEntry[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch (err) {
      onSkip(`batch results, line ${i + 1}: not JSON (${errorText(err)})`);
      continue;
    }
    const id = typeof entry === 'object' && entry !== null ? (entry as { custom_id?: unknown }).custom_id : undefined;
    if (typeof id !== 'string') {
      onSkip(`batch results, line ${i + 1}: no custom_id`);
      continue;
    }
    const problem = resultProblem((entry as { result?: unknown }).result);
    out.push(
      problem === null
        ? (entry as MessageBatchIndividualResponse)
        : { custom_id: id, result: { type: 'malformed', problem } },
    );
  }
  return out;
}

/** Why a line's `result` is not one Pace believes, or null when it is. */
function resultProblem(result: unknown): string | null {
  if (!isObject(result)) return 'no result';
  const { type, message, error } = result;
  if (type === 'succeeded') return messageProblem(message);
  if (type === 'errored') return isObject(error) ? null : 'an errored result without its error';
  if (type === 'canceled' || type === 'expired') return null;
  return `result.type ${JSON.stringify(String(type)).slice(0, 40)} is not succeeded, errored, canceled or expired`;
}

/** Why a succeeded result's message is not one Pace believes: the same rules as a streamed answer's (lib/claude/stream.ts). */
function messageProblem(message: unknown): string | null {
  if (!isObject(message)) return 'no message';
  if (typeof message.model !== 'string') return 'model is not a string';
  if (!Array.isArray(message.content)) return 'content is not a list';
  for (const [i, block] of (message.content as unknown[]).entries()) {
    if (!isObject(block) || typeof block.type !== 'string') return `content[${i}] is not a content block`;
    if (block.type === 'text' && typeof block.text !== 'string') return `content[${i}] is a text block without text`;
  }
  if (message.stop_reason !== undefined && message.stop_reason !== null && typeof message.stop_reason !== 'string')
    return 'stop_reason is not a string';
  const usage = message.usage;
  if (!isObject(usage)) return 'usage is missing';
  for (const field of ['input_tokens', 'output_tokens'] as const) {
    const problem = countProblem(usage[field]);
    if (problem) return `usage.${field} ${problem}`;
  }
  for (const field of ['cache_creation_input_tokens', 'cache_read_input_tokens'] as const) {
    const problem = usage[field] === null || usage[field] === undefined ? null : countProblem(usage[field]);
    if (problem) return `usage.${field} ${problem}`;
  }
  const tools = usage.server_tool_use;
  if (tools !== undefined && tools !== null) {
    if (!isObject(tools)) return 'usage.server_tool_use is not an object';
    for (const [field, value] of Object.entries(tools)) {
      const problem = value === null ? null : countProblem(value);
      if (problem) return `usage.server_tool_use.${field} ${problem}`;
    }
    // Each search is billed at $0.01: an absurd count would put an absurd cost in the month.
    if (typeof tools.web_search_requests === 'number' && tools.web_search_requests > MAX_WEB_SEARCHES)
      return `usage.server_tool_use.web_search_requests is more than ${MAX_WEB_SEARCHES}`;
  }
  return null;
}

/** What is wrong with a token count (whole, from 0 to MAX_TOKEN_COUNT, as the stream believes), or null. */
function countProblem(value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isInteger(value)) return 'is not a whole number';
  if (value < 0) return 'is negative';
  if (value > MAX_TOKEN_COUNT) return `is more than ${MAX_TOKEN_COUNT}`;
  return null;
}

function checkId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(id))
    throw new BatchInputError(`${JSON.stringify(id.slice(0, 80))} is not a batch id`);
  return id;
}
