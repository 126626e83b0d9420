import { useLiveQuery } from 'dexie-react-hooks';
import { useState } from 'react';
import { describeLearned } from '@/lib/limits/learned-limits';
import { readServerLimits } from '@/lib/limits/limiter-store';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { getDb } from '@/lib/storage/db';
import { useNow } from '../ui/use-now';
import { notSaved, SaveRow } from './form-parts';

/** What the API's headers say this key may do a minute, and one click to make that Pace's limits. */
export function LearnedLimits({ client }: { client: BackgroundClient }) {
  const server = useLiveQuery(() => readServerLimits(getDb()), []);
  const now = useNow(10_000);
  const [message, setMessage] = useState<string | null>(null);
  if (!server) return null;

  const use = async () => {
    const r = await client.request('limits.useLearned', {});
    setMessage(r.ok ? "Saved: Pace's limits are now the key's own." : notSaved(r.error.message));
  };
  return (
    <div className="learned" data-testid="learned-limits">
      <p>{describeLearned(server, now)}.</p>
      <SaveRow label="Use these limits" onSave={() => void use()} message={message} testId="learned-message" />
    </div>
  );
}
