/** Anthropic's pause is forgotten for a new key or base URL, and lifted by "Try now". */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetWaitOnNewBaseURL } from '@/lib/background/base-url-watch';
import { createHandlers } from '@/lib/background/handlers';
import { addExchange } from '@/lib/chat/conversation-store';
import { admit, clearServerWait, pauseAll, readPause, readServerLimits, saveServerLimits } from '@/lib/limits/limiter-store';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { settingsItem } from '@/lib/storage/settings';
import { handlerDeps } from './handler-deps';

let db: PaceDB;
const now = Date.now();
const pause = { until: now + 28 * 24 * 3600_000, reason: 'spend_limit' as const, message: 'Spend limit reached.' };
const server = { limit: 50, remaining: 0, reset: now + 3600_000, observedAt: now };

beforeEach(async () => {
  db = new PaceDB(`server-wait-${Math.random()}`);
  await pauseAll(db, pause);
  await saveServerLimits(db, server);
});
afterEach(async () => {
  await db.delete();
});

describe('clearServerWait', () => {
  it("drops the pause and Anthropic's figures, and says whether there were any", async () => {
    const ex = await addExchange(db, { conversationId: null, text: 'hi', now, newId: () => crypto.randomUUID(), model: 'm' });
    expect(await admit(db, now, ex.assistantMessageId)).toMatchObject({ ok: false, reason: 'server' });
    expect(await clearServerWait(db)).toBe(true);
    expect(await readPause(db)).toBe(null);
    expect(await readServerLimits(db)).toBe(null);
    // The next request goes, counted as usual.
    expect(await admit(db, now, ex.assistantMessageId)).toEqual({ ok: true });
    expect(await clearServerWait(db)).toBe(false);
  });
});

describe('handlers', () => {
  const make = () => {
    const pump = vi.fn(async () => undefined);
    return { pump, h: createHandlers(handlerDeps(db, 'http://127.0.0.1:1', { pump })) };
  };

  it('queue.tryNow lifts the pause and runs the queue', async () => {
    const { h, pump } = make();
    await expect(h['queue.tryNow']({})).resolves.toEqual({ cleared: true });
    expect(await readPause(db)).toBe(null);
    expect(await readServerLimits(db)).toBe(null);
    expect(pump).toHaveBeenCalledTimes(1);
  });

  it('a key saved or removed forgets the pause the old key earned', async () => {
    const { h } = make();
    await h['key.save']({ key: 'sk-ant-new-key-1234', remember: 'device', passphrase: null });
    expect(await readPause(db)).toBe(null);
    await pauseAll(db, pause);
    await h['key.remove']({});
    expect(await readPause(db)).toBe(null);
  });

  it('a refused key keeps the pause', async () => {
    const { h } = make();
    await expect(h['key.save']({ key: 'sk ant', remember: 'device', passphrase: null })).rejects.toThrow();
    expect(await readPause(db)).toEqual(pause);
  });
});

describe('a new base URL', () => {
  it('forgets the pause and runs the queue; other settings changes keep it', async () => {
    await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: 'https://gateway-a.example' });
    const pump = vi.fn();
    const stop = forgetWaitOnNewBaseURL({ settings: settingsItem, db, pump });
    try {
      await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: 'https://gateway-a.example', maxTokens: 999 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await readPause(db)).toEqual(pause);
      expect(pump).not.toHaveBeenCalled();
      await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: 'https://gateway-b.example', maxTokens: 999 });
      await vi.waitFor(() => expect(pump).toHaveBeenCalledTimes(1));
      expect(await readPause(db)).toBe(null);
      expect(await readServerLimits(db)).toBe(null);
    } finally {
      stop();
    }
  });
});
