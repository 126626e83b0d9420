import { describe, expect, it, vi } from 'vitest';
import { createPortServer, isOwnPage } from '@/lib/background/port-server';
import { createBackgroundClient } from '@/lib/messaging/page-client';
import { PaceFailure, PORT_NAME, type Handlers, type KeyStatus } from '@/lib/protocol';
import { portPair } from '../../../support/fake-port';

const EXT_ID = 'pace-ext-id';
const ORIGIN = 'chrome-extension://pace-ext-id/';
const ownPage = { id: EXT_ID, url: `${ORIGIN}popup.html` };
const SAVED: KeyStatus = { hasKey: true, last4: 'abcd', demo: false, remember: 'device', sealed: false, locked: false };

function handlers(overrides: Partial<Handlers> = {}): Handlers {
  const unused = async () => {
    throw new Error('not used here');
  };
  return {
    'chat.send': unused,
    'chat.prepare': unused,
    'chat.preview': unused,
    'conversation.setOptions': unused,
    'chat.stop': async ({ messageId }) => ({ stopped: messageId === 'running' }),
    'chat.retry': unused,
    'conversation.rename': unused,
    'conversation.delete': unused,
    'conversation.deleteAll': unused,
    'conversation.chooseModel': unused,
    'chatPrefs.save': unused,
    'key.status': async () => SAVED,
    'key.test': unused,
    'key.save': unused,
    'key.unlock': unused,
    'key.remove': unused,
    'queue.clear': unused,
    'batchPrefs.save': unused,
    'queue.tryNow': unused,
    'cache.clear': unused,
    'limits.save': unused,
    'limits.useLearned': unused,
    'settings.save': unused,
    'usagePrefs.save': unused,
    'key.confirmOrigin': unused,
    'gateway.budget': unused,
    'budget.save': unused,
    'templates.save': unused,
    'page.read': unused,
    'sync.devices': unused,
    'sync.rename': unused,
    'sync.forget': unused,
    'sync.settings': unused,
    'settings.export': unused,
    'settings.import': unused,
    ...overrides,
  };
}

function setup(h = handlers(), sender: { id?: string; url?: string } | null = ownPage) {
  const server = createPortServer(
    h,
    (s) => isOwnPage(s, EXT_ID, ORIGIN),
    () => undefined,
  );
  const pairs: ReturnType<typeof portPair>[] = [];
  const client = createBackgroundClient(() => {
    const pair = portPair(PORT_NAME, sender ?? undefined);
    pairs.push(pair);
    server.onConnect(pair.background.port);
    return pair.page.port;
  }, 5);
  return { server, client, pairs };
}

describe('port server and page client', () => {
  it('answers a request with its handler result', async () => {
    const { client } = setup();
    await expect(client.request('key.status', {})).resolves.toEqual({ ok: true, data: SAVED });
    await expect(client.request('chat.stop', { messageId: 'running' })).resolves.toEqual({
      ok: true,
      data: { stopped: true },
    });
  });

  it('keeps concurrent replies apart by id', async () => {
    const { client } = setup(
      handlers({
        'chat.stop': async ({ messageId }) => {
          await new Promise((r) => setTimeout(r, messageId === 'slow' ? 20 : 1));
          return { stopped: messageId === 'slow' };
        },
      }),
    );
    const [slow, fast] = await Promise.all([
      client.request('chat.stop', { messageId: 'slow' }),
      client.request('chat.stop', { messageId: 'fast' }),
    ]);
    expect(slow).toEqual({ ok: true, data: { stopped: true } });
    expect(fast).toEqual({ ok: true, data: { stopped: false } });
  });

  it('turns a PaceFailure into an error reply, and any other throw into a generic one', async () => {
    const { client } = setup(
      handlers({
        'chat.send': async () => {
          throw new PaceFailure({ code: 'no_key', message: 'No API key is set.' });
        },
        'chat.retry': async () => {
          throw new Error('disk full');
        },
      }),
    );
    expect(await client.request('chat.send', { conversationId: null, text: 'x' })).toEqual({
      ok: false,
      error: { code: 'no_key', message: 'No API key is set.' },
    });
    expect(await client.request('chat.retry', { messageId: 'a' })).toMatchObject({
      ok: false,
      error: { code: 'internal', message: expect.stringContaining('disk full') as string },
    });
  });

  it('refuses a malformed request without calling any handler', async () => {
    const send = vi.fn(async () => ({ conversationId: 'c', userMessageId: 'u', assistantMessageId: 'a' }));
    const { client } = setup(handlers({ 'chat.send': send }));
    const bad = await client.request('chat.send', { conversationId: null, text: 42 as unknown as string });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_message' } });
    expect(send).not.toHaveBeenCalled();
  });

  it.each([
    ['a web page', { url: 'https://evil.example/' }],
    ['another extension', { id: 'other-ext', url: 'chrome-extension://other-ext/page.html' }],
    ['a content script of this extension on a web page', { id: EXT_ID, url: 'https://evil.example/' }],
    ['no sender', null],
  ])('drops a connection from %s', async (_label, sender) => {
    const handler = vi.fn(async () => SAVED);
    const { client, pairs, server } = setup(handlers({ 'key.status': handler }), sender);
    const r = await client.request('key.status', {});
    expect(r.ok).toBe(false);
    expect(handler).not.toHaveBeenCalled();
    expect(pairs[0]!.background.disconnected).toBe(true);
    expect(server.connections).toBe(0);
  });

  it('pushes events to every open page and forgets closed ones', async () => {
    const { server, client } = setup();
    const seen: string[] = [];
    const unsubscribe = client.subscribe((e) => seen.push(e.type === 'answer.progress' ? e.text : e.type));
    await client.request('key.status', {});
    // A second page, straight on a port.
    const other = portPair(PORT_NAME, ownPage);
    const otherSeen: unknown[] = [];
    other.page.port.onMessage.addListener((m) => void otherSeen.push(m));
    server.onConnect(other.background.port);
    expect(server.connections).toBe(2);

    server.publish({ type: 'answer.progress', messageId: 'm', text: 'Hel' });
    server.publish({ type: 'answer.progress', messageId: 'm', text: 'Hello' });
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['Hel', 'Hello']);
    expect(otherSeen).toEqual([
      { kind: 'event', event: { type: 'answer.progress', messageId: 'm', text: 'Hel' } },
      { kind: 'event', event: { type: 'answer.progress', messageId: 'm', text: 'Hello' } },
    ]);

    // The second page closes: it is forgotten, and publishing goes on for the first.
    other.page.port.disconnect();
    expect(server.connections).toBe(1);
    const postedBefore = other.background.posted.length;
    server.publish({ type: 'answer.progress', messageId: 'm', text: 'Hello!' });
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['Hel', 'Hello', 'Hello!']);
    expect(other.background.posted).toHaveLength(postedBefore);
    unsubscribe();
  });

  it('answers pending requests when the background goes away, and reconnects for listeners', async () => {
    let release: () => void = () => undefined;
    const { client, pairs } = setup(
      handlers({
        'key.status': () =>
          new Promise((r) => (release = () => r({ ...SAVED, hasKey: false, last4: null, remember: null }))),
      }),
    );
    client.subscribe(() => undefined);
    const pending = client.request('key.status', {});
    await new Promise((r) => setTimeout(r, 0));
    pairs[0]!.background.port.disconnect();
    expect(await pending).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('restarted') as string },
    });
    release();
    await new Promise((r) => setTimeout(r, 20));
    expect(pairs).toHaveLength(2);
  });
});
