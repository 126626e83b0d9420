import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LOCKED_ERROR, NO_KEY_ERROR } from '@/lib/claude/errors';
import { createHandlers, type HandlerDeps } from '@/lib/background/handlers';
import type { ModelInfo } from '@/lib/claude/models';
import { PaceFailure, REQUEST_TYPES, type KeyStatus } from '@/lib/protocol';
import { MAX_QUEUE } from '@/lib/queue/job-states';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { readBudget } from '@/lib/limits/budget-store';
import { readLimits, saveLimits, saveServerLimits } from '@/lib/limits/limiter-store';
import { monthWindow } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { PaceDB } from '@/lib/storage/db';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { failure, handlerDeps } from './handler-deps';

let server: ClaudeServer;
let db: PaceDB;
let remembered: ModelInfo[] | null;
let pumps: number;

useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`handlers-${Math.random()}`);
  remembered = null;
  pumps = 0;
});
afterEach(async () => {
  await db.delete();
});

const NO_KEY: KeyStatus = { hasKey: false, last4: null, demo: false, remember: null, sealed: false, locked: false };
const keyStatus = (key: string | null): KeyStatus =>
  key === null ? NO_KEY : { ...NO_KEY, hasKey: true, last4: key.slice(-4), remember: 'device' };

function keys(savedKey: string | null = TEST_KEY): HandlerDeps['keys'] {
  return {
    status: async () => keyStatus(savedKey),
    save: vi.fn(async (k: string) => keyStatus(k)),
    unlock: async () => ({ ok: false, reason: 'not_sealed' }),
    remove: async () => NO_KEY,
    saved: async () => savedKey,
    blocker: async () => (savedKey === null ? NO_KEY_ERROR : null),
    origins: async () => [new URL(server.url).origin],
  };
}

function make(overrides: Omit<Partial<HandlerDeps>, 'settings'> = {}, savedKey: string | null = TEST_KEY) {
  return createHandlers(
    handlerDeps(db, server.url, {
      pump: async () => {
        pumps += 1;
      },
      credentials: async () => (savedKey ? { apiKey: savedKey, baseURL: server.url, demo: false } : null),
      keys: keys(savedKey),
      rememberModels: async (m) => {
        remembered = m;
      },
      keyTestTimeoutMs: 2000,
      ...overrides,
    }),
  );
}

it('has a handler for every request type the protocol declares, and no other', () => {
  expect(Object.keys(make()).sort()).toEqual([...REQUEST_TYPES].sort());
});

describe('chat.send', () => {
  it('stores the message and queues its answer', async () => {
    const h = make();
    const r = await h['chat.send']({ conversationId: null, text: '  Hello  ' });
    expect(await db.jobs.get(r.assistantMessageId)).toMatchObject({
      state: 'queued',
      conversationId: r.conversationId,
      attempts: 0,
    });
    expect(pumps).toBe(1);
    expect((await db.messages.get(r.userMessageId))?.text).toBe('Hello');
  });

  it.each([
    ['', 'Type a message first.'],
    ['  \n ', 'Type a message first.'],
    ['x'.repeat(100_001), '100,001 characters'],
  ])('refuses %j before storing anything', async (text, words) => {
    const error = await failure(make()['chat.send']({ conversationId: null, text }));
    expect(error).toMatchObject({ code: 'invalid_input', field: 'text' });
    expect(error.message).toContain(words);
    expect(await db.messages.count()).toBe(0);
    expect(await db.jobs.count()).toBe(0);
  });

  it('without a key, says so and stores nothing (the page keeps the draft)', async () => {
    const error = await failure(make({}, null)['chat.send']({ conversationId: null, text: 'hi' }));
    expect(error).toMatchObject({ code: 'no_key', action: 'open_options' });
    expect(await db.messages.count()).toBe(0);
  });

  it('refuses a conversation that does not exist', async () => {
    const error = await failure(make()['chat.send']({ conversationId: 'gone', text: 'hi' }));
    expect(error).toMatchObject({ code: 'invalid_input', action: 'new_chat' });
  });
});

