import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import type { ModelInfo } from '@/lib/claude/models';
import type { Budget, GatewayBudgetRow, Limits, PaceError, PromptTemplate } from '@/lib/storage/rows';
import { createBackgroundClient, parseReply } from '@/lib/messaging/page-client';
import { paceError, paceEvent, replies } from '@/lib/messaging/replies';
import {
  parseRequest,
  PORT_NAME,
  REQUEST_TYPES,
  type Handlers,
  type KeyStatus,
  type PaceEvent,
  type ReplyOf,
  type RequestOf,
  type RequestType,
} from '@/lib/protocol';
import type { PageAttachment } from '@/lib/reach/page-text';
import type * as z from '@/lib/schema';
import type { BatchPrefs } from '@/lib/settings/batch-prefs';
import type { ChatPrefs } from '@/lib/settings/chat-prefs';
import type { UsagePrefs } from '@/lib/settings/usage-prefs';
import { DEFAULT_SETTINGS, type Settings } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { settingsItem } from '@/lib/settings/settings-items';
import type { ClaudeServer } from '../../support/claude-server';
import { portPair } from '../../support/fake-port';
import { createFakeSync } from '../../support/fake-sync';
import { ROOT, staticImports } from '../../support/module-graph';
import { useClaudeServer } from '../../support/use-claude-server';
import { testBackground } from './background/background-app';

