/**
 * What this device keeps of sync in `storage.local` (never synced itself): its id and name, whether
 * its settings follow the user's other devices, and the time of the last synced settings it took.
 */
import { defineItem } from '../storage/item';
import type { DeviceIdentity, IdentityStore } from './device-sync';

interface SyncLocal {
  device: DeviceIdentity | null;
  /** false: "Keep settings on this device only". */
  settingsSync: boolean;
  /** updatedAt of the last settings taken from sync or written to it. */
  settingsAt: number;
}

const syncLocalItem = defineItem<SyncLocal>('local:sync', {
  fallback: { device: null, settingsSync: true, settingsAt: 0 },
  version: 1,
});

/** This device's id and name in `storage.local`. */
export const storedIdentity: IdentityStore = {
  get: async () => (await syncLocalItem.getValue()).device,
  set: async (device) => syncLocalItem.setValue({ ...(await syncLocalItem.getValue()), device }),
};

/** The settings switch and the last settings time, in `storage.local`. */
export const storedSettingsSyncState = {
  get: async () => {
    const { settingsSync, settingsAt } = await syncLocalItem.getValue();
    return { enabled: settingsSync, at: settingsAt };
  },
  set: async (next: { enabled: boolean; at: number }) =>
    syncLocalItem.setValue({ ...(await syncLocalItem.getValue()), settingsSync: next.enabled, settingsAt: next.at }),
};