describe('room in the month and the queue', () => {
  it('refuses a new message when the month is used up, naming the reset, and stores nothing', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 10, perMonth: 2 });
    await db.counters.put({ key: monthWindow(Date.now(), 'utc').key, count: 2 });
    const error = await failure(make()['chat.send']({ conversationId: null, text: 'one more' }));
    expect(error.code).toBe('month_used_up');
    expect(error.message).toMatch(/This month's 2 requests are used\. Sending resumes 1 \w{3}, 00:00 UTC\./);
    expect(await db.messages.count()).toBe(0);
  });

  it('refuses when the messages already waiting would use what is left of the month', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 10, perMonth: 2 });
    const h = make();
    await h['chat.send']({ conversationId: null, text: 'a' });
    await h['chat.send']({ conversationId: null, text: 'b' });
    expect((await failure(h['chat.send']({ conversationId: null, text: 'c' }))).code).toBe('month_used_up');
  });

  it('refuses beyond 100 waiting messages with a clear reason', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 10, perMonth: 1000 });
    const h = make();
    for (let i = 0; i < 100; i++) await h['chat.send']({ conversationId: null, text: `m${i}` });
    const error = await failure(h['chat.send']({ conversationId: null, text: 'one too many' }));
    expect(error).toMatchObject({ code: 'queue_full' });
    expect(error.message).toContain('100 messages are already waiting');
  });
});

describe('room in the month and the queue, under concurrent sends', () => {
  async function sendAtOnce(n: number) {
    const h = make();
    const results = await Promise.allSettled(
      Array.from({ length: n }, (_, i) => h['chat.send']({ conversationId: null, text: `m${i}` })),
    );
    const refused: string[] = [];
    for (const r of results)
      if (r.status === 'rejected')
        refused.push(r.reason instanceof PaceFailure ? r.reason.error.code : String(r.reason));
    return { stored: results.length - refused.length, refused };
  }

  it('120 sends at once against an empty queue: exactly 100 stored, the rest refused as queue_full with nothing stored', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 10, perMonth: 1000 });
    const { stored, refused } = await sendAtOnce(120);
    expect(stored).toBe(MAX_QUEUE);
    expect(refused).toEqual(Array.from({ length: 120 - MAX_QUEUE }, () => 'queue_full'));
    expect([await db.jobs.count(), await db.conversations.count(), await db.messages.count()]).toEqual([
      MAX_QUEUE,
      MAX_QUEUE,
      2 * MAX_QUEUE,
    ]);
  });

  it('120 sends at once with 30 requests left in the month: exactly 30 stored, the rest refused as month_used_up', async () => {
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 10, perMonth: 40 });
    await db.counters.put({ key: monthWindow(Date.now(), 'utc').key, count: 10 });
    const { stored, refused } = await sendAtOnce(120);
    expect(stored).toBe(30);
    expect(refused).toEqual(Array.from({ length: 90 }, () => 'month_used_up'));
    expect([await db.jobs.count(), await db.conversations.count(), await db.messages.count()]).toEqual([30, 30, 60]);
  });
});

describe('limits.useLearned', () => {
  it("refuses before any answer brought the key's limits, then makes them Pace's own and runs the queue", async () => {
    const refused = await failure(make()['limits.useLearned']({}));
    expect(refused.code).toBe('invalid_input');
    expect(refused.message).toMatch(/has not seen this key's limits yet/);
    await saveLimits(db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 5, perMonth: 900, smooth: true });
    const figure = { limit: 80_000, remaining: 79_000, reset: Date.now() + 1_000 };
    await saveServerLimits(db, {
      limit: 50,
      remaining: 49,
      reset: Date.now() + 1_000,
      observedAt: Date.now(),
      inputTokens: figure,
      outputTokens: { ...figure, limit: 16_000 },
    });
    const r = await make()['limits.useLearned']({});
    expect(r).toEqual({
      plan: 'custom',
      perMinute: 50,
      perMonth: 900,
      smooth: true,
      monthStart: 'utc',
      inputPerMinute: 80_000,
      outputPerMinute: 16_000,
    });
    expect(await readLimits(db)).toEqual(r);
    expect(pumps).toBe(1);
  });
});

