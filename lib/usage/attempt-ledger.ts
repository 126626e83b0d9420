/**
 * An attempt's row in the usage ledger, as the runner ends it: its tokens, its time to the first
 * words, and its cost (Pace's estimate, or the gateway's own figure beside it). A failure to write
 * it is logged and never affects the answer.
 */
import type { PaceDB, TokenUsage, UsageRow } from '../storage/db';
import type { AssembledAnswer } from '../claude/stream';
import { recordUsage, settleUsage } from './ledger-store';
import { costBreakdown, type CacheTtl } from './prices';

type Log = (message: string, detail?: unknown) => void;

/** Ends the ledger row written when the send was admitted (`usageId`), or adds one for a send admitted without it. */
export async function recordAttempt(
  db: PaceDB,
  usageId: number | undefined,
  row: Omit<UsageRow, 'id' | 'costUsd'>,
  priced: { cacheTtl: CacheTtl; gatewayCost: number | null },
  log: Log,
): Promise<void> {
  const cost = costBreakdown(row.model, row.usage, { cacheTtl: priced.cacheTtl });
  const ended = {
    ...row,
    costUsd: cost?.total ?? null,
    inputCostUsd: cost?.input ?? null,
    promptCacheSavedUsd: cost?.promptCacheSaved ?? null,
    ...gatewayPriced(priced.gatewayCost, cost),
  };
  if (usageId === undefined) {
    await recordUsage(db, ended).catch((err: unknown) => log('could not record usage', err));
    return;
  }
  await endUsage(db, usageId, ended, log);
}

/** Ends a send's ledger row if it is still in flight. */
export async function endUsage(db: PaceDB, usageId: number, ended: Partial<Omit<UsageRow, 'id' | 'at'>>, log: Log): Promise<void> {
  await settleUsage(db, usageId, ended).catch((err: unknown) => log('could not record usage', err));
}

/**
 * The gateway's own figure for a request's cost, in place of Pace's estimate, marked as the
 * gateway's; the prompt's part keeps the estimate's share of it (unknown when the estimate is).
 * The estimate stays beside it: the spend budget counts the higher of the two.
 */
function gatewayPriced(gatewayCost: number | null, estimate: ReturnType<typeof costBreakdown>): Partial<Pick<UsageRow, 'costUsd' | 'inputCostUsd' | 'costFrom' | 'listCostUsd'>> {
  if (gatewayCost === null) return {};
  const share = estimate && estimate.total > 0 ? estimate.input / estimate.total : null;
  return { costUsd: gatewayCost, inputCostUsd: share === null ? null : gatewayCost * share, costFrom: 'gateway', listCostUsd: estimate?.total ?? null };
}

/** An answer's token counts, as the ledger and the cache keep them. */
export function tokensOf(a: AssembledAnswer): TokenUsage {
  return { inputTokens: a.inputTokens, outputTokens: a.outputTokens, cacheReadTokens: a.cacheReadTokens, cacheCreationTokens: a.cacheCreationTokens };
}
