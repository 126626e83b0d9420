import { useLiveQuery } from 'dexie-react-hooks';
import { getDb } from '@/lib/storage/db';
import { allDevicesText, lastHeardText, readAllDevices } from '@/lib/sync/all-devices';
import { useNow } from '../ui/use-now';

/**
 * "This month on all your devices: ..." with when each other device was last heard from, shown once
 * another device has reported through browser sync; and the last sync error, if writing this
 * device's figures failed. In the popup and on the usage page.
 */
export function AllDevices() {
  const now = useNow(30_000);
  const minute = Math.floor(now / 60_000);
  const view = useLiveQuery(() => readAllDevices(getDb(), Date.now()), [minute]);
  if (!view) return null;
  const heard = lastHeardText(view, now);
  return (
    <>
      {(view.devices.length > 0 || view.total.requests > view.self.requests || view.total.usd > view.self.usd) && (
        <div
          className="quota-row all-devices"
          data-testid="all-devices"
          title={heard ? `Last heard from ${heard}` : undefined}
        >
          <span>{allDevicesText(view)}</span>
          {heard && (
            <small className="hint" data-testid="all-devices-heard">
              {' '}
              Last heard from {heard}. Sync takes seconds to minutes.
            </small>
          )}
        </div>
      )}
      {view.error && (
        <p className="quota-paused" role="status" data-testid="sync-warning">
          {view.error.message}
        </p>
      )}
    </>
  );
}
