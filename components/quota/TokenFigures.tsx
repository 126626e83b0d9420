import { formatCount } from '@/lib/limits/format';
import type { QueueView, TokenMinute } from '@/lib/queue/queue-view';

const left = (m: TokenMinute) => Math.max(0, m.limit - m.used);

/** The popup's line for the token limits, when any is set: what is left of each this rolling minute. */
export function TokenFigures({ tokens }: { tokens: QueueView['tokens'] }) {
  const parts = [
    tokens.input && `${formatCount(left(tokens.input))}/${formatCount(tokens.input.limit)} input`,
    tokens.output && `${formatCount(left(tokens.output))}/${formatCount(tokens.output.limit)} output`,
  ].filter((p): p is string => typeof p === 'string');
  if (parts.length === 0) return null;
  return (
    <div className="quota-row" data-testid="quota-tokens">
      <span>Tokens left this minute: {parts.join(' · ')}</span>
    </div>
  );
}
