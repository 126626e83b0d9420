/** Deps for createHandlers in tests: a real PaceDB, the real SDK client, a saved key and the given settings. */
import type { ChatRunner } from '@/lib/queue/chat-runner';
import type { HandlerDeps } from '@/lib/background/handlers';
import { createClaudeClient } from '@/lib/claude/client';
import { PaceFailure, type KeyStatus } from '@/lib/protocol';
import type { PaceError } from '@/lib/storage/rows';
import { DEFAULT_SETTINGS, type Settings } from '@/lib/settings/validate';
import type { PaceDB } from '@/lib/storage/db';
import { TEST_KEY } from '../../../support/claude-server';

export function handlerDeps(
  db: PaceDB,
  baseURL: string,
  overrides: Omit<Partial<HandlerDeps>, 'settings'> & { settings?: Partial<Settings> } = {},
): HandlerDeps {
  const { settings, ...rest } = overrides;
  const runner: Pick<ChatRunner, 'stop' | 'isActive'> = { stop: () => false, isActive: () => false };
  const status: KeyStatus = {
    hasKey: true,
    last4: TEST_KEY.slice(-4),
    demo: false,
    remember: 'device',
    sealed: false,
    locked: false,
  };
  return {
    db,
    runner,
    pump: async () => undefined,
    settings: async () => ({ ...DEFAULT_SETTINGS, baseURL, ...settings }),
    credentials: async () => ({ apiKey: TEST_KEY, baseURL, demo: false }),
    createClient: createClaudeClient,
    keys: {
      status: async () => status,
      save: async () => status,
      unlock: async () => ({ ok: true, status }),
      remove: async () => ({ ...status, hasKey: false, last4: null, remember: null }),
      saved: async () => TEST_KEY,
      blocker: async () => null,
      // The user has confirmed the local server as a gateway, as OptionsPage.connect does in the browser.
      origins: async () => [new URL(baseURL).origin],
    },
    rememberModels: async () => undefined,
    keyTestTimeoutMs: 300,
    countTimeoutMs: 1000,
    ...rest,
  };
}

/** Every row of every table, to compare before and after a refused request. */
export async function snapshot(db: PaceDB): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of db.tables) out[table.name] = await table.toArray();
  return out;
}

/** The refusal a handler rejected with; fails the test if it resolved or threw anything else. */
export async function failure(p: Promise<unknown>): Promise<PaceError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PaceFailure) return err.error;
    throw err;
  }
  throw new Error('expected a PaceFailure');
}
