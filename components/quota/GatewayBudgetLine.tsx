import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useState } from 'react';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { getDb } from '@/lib/storage/db';
import { gatewayBudgetText, readGatewayBudget } from '@/lib/usage/gateway-budget';
import type { GatewayBudgetRow } from '@/lib/storage/rows';

/**
 * "Team gateway: $12.40 of $50 left, resets 1 Dec", under the quota while the base URL is a team
 * gateway that tells its budget (LiteLLM's /key/info). Asks the background once when the popup
 * opens (it asks the gateway at most once a minute), then follows the stored figure live, as the
 * background refreshes it after answers. Nothing shows for Anthropic's API or a gateway without one.
 */
export function GatewayBudgetLine({ client }: { client: BackgroundClient }) {
  // The background's answer says which gateway is current: a row kept for another one is not shown.
  const [current, setCurrent] = useState<GatewayBudgetRow | null>(null);
  useEffect(() => {
    void client.request('gateway.budget', {}).then((r) => setCurrent(r.ok ? r.data : null));
  }, [client]);
  const stored = useLiveQuery(() => readGatewayBudget(getDb()), []);
  const row = stored && current && stored.baseURL === current.baseURL ? stored : current;
  if (!row?.budget) return null;
  return (
    <div className="quota quota-row" data-testid="gateway-budget">
      <span>{gatewayBudgetText(row.budget)}</span>
    </div>
  );
}