describe('limits.save', () => {
  it('saves valid limits and runs the queue at once', async () => {
    const r = await make()['limits.save']({
      plan: 'custom',
      perMinute: '3',
      perMonth: '100',
      smooth: true,
      monthStart: 'local',
    });
    expect(r).toEqual({ plan: 'custom', perMinute: 3, perMonth: 100, smooth: true, monthStart: 'local' });
    expect(await readLimits(db)).toEqual(r);
    expect(pumps).toBe(1);
  });

  it('a named plan takes its own figures', async () => {
    const r = await make()['limits.save']({
      plan: 'paid',
      perMinute: '1',
      perMonth: '1',
      smooth: false,
      monthStart: 'utc',
    });
    expect(r).toMatchObject({ perMinute: 60, perMonth: 250_000 });
  });

  it.each([
    [{ perMinute: '-3', perMonth: '100' }, 'perMinute', 'must be at least 1 (got -3)'],
    [{ perMinute: '2.5', perMonth: '100' }, 'perMinute', 'whole number'],
    [{ perMinute: '10', perMonth: '5' }, 'perMonth', 'below the per-minute one'],
    [{ perMinute: '10', perMonth: '' }, 'perMonth', 'Enter requests per month'],
  ])('refuses %o with a message for %s and saves nothing', async (figures, field, words) => {
    const error = await failure(
      make()['limits.save']({ plan: 'custom', smooth: false, monthStart: 'utc', ...figures }),
    );
    expect(error.code).toBe('invalid_input');
    expect(error.fields?.[field as 'perMinute']).toContain(words);
    expect(await readLimits(db)).toEqual(DEFAULT_LIMITS);
  });
});

describe('budget.save', () => {
  const input = { monthlyUsd: '20', dailyUsd: '2.50', whenReached: 'warn', unknownPriceUsd: '', badge: 'dollars' };

  it('saves a valid budget as its own row and runs the queue at once', async () => {
    const r = await make()['budget.save'](input);
    expect(r).toEqual({ monthlyUsd: 20, dailyUsd: 2.5, whenReached: 'warn', unknownPriceUsd: null, badge: 'dollars' });
    expect(await readBudget(db)).toEqual(r);
    expect(await readLimits(db)).toEqual(DEFAULT_LIMITS);
    expect(pumps).toBe(1);
  });

  it.each([
    ['monthlyUsd', '-3', 'cannot be negative'],
    ['monthlyUsd', 'abc', 'must be an amount in US dollars'],
    ['dailyUsd', '1e309', 'must be an amount in US dollars'],
    ['unknownPriceUsd', '99999', 'can be at most $1,000.00'],
  ])('refuses %s = %s with a message for that field and saves nothing', async (field, value, words) => {
    const error = await failure(make()['budget.save']({ ...input, [field]: value }));
    expect(error.code).toBe('invalid_input');
    expect(error.fields?.[field]).toContain(words);
    expect(await readBudget(db)).toBeNull();
    expect(pumps).toBe(0);
  });
});

