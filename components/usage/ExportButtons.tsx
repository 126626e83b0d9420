import { useState } from 'react';
import { getDb } from '@/lib/storage/db';
import { FieldError } from '@/components/ui/FieldError';
import { download } from '@/components/ui/download';
import { exportFileName, usageToCsv, usageToJson } from '@/lib/usage/usage-export';
import { readUsageRows } from '@/lib/usage/read-usage-rows';

/** Every ledger row (not only the totals) as a CSV or JSON file. */
export function ExportButtons() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function exportAs(kind: 'csv' | 'json') {
    setBusy(true);
    setError(null);
    try {
      const rows = await readUsageRows(getDb());
      const text = kind === 'csv' ? usageToCsv(rows) : usageToJson(rows);
      download(text, kind === 'csv' ? 'text/csv;charset=utf-8' : 'application/json', exportFileName(Date.now(), kind));
    } catch (e) {
      setError(`Could not export the usage: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="usage-export">
      <button type="button" disabled={busy} onClick={() => void exportAs('csv')}>
        Export CSV
      </button>
      <button type="button" disabled={busy} onClick={() => void exportAs('json')}>
        Export JSON
      </button>
      <FieldError error={error} />
    </div>
  );
}
