/** What the page protocol's handlers (./index.ts) are given: the background's edges and the parts they call. */
import type { ClaudeClient, Credentials } from '../../claude/client';
import type { ModelInfo } from '../../claude/models';
import type { KeyStatus } from '../../protocol';
import type { AdmittedAtOnce } from '../../queue/send-at-once';
import type { UsagePrefs } from '../../settings/usage-prefs';
import type { Settings } from '../../settings/validate';
import type { PaceDB } from '../../storage/db';
import { storedPrefs, type StoredPrefs } from '../../settings/settings-items';
import type { PromptCacheMode } from '../../claude/prompt-cache';
import type { ChatRunner, ReadySend } from '../../queue/chat-runner';
import type { ReadAhead } from '../../queue/read-ahead';
import type { Reach } from '../../reach/reach-menus';
import type { UnlockResult } from '../../key/key-store';
import type { GatewayBudgetRow, PaceError } from '../../storage/rows';
import type { KeepKey } from '../../key/keep-keys';
import type { DeviceSync } from '../../sync/device-sync';
import type { SettingsSync } from '../../sync/settings-sync';

export interface HandlerDeps {
  db: PaceDB;
  runner: Pick<ChatRunner, 'stop' | 'isActive'>;
  /** Runs the queue after anything that changes it. */
  pump: () => Promise<void>;
  settings: () => Promise<Settings>;
  credentials: () => Promise<(Credentials & { demo: boolean }) | null>;
  createClient: (
    c: Credentials,
    extraHeaders?: Record<string, string>,
    watch?: (response: Response) => void,
  ) => ClaudeClient;
  keys: {
    status: () => Promise<KeyStatus>;
    save: (key: string, where: { remember: KeepKey; passphrase: string | null }) => Promise<KeyStatus>;
    unlock: (passphrase: string) => Promise<UnlockResult>;
    remove: () => Promise<KeyStatus>;
    saved: () => Promise<string | null>;
    /** Why the saved key cannot be used now (none, locked, a gateway not confirmed), or null. */
    blocker: () => Promise<PaceError | null>;
    /** The origins besides Anthropic's that the user confirmed may receive the key. */
    origins: () => Promise<string[]>;
  };
  rememberModels: (models: ModelInfo[]) => Promise<void>;
  /** Where checked settings, usage prefs and confirmed origins are written; extension storage by default. */
  prefs?: StoredPrefs;
  now?: () => number;
  newId?: () => string;
  keyTestTimeoutMs?: number;
  /** The model's context window in tokens; lib/claude/models by default. */
  contextWindow?: (model: string) => number;
  /** How long to wait for the API's exact token count before deciding from the estimate. */
  countTimeoutMs?: number;
  /** "Later, half price" (lib/batch/batch-runner.ts): gathered questions wake it; a batched answer's Stop cancels its batch. */
  batches?: { tick: () => Promise<void>; cancel: (jobId: string) => Promise<boolean> };
  /** A team gateway's budget for the key (lib/usage/gateway-key-info.ts); none without it. */
  gatewayBudget?: { refresh: (reason: 'asked') => Promise<GatewayBudgetRow | null> };
  /**
   * A new message the queue would send now is admitted in chat.send's own transaction and handed
   * to `start` once it has committed (lib/queue/send-at-once.ts); without this, every message waits for the queue's next run.
   */
  sendAtOnce?: {
    usagePrefs: () => Promise<Pick<UsagePrefs, 'cacheHours'>>;
    online: () => boolean;
    start: (admitted: AdmittedAtOnce, ready: Pick<ReadySend, 'creds' | 'settings' | 'storedMode' | 'request'>) => void;
    /** Resolves once the rate-limit figures that have arrived are written (lib/queue/wire-gate.ts): admission decides on them. */
    settled?: () => Promise<void>;
    /** The base URL's remembered prompt cache mode, read while the send's transaction runs rather than after it. */
    promptCacheMode?: (baseURL: string) => Promise<PromptCacheMode | undefined>;
    /** What a send needs, read while the user types (chat.prepare); without it, each send reads it. */
    readAhead?: Pick<ReadAhead, 'prepare' | 'take'>;
  };
  /** This device in browser sync and the settings that follow the user (lib/sync/); refused without it. */
  sync?: { devices: DeviceSync; settings: SettingsSync };
  /** The context menu's templates and "Ask about this page" (lib/reach/reach-menus.ts); refused without it. */
  reach?: Pick<Reach, 'saveTemplates' | 'readPage'>;
}

/** The deps as each handler sees them: the clock, the ids and the prefs' store filled in. */
export type Deps = HandlerDeps & Required<Pick<HandlerDeps, 'now' | 'newId' | 'prefs'>>;

export function withDefaults(deps: HandlerDeps): Deps {
  return {
    ...deps,
    now: deps.now ?? Date.now,
    newId: deps.newId ?? (() => crypto.randomUUID()),
    prefs: deps.prefs ?? storedPrefs,
  };
}
