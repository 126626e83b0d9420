import { useState } from 'react';
import { adoptEarlyQuota, EARLY_QUOTA_ID, EMPTY_QUOTA_ROW } from './early-quota';

/**
 * The quota line the early script drew (early-quota.ts), kept where QuotaBar will draw until the
 * live quota is read: React's first draw replaces the page's markup, and the line would otherwise
 * go blank for the time Dexie loads and reads. If the early figures are not read yet, the early
 * script fills this line when they are (it finds it by its id).
 */
export function EarlyQuota() {
  const [html] = useState(() => adoptEarlyQuota());
  return (
    <section
      className="quota"
      id={EARLY_QUOTA_ID}
      aria-label="Requests left"
      // Filled already: the early script leaves it as it is.
      data-filled={html === EMPTY_QUOTA_ROW ? undefined : ''}
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}
