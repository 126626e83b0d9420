import { useLiveQuery } from 'dexie-react-hooks';
import { formatCount } from '@/lib/limits/format';
import { getDb } from '@/lib/storage/db';
import { readTokenPeaks, type TokenPeak } from '@/lib/usage/token-peaks';

const figure = (n: number | null) => (n === null ? '-' : formatCount(n));
const share = (p: TokenPeak, limit: number | null) => (limit ? ` (${Math.round((p.peak / limit) * 100)}%)` : '');

/** The usage page's table of tokens per minute at their peak, against Pace's limits and the key's. */
export function TokenPeaks() {
  const peaks = useLiveQuery(() => readTokenPeaks(getDb(), Date.now()), []);
  if (!peaks) return null;
  const rows = [
    ['Input', peaks.input],
    ['Output', peaks.output],
  ] as const;
  return (
    <section className="usage-card" aria-labelledby="token-peaks-title" data-testid="usage-token-peaks">
      <h2 id="token-peaks-title">Tokens per minute at their peak</h2>
      <table className="usage-table">
        <caption className="sr-only">
          The most input and output tokens sent or received in any minute of the last {peaks.days} days, against the
          limits
        </caption>
        <thead>
          <tr>
            <th scope="col">Tokens</th>
            <th scope="col">Peak minute</th>
            <th scope="col">Your limit</th>
            <th scope="col">The key&apos;s limit</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, p]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>
                {formatCount(p.peak)}
                {p.at !== null && <span className="hint"> ({new Date(p.at).toLocaleString()})</span>}
              </td>
              <td>
                {figure(p.limit)}
                {share(p, p.limit)}
              </td>
              <td>
                {figure(p.keyLimit)}
                {share(p, p.keyLimit)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">
        The last {peaks.days} days; input counts the prompt and prompt-cache writes, not cache reads.
      </p>
    </section>
  );
}
