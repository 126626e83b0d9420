/**
 * Bundled by batch-probe.ts and evaluated inside the extension's background (never part of the
 * build): Pace's own batch calls on Pace's thin client, over the fetch it is handed (the
 * background's own), so what reaches the server is exactly what the product would send.
 */
import { batchResults, createBatch, retrieveBatch, type BatchRequest } from '../../../lib/claude/batches';
import { ClaudeClient, refuseRedirects } from '../../../lib/claude/client';

export interface ProbeInput {
  baseURL: string;
  apiKey: string;
  requests: BatchRequest[];
  /** how many retrieves at most before giving up (the server ends the batch after a few) */
  maxPolls: number;
}

export type ProbeOutcome =
  | { ok: true; id: string; polls: number; statuses: string[]; results: [string, string][] }
  | { ok: false; step: 'create' | 'retrieve' | 'results'; error: string; cause: string | null };

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

async function probe({ baseURL, apiKey, requests, maxPolls }: ProbeInput, fetch: Fetch): Promise<ProbeOutcome> {
  const client = new ClaudeClient({
    apiKey,
    baseURL,
    defaultHeaders: {},
    fetch: refuseRedirects(fetch),
    timeout: 20_000,
  });
  let step: 'create' | 'retrieve' | 'results' = 'create';
  try {
    let batch = await createBatch(client, requests);
    const statuses = [batch.processing_status as string];
    step = 'retrieve';
    let polls = 0;
    while (batch.processing_status !== 'ended' && polls < maxPolls) {
      batch = await retrieveBatch(client, batch.id);
      polls++;
      statuses.push(batch.processing_status);
    }
    step = 'results';
    const results = await batchResults(client, batch);
    return { ok: true, id: batch.id, polls, statuses, results: results.map((r) => [r.custom_id, r.result.type]) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const cause = e.cause instanceof Error ? `${e.cause.name}: ${e.cause.message}` : null;
    return { ok: false, step, error: `${e.name}: ${e.message}`, cause };
  }
}

(globalThis as unknown as { __paceBatchProbe: typeof probe }).__paceBatchProbe = probe;