describe('chat.retry', () => {
  it('resets a failed answer and queues it again', async () => {
    const h = make();
    const r = await h['chat.send']({ conversationId: null, text: 'hi' });
    await db.messages.update(r.assistantMessageId, {
      status: 'error',
      text: 'part',
      error: { code: 'overloaded', message: 'x' },
    });
    await db.jobs.update(r.assistantMessageId, { state: 'failed', attempts: 1 });
    await h['chat.retry']({ messageId: r.assistantMessageId });
    const reset = await db.messages.get(r.assistantMessageId);
    expect(reset).toMatchObject({ status: 'pending', text: '' });
    expect(reset).not.toHaveProperty('error');
    expect(await db.jobs.get(r.assistantMessageId)).toMatchObject({ state: 'queued', attempts: 1 });
  });
  async function failedAnswer(h: ReturnType<typeof make>) {
    const r = await h['chat.send']({ conversationId: null, text: 'hi' });
    await db.messages.update(r.assistantMessageId, {
      status: 'error',
      text: 'part',
      error: { code: 'overloaded', message: 'x' },
    });
    await db.jobs.update(r.assistantMessageId, { state: 'failed', attempts: 1 });
    return r.assistantMessageId;
  }

  it('two retries of the same finished answer at once (a double click): one is queued, the other refused as busy', async () => {
    const h = make();
    const id = await failedAnswer(h);
    pumps = 0;
    const results = await Promise.allSettled([h['chat.retry']({ messageId: id }), h['chat.retry']({ messageId: id })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(PaceFailure);
    expect((refused?.reason as PaceFailure).error).toMatchObject({
      code: 'busy',
      message: 'This answer is still queued or being written. Stop it first.',
    });
    expect(await db.jobs.get(id)).toMatchObject({ state: 'queued', attempts: 1 });
    expect(pumps).toBe(1);
  });

  it('a retry is refused when the answer was retried and finished again after it looked: one click, one request', async () => {
    const first = make();
    const id = await failedAnswer(first);
    // The second click's retry reads the finished job, then is held (here: reading the settings for the size check)...
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reading!: () => void;
    const looked = new Promise<void>((resolve) => (reading = resolve));
    const second = createHandlers({
      ...handlerDeps(db, server.url),
      settings: async () => {
        reading();
        await held;
        return { ...DEFAULT_SETTINGS, baseURL: server.url };
      },
    });
    const late = second['chat.retry']({ messageId: id });
    await looked;
    // ...while the first click's retry is queued, sent and finished.
    await first['chat.retry']({ messageId: id });
    await db.jobs.update(id, { state: 'done', attempts: 2 });
    release();
    expect(await failure(late)).toMatchObject({ code: 'busy' });
    expect(await db.jobs.get(id)).toMatchObject({ state: 'done', attempts: 2 });
  });

  it('refuses a user message or an unknown id', async () => {
    const h = make();
    const r = await h['chat.send']({ conversationId: null, text: 'hi' });
    expect((await failure(h['chat.retry']({ messageId: r.userMessageId }))).code).toBe('invalid_input');
    expect((await failure(h['chat.retry']({ messageId: 'nope' }))).code).toBe('invalid_input');
  });
});

describe('key.test, with the real SDK against the local server', () => {
  it('lists the models a valid key can use and remembers them', async () => {
    const r = await make()['key.test']({ key: TEST_KEY, baseURL: server.url });
    expect(r.models.map((m) => m.id)).toEqual([
      'claude-opus-4-7',
      'claude-sonnet-4-6',
      'claude-haiku-4-5',
      'claude-sonnet-5-5',
      'claude-opus-5-5',
      'claude-haiku-5-5',
    ]);
    expect(remembered).toEqual(r.models);
    const req = server.requests.find((q) => q.path.startsWith('/v1/models'));
    expect(req?.headers['authorization']).toBe(`Bearer ${TEST_KEY}`);
  });

  it('tests the saved key when the field is empty', async () => {
    await expect(make()['key.test']({ key: null, baseURL: server.url })).resolves.toHaveProperty('models');
  });

  it('says the key is wrong', async () => {
    const error = await failure(make()['key.test']({ key: 'sk-ant-wrong-key', baseURL: server.url }));
    expect(error).toMatchObject({ code: 'wrong_key', action: 'open_options' });
    expect(error.message).not.toContain('sk-ant-wrong-key');
  });

  it('says the organization has turned browser access off', async () => {
    const locked = await startClaudeServer({ browserAccess: false });
    try {
      const h = make({ keys: { ...keys(), origins: async () => [new URL(locked.url).origin] } });
      const error = await failure(h['key.test']({ key: TEST_KEY, baseURL: locked.url }));
      expect(error).toMatchObject({ code: 'browser_access_off' });
      expect(error.message).toContain('does not allow requests from a browser');
    } finally {
      await locked.close();
    }
  });

  it('says the base URL cannot be reached', async () => {
    const closed = await startClaudeServer();
    const url = closed.url;
    await closed.close();
    const h = make({ keys: { ...keys(), origins: async () => [new URL(url).origin] } });
    const error = await failure(h['key.test']({ key: TEST_KEY, baseURL: url }));
    expect(error).toMatchObject({ code: 'unreachable' });
    expect(error.message).toContain(url);
  });

  it('sends the saved key only to the saved base URL, never to one typed in the form and not saved', async () => {
    const typed = await startClaudeServer();
    try {
      // Even an origin the user once confirmed: the saved key goes where the settings say.
      const h = make({
        keys: { ...keys(), origins: async () => [new URL(server.url).origin, new URL(typed.url).origin] },
      });
      const error = await failure(h['key.test']({ key: null, baseURL: typed.url }));
      expect(error).toMatchObject({ code: 'invalid_input', field: 'baseURL' });
      expect(error.message).toBe(
        `The saved key is sent only to the saved base URL (${server.url}). Save the settings to use ${typed.url}, or paste the key to test it there.`,
      );
      expect(typed.requests).toEqual([]);
    } finally {
      await typed.close();
    }
  });

  it('sends no key, typed or saved, to an origin the user has not confirmed', async () => {
    const h = make({ keys: { ...keys(), origins: async () => [] } });
    for (const key of [TEST_KEY, null]) {
      const error = await failure(h['key.test']({ key, baseURL: server.url }));
      expect(error).toMatchObject({ code: 'origin_unconfirmed', field: 'baseURL', action: 'open_options' });
      expect(error.message).toContain(`Pace has not sent your API key to ${server.url}`);
      expect(error.message).toContain('Confirm it on the options page');
    }
    expect(server.requests).toEqual([]);
  });

  it('refuses a javascript: base URL without any request', async () => {
    const before = server.requests.length;
    const error = await failure(make()['key.test']({ key: TEST_KEY, baseURL: 'javascript:alert(1)' }));
    expect(error).toMatchObject({ code: 'invalid_input', field: 'baseURL' });
    expect(server.requests.length).toBe(before);
  });
});

describe('key.save', () => {
  it('saves a clean key and refuses a broken one with its reason', async () => {
    const h = make();
    await expect(
      h['key.save']({ key: ' sk-ant-new-key-1234 ', remember: 'device', passphrase: null }),
    ).resolves.toEqual(keyStatus('1234'));
    expect((await failure(h['key.save']({ key: 'sk ant', remember: 'device', passphrase: null }))).message).toContain(
      'spaces',
    );
  });

  it('hands the checked key, where to keep it and the passphrase to the key store, and runs the queue', async () => {
    const save = vi.fn(async (k: string) => keyStatus(k));
    const h = make({ keys: { ...keys(), save } });
    await h['key.save']({ key: ' sk-ant-new-key-1234 ', remember: 'device', passphrase: 'long enough' });
    expect(save).toHaveBeenCalledWith('sk-ant-new-key-1234', { remember: 'device', passphrase: 'long enough' });
    expect(pumps).toBe(1);
    const short = await failure(h['key.save']({ key: 'sk-ant-new-key-1234', remember: 'device', passphrase: 'short' }));
    expect(short).toMatchObject({ code: 'invalid_input', field: 'passphrase' });
    expect(save).toHaveBeenCalledTimes(1);
  });
});

describe('a key locked with a passphrase', () => {
  const locked = (): HandlerDeps['keys'] => ({
    ...keys(null),
    status: async () => ({ ...keyStatus('abcd'), sealed: true, locked: true }),
    blocker: async () => LOCKED_ERROR,
  });

  it('chat.send and chat.retry are refused as locked, not as missing, and store nothing', async () => {
    const h = make({ keys: locked() }, null);
    const error = await failure(h['chat.send']({ conversationId: null, text: 'hi' }));
    expect(error.code).toBe('locked');
    expect(error.message).toContain('Unlock it');
    expect(await db.messages.count()).toBe(0);
    const earlier = await make()['chat.send']({ conversationId: null, text: 'sent before the lock' });
    await db.jobs.update(earlier.assistantMessageId, { state: 'failed' });
    expect((await failure(h['chat.retry']({ messageId: earlier.assistantMessageId }))).code).toBe('locked');
    expect((await db.jobs.get(earlier.assistantMessageId))?.state).toBe('failed');
  });

  it('key.unlock turns a wrong passphrase into the message shown in the popup, and runs the queue when it opens', async () => {
    const unlock = vi.fn(async (p: string) =>
      p === 'right one'
        ? { ok: true as const, status: keyStatus('abcd') }
        : { ok: false as const, reason: 'wrong_passphrase' as const },
    );
    const h = make({ keys: { ...locked(), unlock } }, null);
    const error = await failure(h['key.unlock']({ passphrase: 'wrong one' }));
    expect(error).toMatchObject({ code: 'invalid_input', field: 'passphrase' });
    expect(error.message).toMatch(/^That passphrase does not unlock the saved key\./);
    expect(pumps).toBe(0);
    await expect(h['key.unlock']({ passphrase: 'right one' })).resolves.toEqual(keyStatus('abcd'));
    expect(pumps).toBe(1);
  });
});

describe('settings.save, usagePrefs.save and key.confirmOrigin: the one write path of the options page', () => {
  function prefs() {
    const written = { settings: [] as unknown[], usage: [] as unknown[], origins: [] as string[] };
    return {
      written,
      prefs: {
        saveSettings: async (v: unknown) => void written.settings.push(v),
        saveUsagePrefs: async (v: unknown) => void written.usage.push(v),
        confirmOrigin: async (o: string) => void written.origins.push(o),
      } as unknown as NonNullable<HandlerDeps['prefs']>,
    };
  }
  const form = { ...DEFAULT_SETTINGS, maxTokens: ' 2048 ', baseURL: 'https://api.anthropic.com/' };

  it('checks the settings in the background and saves the cleaned value', async () => {
    const { written, prefs: p } = prefs();
    const saved = await make({ prefs: p })['settings.save']({ settings: form, confirmOrigin: false });
    expect(saved).toMatchObject({ maxTokens: 2048, baseURL: 'https://api.anthropic.com' });
    expect(written.settings).toEqual([saved]);
  });

  it('saves the web searches per message, keeps the saved figure when none is sent, and refuses one out of 1 to 10', async () => {
    const { written, prefs: p } = prefs();
    const save = createHandlers(
      handlerDeps(db, 'https://api.anthropic.com', { prefs: p, settings: { webSearchMaxUses: 7 } }),
    )['settings.save'];
    const withoutFigure: Omit<typeof form, 'webSearchMaxUses'> & { webSearchMaxUses?: number } = { ...form };
    delete withoutFigure.webSearchMaxUses;
    expect(await save({ settings: { ...form, webSearchMaxUses: '5' }, confirmOrigin: false })).toMatchObject({
      webSearchMaxUses: 5,
    });
    expect(await save({ settings: withoutFigure, confirmOrigin: false })).toMatchObject({ webSearchMaxUses: 7 });
    expect(written.settings).toMatchObject([{ webSearchMaxUses: 5 }, { webSearchMaxUses: 7 }]);
    const error = await failure(save({ settings: { ...form, webSearchMaxUses: 11 }, confirmOrigin: false }));
    expect(error).toMatchObject({
      code: 'invalid_input',
      fields: { webSearchMaxUses: 'Web searches per message must be a whole number from 1 to 10 (got "11").' },
    });
    expect(written.settings).toHaveLength(2);
  });

  it('refuses invalid settings with every field named, and saves nothing', async () => {
    const { written, prefs: p } = prefs();
    const error = await failure(
      make({ prefs: p })['settings.save']({
        settings: { ...form, maxTokens: 'lots', baseURL: 'ftp://x' },
        confirmOrigin: false,
      }),
    );
    expect(error).toMatchObject({
      code: 'invalid_input',
      fields: { maxTokens: expect.any(String) as string, baseURL: expect.any(String) as string },
    });
    expect(written.settings).toEqual([]);
  });

  it('saves a gateway base URL with a key saved only with the user yes, recording it first', async () => {
    const { written, prefs: p } = prefs();
    const gateway = { ...form, baseURL: 'https://gateway.example/v1' };
    const refused = await failure(make({ prefs: p })['settings.save']({ settings: gateway, confirmOrigin: false }));
    expect(refused).toMatchObject({ code: 'origin_unconfirmed', field: 'baseURL' });
    expect(written).toEqual({ settings: [], usage: [], origins: [] });
    await make({ prefs: p })['settings.save']({ settings: gateway, confirmOrigin: true });
    expect(written.origins).toEqual(['https://gateway.example']);
    expect(written.settings).toHaveLength(1);
    // Without a key there is nothing to protect yet: the question is asked when a key is saved.
    await make({ prefs: p }, null)['settings.save']({
      settings: { ...form, baseURL: 'https://other.example' },
      confirmOrigin: false,
    });
    expect(written.settings).toHaveLength(2);
  });

  it("never sends one gateway's saved headers to another origin: the user replaces or removes them first", async () => {
    const { written, prefs: p } = prefs();
    const savedHeaders = 'x-team-token: secret-for-gateway-a';
    const deps = handlerDeps(db, 'https://gateway-a.example/v1', {
      prefs: p,
      keys: keys(TEST_KEY),
      settings: { extraHeaders: savedHeaders },
    });
    const save = createHandlers({
      ...deps,
      keys: { ...deps.keys, origins: async () => ['https://gateway-a.example', 'https://gateway-b.example'] },
    })['settings.save'];
    const moved = { ...form, baseURL: 'https://gateway-b.example/v1', extraHeaders: savedHeaders };
    const refused = await failure(save({ settings: moved, confirmOrigin: false }));
    expect(refused).toMatchObject({ code: 'invalid_input', field: 'extraHeaders' });
    expect(refused.message).toContain('saved for https://gateway-a.example and would go to https://gateway-b.example');
    expect(written.settings).toEqual([]);
    // Kept as saved (null: the page never handles their values): refused all the same.
    expect(await failure(save({ settings: { ...moved, extraHeaders: null }, confirmOrigin: false }))).toMatchObject({
      field: 'extraHeaders',
    });
    // Replaced, removed, or the same gateway: saved.
    const reply = await save({
      settings: { ...moved, extraHeaders: 'x-team-token: for-gateway-b-0123' },
      confirmOrigin: false,
    });
    // Saved as typed; the reply to the page carries the value masked, like the key.
    expect(written.settings).toMatchObject([{ extraHeaders: 'x-team-token: for-gateway-b-0123' }]);
    expect(reply.extraHeaders).toBe('x-team-token: ••••••0123');
    await save({ settings: { ...moved, extraHeaders: '' }, confirmOrigin: false });
    await save({
      settings: { ...moved, baseURL: 'https://gateway-a.example/v2', extraHeaders: null },
      confirmOrigin: false,
    });
    expect(written.settings).toHaveLength(3);
    // null kept the saved headers for the same gateway.
    expect(written.settings.at(-1)).toMatchObject({ extraHeaders: savedHeaders });
  });

  it('checks and saves the usage prefs, refusing bad figures by field', async () => {
    const { written, prefs: p } = prefs();
    const alerts = { at80: true, at95: false, at100: true, refused: true };
    expect(await make({ prefs: p })['usagePrefs.save']({ cacheHours: '0', retentionDays: 90, alerts })).toEqual({
      cacheHours: 0,
      retentionDays: 90,
      alerts,
    });
    const error = await failure(
      make({ prefs: p })['usagePrefs.save']({ cacheHours: '-1', retentionDays: '5', alerts }),
    );
    expect(error).toMatchObject({
      code: 'invalid_input',
      fields: { cacheHours: expect.any(String) as string, retentionDays: expect.any(String) as string },
    });
    expect(written.usage).toHaveLength(1);
  });

  it('records a confirmed gateway origin, and refuses anything that is not one', async () => {
    const { written, prefs: p } = prefs();
    await make({ prefs: p })['key.confirmOrigin']({ origin: 'https://gateway.example' });
    for (const origin of [
      'https://gateway.example/v1',
      'javascript:alert(1)',
      '',
      'https://api.anthropic.com',
      'http://gateway.example',
      'http://10.0.0.5:4000',
    ]) {
      expect(await failure(make({ prefs: p })['key.confirmOrigin']({ origin }))).toMatchObject({
        code: 'invalid_input',
      });
    }
    expect(written.origins).toEqual(['https://gateway.example']);
  });
});