describe('parseRequest', () => {
  it('accepts each well-formed request and keeps its id', () => {
    expect(
      parseRequest({ kind: 'request', id: 7, type: 'chat.send', payload: { conversationId: null, text: 'hi' } }),
    ).toEqual({
      ok: true,
      id: 7,
      request: { type: 'chat.send', payload: { conversationId: null, text: 'hi' } },
    });
    expect(parseRequest({ kind: 'request', id: 1, type: 'key.status' })).toMatchObject({
      ok: true,
      request: { type: 'key.status' },
    });
    expect(
      parseRequest({ kind: 'request', id: 2, type: 'key.test', payload: { key: null, baseURL: 'https://x' } }),
    ).toMatchObject({
      ok: true,
    });
  });

  it('refuses what is not a request, with no id to answer', () => {
    for (const raw of [
      null,
      'hello',
      42,
      [],
      { kind: 'reply', id: 1 },
      { kind: 'request' },
      { kind: 'request', id: 1.5 },
    ]) {
      const r = parseRequest(raw);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('bad_message');
    }
  });

  it('names an unknown type, including prototype keys', () => {
    for (const type of ['chat.delete', 'toString', '__proto__', 'constructor']) {
      const r = parseRequest({ kind: 'request', id: 3, type, payload: {} });
      expect(r).toMatchObject({ ok: false, id: 3, error: { code: 'unknown_message' } });
    }
  });

  it('says which field of a payload is wrong', () => {
    const r = parseRequest({ kind: 'request', id: 4, type: 'chat.send', payload: { conversationId: 5, text: 'x' } });
    expect(r).toMatchObject({
      ok: false,
      id: 4,
      error: { code: 'bad_message', message: expect.stringContaining('conversationId') as string },
    });
    const s = parseRequest({ kind: 'request', id: 5, type: 'chat.stop', payload: { messageId: '' } });
    expect(s).toMatchObject({ ok: false, error: { message: expect.stringContaining('messageId') as string } });
    const t = parseRequest({ kind: 'request', id: 6, type: 'key.save', payload: [] });
    expect(t).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('payload must be an object') as string },
    });
  });

  it('checks each field of key.save and key.unlock with its own message', () => {
    const save = (payload: object) => parseRequest({ kind: 'request', id: 8, type: 'key.save', payload });
    expect(save({ key: 'k', remember: 'session', passphrase: null })).toMatchObject({
      ok: true,
      request: { payload: { key: 'k', remember: 'session', passphrase: null } },
    });
    expect(save({ key: 'k', remember: 'device', passphrase: 'p' })).toMatchObject({ ok: true });
    for (const [payload, words] of [
      [{ remember: 'device', passphrase: null }, 'key must be a string'],
      [{ key: 'k', passphrase: null }, "remember must be 'device' or 'session'"],
      [{ key: 'k', remember: 'forever', passphrase: null }, "remember must be 'device' or 'session'"],
      [{ key: 'k', remember: 'device' }, 'passphrase must be a string or null'],
      [{ key: 'k', remember: 'device', passphrase: 42 }, 'passphrase must be a string or null'],
    ] as const) {
      expect(save(payload)).toMatchObject({
        ok: false,
        error: { code: 'bad_message', message: `key.save: ${words}.` },
      });
    }
    expect(parseRequest({ kind: 'request', id: 9, type: 'key.unlock', payload: { passphrase: 'p' } })).toMatchObject({
      ok: true,
    });
    expect(parseRequest({ kind: 'request', id: 9, type: 'key.unlock', payload: {} })).toMatchObject({
      ok: false,
      error: { message: 'key.unlock: passphrase must be a string.' },
    });
  });

  it('drops fields the schema does not declare, and lets any number through to the form check that names it', () => {
    expect(
      parseRequest({
        kind: 'request',
        id: 10,
        type: 'chat.stop',
        payload: { messageId: 'm1', extra: 'x', __proto__: { a: 1 } },
      }),
    ).toEqual({
      ok: true,
      id: 10,
      request: { type: 'chat.stop', payload: { messageId: 'm1' } },
    });
    const limits = { plan: 'custom', perMinute: Infinity, perMonth: Number.NaN, smooth: false, monthStart: 'utc' };
    expect(parseRequest({ kind: 'request', id: 11, type: 'limits.save', payload: limits })).toMatchObject({
      ok: true,
      request: { payload: limits },
    });
    expect(
      parseRequest({ kind: 'request', id: 12, type: 'limits.save', payload: { ...limits, perMonth: null } }),
    ).toMatchObject({
      ok: false,
      error: { message: 'limits.save: perMonth must be a string or a number.' },
    });
  });

  it('never throws, whatever arrives on the port', () => {
    fc.assert(
      fc.property(
        fc.record({
          kind: fc.constant('request'),
          id: fc.anything(),
          type: fc.oneof(fc.constantFrom(...REQUEST_TYPES), fc.string()),
          payload: fc.anything(),
        }),
        (raw) => {
          const r = parseRequest(raw);
          expect(typeof r.ok).toBe('boolean');
          if (!r.ok) expect(r.error.message.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});

const STATUS: KeyStatus = {
  hasKey: true,
  last4: 'abcd',
  demo: false,
  remember: 'device',
  sealed: false,
  locked: false,
};

/** A page client whose background answers every request with `reply` and can push anything. */
function clientAnswering(reply: (request: { id: number }) => unknown) {
  const pair = portPair(PORT_NAME, undefined);
  pair.background.port.onMessage.addListener((m) => pair.background.port.postMessage(reply(m as { id: number })));
  const log = vi.fn();
  const client = createBackgroundClient(() => pair.page.port, 5, log);
  return { client, log, push: (message: unknown) => pair.background.port.postMessage(message) };
}

describe('replies and events, parsed by the page', () => {
  it('refuses a malformed reply with an internal error naming the request and the field', async () => {
    const malformed = { ...STATUS, last4: 42 };
    expect(parseReply('key.status', { ok: true, data: malformed })).toEqual({
      ok: false,
      error: {
        code: 'internal',
        message:
          "Pace's background sent a reply to key.status that this page cannot read (data.last4: expected a string). Reload the page and try again.",
      },
    });
    const { client } = clientAnswering(({ id }) => ({ kind: 'reply', id, result: { ok: true, data: malformed } }));
    expect(await client.request('key.status', {})).toMatchObject({
      ok: false,
      error: { code: 'internal', message: expect.stringContaining('data.last4') as string },
    });
  });

  it('refuses a reply with a missing field, an unknown error code, or no ok', () => {
    const noHasKey: Partial<KeyStatus> = { ...STATUS };
    delete noHasKey.hasKey;
    for (const [type, result, why] of [
      ['key.status', { ok: true, data: noHasKey }, 'data.hasKey: expected true or false'],
      ['key.test', { ok: true, data: { models: [{ id: 'm' }] } }, 'data.models.0.displayName: expected a string'],
      ['key.status', { ok: false, error: { code: 'teapot', message: 'x' } }, 'error.code: expected one of'],
      ['key.status', { data: STATUS }, 'ok: expected true'],
      ['key.status', 'yes', 'expected an object'],
    ] as const) {
      expect(parseReply(type, result)).toMatchObject({
        ok: false,
        error: {
          code: 'internal',
          message: expect.stringContaining(`${type} that this page cannot read (${why}`) as string,
        },
      });
    }
  });

  it('passes a well-formed reply and refusal through, dropping what the schema does not declare', () => {
    expect(parseReply('key.status', { ok: true, data: { ...STATUS, extra: 1 } })).toEqual({ ok: true, data: STATUS });
    const refusal = {
      ok: false,
      error: { code: 'no_key', message: 'No API key is set.', action: 'open_options', fields: { key: 'Paste a key.' } },
    };
    expect(parseReply('chat.send', refusal)).toEqual(refusal);
    expect(parseReply('gateway.budget', { ok: true, data: null })).toEqual({ ok: true, data: null });
  });

  it('drops a malformed event with a warning and delivers the well-formed ones', async () => {
    const { client, log, push } = clientAnswering(() => null);
    const seen: PaceEvent[] = [];
    client.subscribe((e) => seen.push(e));
    push({ kind: 'event', event: { type: 'answer.progress', messageId: 'm', text: 42 } });
    push({ kind: 'event', event: { type: 'chat.close', conversationId: 'c' } });
    push({ kind: 'event', event: { type: 'notice', error: { code: 'budget', message: 'Over budget.' } } });
    push('noise');
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual([{ type: 'notice', error: { code: 'budget', message: 'Over budget.' } }]);
    expect(log).toHaveBeenCalledTimes(3);
  });

  it('infers the reply and event types from the schemas, equal to what the handlers return', () => {
    type Returned = { [K in RequestType]: Awaited<ReturnType<Handlers[K]>> };
    type Inferred = { [K in RequestType]: z.infer<(typeof replies)[K]> };
    expectTypeOf<Returned>().toEqualTypeOf<Inferred>();
    expectTypeOf<PaceEvent>().toEqualTypeOf<z.infer<typeof paceEvent>>();
    expectTypeOf<PaceError>().toEqualTypeOf<z.infer<typeof paceError>>();
    // The records other modules own, mirrored by the reply schemas.
    expectTypeOf<ReplyOf<'limits.save'>>().toEqualTypeOf<Limits>();
    expectTypeOf<ReplyOf<'limits.useLearned'>>().toEqualTypeOf<Limits>();
    expectTypeOf<ReplyOf<'settings.save'>>().toEqualTypeOf<Settings>();
    expectTypeOf<ReplyOf<'usagePrefs.save'>>().toEqualTypeOf<UsagePrefs>();
    expectTypeOf<ReplyOf<'chatPrefs.save'>>().toEqualTypeOf<ChatPrefs>();
    expectTypeOf<ReplyOf<'batchPrefs.save'>>().toEqualTypeOf<BatchPrefs>();
    expectTypeOf<ReplyOf<'budget.save'>>().toEqualTypeOf<Budget>();
    expectTypeOf<ReplyOf<'gateway.budget'>>().toEqualTypeOf<GatewayBudgetRow | null>();
    expectTypeOf<ReplyOf<'templates.save'>>().toEqualTypeOf<PromptTemplate[]>();
    expectTypeOf<ReplyOf<'page.read'>>().toEqualTypeOf<PageAttachment>();
    expectTypeOf<ReplyOf<'key.test'>>().toEqualTypeOf<{ models: ModelInfo[] }>();
  });

  it('keeps the reply and event schemas out of the worker', () => {
    const { files } = staticImports(join(ROOT, 'entrypoints/background.ts'));
    expect(files.has(join(ROOT, 'lib/protocol.ts'))).toBe(true);
    expect([...files].filter((f) => f.endsWith('lib/messaging/replies.ts'))).toEqual([]);
  });
});

describe("the background's real replies", () => {
  let claude: ClaudeServer;
  let db: PaceDB;
  useClaudeServer((s) => (claude = s));
  beforeEach(async () => {
    db = new PaceDB(`protocol-${Math.random()}`);
    await settingsItem.setValue({
      ...DEFAULT_SETTINGS,
      baseURL: claude.url,
      model: 'claude-haiku-4-5',
      maxTokens: 100,
    });
  });
  afterEach(async () => {
    db.close();
    await db.delete();
  });

  it('parse, every request type, each to exactly what was sent', async () => {
    claude.script({ kind: 'text', text: 'Hello from the queue.' });
    const fakeSync = createFakeSync();
    const { app } = testBackground(db, claude.url, {
      sync: fakeSync.device({ identity: { id: 'this-one', name: 'Here' } }),
    });
    // What the fake browser lacks for the templates' menu and the page reading.
    vi.spyOn(fakeBrowser.contextMenus, 'removeAll').mockResolvedValue(undefined);
    vi.spyOn(fakeBrowser.contextMenus, 'create').mockReturnValue('menu');
    vi.spyOn(fakeBrowser.tabs, 'query').mockResolvedValue([
      { id: 7, windowId: 3, title: 'Bread', url: 'https://example.org/bread' },
    ] as never);
    const pageText = { title: 'Bread that keeps', text: 'The article text.' };
    vi.spyOn(fakeBrowser.scripting, 'executeScript').mockImplementation(
      async (o) => [{ result: 'files' in o ? undefined : pageText }] as never,
    );
    const pair = portPair(PORT_NAME, { id: fakeBrowser.runtime.id, url: fakeBrowser.runtime.getURL('/popup.html') });
    app.onConnect(pair.background.port);
    const replied = new Map<number, (result: unknown) => void>();
    const events: unknown[] = [];
    pair.page.port.onMessage.addListener((m: { kind: string; id: number; result: unknown; event: unknown }) => {
      if (m.kind === 'reply') replied.get(m.id)?.(m.result);
      else events.push(m.event);
    });
    let id = 0;
    const results = new Map<RequestType, unknown>();
    async function ask<K extends RequestType>(type: K, payload: RequestOf<K>): Promise<unknown> {
      const result = new Promise((resolve) => replied.set(++id, resolve));
      pair.page.port.postMessage({ kind: 'request', id, type, payload });
      results.set(type, await result);
      return results.get(type);
    }

    const sent = (await ask('chat.send', { conversationId: null, text: 'hello' })) as { data: ReplyOf<'chat.send'> };
    const { conversationId, assistantMessageId: messageId } = sent.data;
    for (const end = performance.now() + 10_000; (await db.messages.get(messageId))?.status !== 'done';) {
      if (performance.now() > end) throw new Error('the answer never finished');
      await new Promise((r) => setTimeout(r, 20));
    }
    await ask('chat.prepare', { conversationId });
    await ask('chat.stop', { messageId });
    await ask('chat.retry', { messageId });
    await ask('conversation.rename', { conversationId, title: 'Greeting' });
    await ask('conversation.chooseModel', { conversationId, model: 'claude-haiku-4-5' });
    await ask('chatPrefs.save', { keepDays: '30', theme: 'dark' });
    await ask('key.status', {});
    await ask('key.test', { key: null, baseURL: claude.url });
    await ask('key.save', { key: 'sk-ant-api03-protocol-test-key', remember: 'session', passphrase: null });
    await ask('key.unlock', { passphrase: 'p' });
    await ask('queue.tryNow', {});
    await ask('queue.clear', {});
    await ask('cache.clear', {});
    await ask('limits.save', {
      plan: 'custom',
      perMinute: '10',
      perMonth: '100',
      smooth: false,
      monthStart: 'utc',
      inputPerMinute: null,
    });
    await ask('limits.useLearned', {});
    await ask('settings.save', {
      settings: {
        model: 'claude-haiku-4-5',
        maxTokens: 100,
        systemPrompt: '',
        baseURL: claude.url,
        combineWaiting: false,
        extraHeaders: null,
        promptCache: '5m',
      },
      confirmOrigin: false,
    });
    await ask('usagePrefs.save', {
      cacheHours: '24',
      retentionDays: '90',
      alerts: { at80: true, at95: true, at100: true, refused: false },
    });
    await ask('batchPrefs.save', {
      sendLater: false,
      gatherSeconds: '60',
      firstPollSeconds: '60',
      maxPollSeconds: '600',
    });
    await ask('key.confirmOrigin', { origin: new URL(claude.url).origin });
    await ask('gateway.budget', {});
    await ask('budget.save', {
      monthlyUsd: '10',
      dailyUsd: '',
      whenReached: 'pause',
      unknownPriceUsd: '',
      badge: 'dollars',
    });
    await ask('templates.save', { templates: [{ title: 'Explain', prompt: 'Explain this.' }] });
    await ask('page.read', {});
    await fakeSync.deliver({
      'pace.device.other': { v: 1, name: 'Desktop', updatedAt: Date.now(), months: {} },
    });
    await ask('sync.devices', {});
    await ask('sync.rename', { name: 'Laptop' });
    await ask('sync.forget', { id: 'other' });
    await ask('sync.settings', { enabled: true });
    const exported = (await ask('settings.export', {})) as { data: ReplyOf<'settings.export'> };
    await ask('settings.import', { text: exported.data.text });
    app.sync?.devices.stop();
    await ask('conversation.delete', { conversationId });
    await ask('conversation.deleteAll', {});
    await ask('key.remove', {});

    expect([...results.keys()].sort()).toEqual([...REQUEST_TYPES].sort());
    for (const [type, result] of results) expect(parseReply(type, result), type).toEqual(result);
    // Refusals parse too, but here each request is answered.
    expect([...results].filter(([, r]) => !(r as { ok: boolean }).ok)).toEqual([]);
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(paceEvent.safeParse(event)).toEqual({ success: true, data: event });
  });
});
