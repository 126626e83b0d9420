/**
 * The Message Batch calls Pace makes (shared/claude-api.md, "Message Batches"), over the thin
 * client: `createBatch` checks the requests before they go, `retrieveBatch` polls, and
 * `batchResults` reads an ended batch's JSON Lines into one entry per request (in the order the
 * API sent them, which is none in particular: match them by `custom_id`). Failures are the
 * client's (APIError by status, APIConnectionError...), or BatchInputError for what Pace itself
 * refuses to send or cannot read.
 */
import type { MessageBatch, MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import type { ClaudeClient } from './client';
import { errorText } from '../error-text';

export type { MessageBatch, MessageBatchIndividualResponse };

export interface BatchRequest {
  custom_id: string;
  params: MessageCreateParamsNonStreaming;
}

/** The API's rule for a request's id within its batch. */
export const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
export const MAX_BATCH_REQUESTS = 100_000;

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
  if (requests.length > MAX_BATCH_REQUESTS) return `a batch holds at most ${MAX_BATCH_REQUESTS} requests, not ${requests.length}`;
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

export async function createBatch(client: ClaudeClient, requests: readonly BatchRequest[], signal?: AbortSignal): Promise<MessageBatch> {
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
export async function batchResults(client: ClaudeClient, batch: Pick<MessageBatch, 'id' | 'processing_status'>, signal?: AbortSignal): Promise<MessageBatchIndividualResponse[]> {
  if (batch.processing_status !== 'ended') {
    throw new BatchInputError(`batch ${batch.id} is still ${batch.processing_status.replace('_', ' ')}: its results can be read once it has ended`);
  }
  return parseBatchResults(await client.messages.batches.results(checkId(batch.id), { signal }));
}

const RESULT_TYPES = new Set(['succeeded', 'errored', 'canceled', 'expired']);

/** One entry per non-empty line; a line that is not a result is an error naming its line number. */
export function parseBatchResults(text: string): MessageBatchIndividualResponse[] {
  const out: MessageBatchIndividualResponse[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch (err) {
      throw new BatchInputError(`batch results, line ${i + 1}: not JSON (${errorText(err)})`);
    }
    if (!isResult(entry)) throw new BatchInputError(`batch results, line ${i + 1}: not a result (expected custom_id and result.type succeeded, errored, canceled or expired)`);
    out.push(entry);
  }
  return out;
}

function isResult(v: unknown): v is MessageBatchIndividualResponse {
  if (typeof v !== 'object' || v === null) return false;
  const { custom_id: id, result } = v as { custom_id?: unknown; result?: unknown };
  if (typeof id !== 'string' || typeof result !== 'object' || result === null) return false;
  const { type, message, error } = result as { type?: unknown; message?: unknown; error?: unknown };
  if (typeof type !== 'string' || !RESULT_TYPES.has(type)) return false;
  if (type === 'succeeded') return typeof message === 'object' && message !== null;
  if (type === 'errored') return typeof error === 'object' && error !== null;
  return true;
}

function checkId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(id)) throw new BatchInputError(`${JSON.stringify(id.slice(0, 80))} is not a batch id`);
  return id;
}
