/**
 * An attempt's row in the usage ledger, as the runner ends it: its tokens, its time to the first
 * words, and its cost (Pace's estimate, or the gateway's own figure beside it). A failure to write
 * it is logged and never affects the answer.
 */
import type { PaceDB, TokenUsage, UsageRow } from '../storage/db';
import { SIZE_CAP_STOP, type AssembledAnswer } from '../claude/stream';
import { recordUsage, settleUsage } from './ledger-store';
import { costBreakdown, pricedModel, webSearchUsd, type CacheTtl } from './prices';

type Log = (message: string, detail?: unknown) => void;

/**
 * Ends the ledger row written when the send was admitted (`usageId`), or adds one for a send
 * admitted without it. `row.model` is the model the response named (or the one asked for); the
 * row is priced, and named, by the dearer of it and `priced.requested` (lib/usage/prices.ts
 * `pricedModel`). An answer that brought no usage at all (no prompt tokens: the API counts at
 * least one) was billed for something unknown: its cost is unknown and its budget reservation
 * stays as its spend.
 */
export async function recordAttempt(
  db: PaceDB,
  usageId: number | undefined,
  row: Omit<UsageRow, 'id' | 'costUsd'>,
  priced: { cacheTtl: CacheTtl; gatewayCost: number | null; requested?: string },
  log: Log,
): Promise<void> {
  const model =
    priced.requested === undefined
      ? row.model
      : pricedModel(priced.requested, row.model, row.usage, { cacheTtl: priced.cacheTtl });
  const answered = row.outcome === 'ok' || row.outcome === SIZE_CAP_STOP;
  const u = row.usage;
  // `row.usageUnknown`: the stream said something about the usage Pace could not believe (a search count of -3).
  const usageUnknown =
    row.usageUnknown === true || (answered && u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens === 0);
  const cost = usageUnknown ? null : costBreakdown(model, row.usage, { cacheTtl: priced.cacheTtl });
  const searched = (u.webSearches ?? 0) > 0;
  const ended = {
    ...row,
    model,
    costUsd: cost?.total ?? null,
    inputCostUsd: cost?.input ?? null,
    promptCacheSavedUsd: cost?.promptCacheSaved ?? null,
    ...(usageUnknown ? { usageUnknown: true } : {}),
    ...(searched || usageUnknown ? { webSearchUsd: usageUnknown ? null : webSearchUsd(u.webSearches) } : {}),
    ...gatewayPriced(priced.gatewayCost, cost),
  };
  if (usageId === undefined) {
    await recordUsage(db, ended).catch((err: unknown) => log('could not record usage', err));
    return;
  }
  await endUsage(db, usageId, ended, log);
}

/** Ends a send's ledger row if it is still in flight. */
export async function endUsage(
  db: PaceDB,
  usageId: number,
  ended: Partial<Omit<UsageRow, 'id' | 'at'>>,
  log: Log,
): Promise<void> {
  await settleUsage(db, usageId, ended).catch((err: unknown) => log('could not record usage', err));
}

/**
 * The gateway's own figure for a request's cost, in place of Pace's estimate, marked as the
 * gateway's; the prompt's part keeps the estimate's share of it (unknown when the estimate is).
 * The estimate stays beside it: the spend budget counts the higher of the two. The estimate
 * includes the web searches at $0.01 each, so a gateway figure that leaves them out never lowers
 * what the budget counts; `webSearchUsd` stays Pace's own figure for the searches.
 */
function gatewayPriced(
  gatewayCost: number | null,
  estimate: ReturnType<typeof costBreakdown>,
): Partial<Pick<UsageRow, 'costUsd' | 'inputCostUsd' | 'costFrom' | 'listCostUsd'>> {
  if (gatewayCost === null) return {};
  const share = estimate && estimate.total > 0 ? estimate.input / estimate.total : null;
  return {
    costUsd: gatewayCost,
    inputCostUsd: share === null ? null : gatewayCost * share,
    costFrom: 'gateway',
    listCostUsd: estimate?.total ?? null,
  };
}

/** An answer's token counts (thinking is in the output tokens), and its web searches when it ran any, as the ledger and the cache keep them. */
export function tokensOf(a: AssembledAnswer): TokenUsage {
  return {
    inputTokens: a.inputTokens,
    outputTokens: a.outputTokens,
    cacheReadTokens: a.cacheReadTokens,
    cacheCreationTokens: a.cacheCreationTokens,
    ...(a.webSearches > 0 ? { webSearches: a.webSearches } : {}),
  };
}
