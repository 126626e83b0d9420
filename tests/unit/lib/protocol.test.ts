import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRequest, REQUEST_TYPES } from '@/lib/protocol';

describe('parseRequest', () => {
  it('accepts each well-formed request and keeps its id', () => {
    expect(parseRequest({ kind: 'request', id: 7, type: 'chat.send', payload: { conversationId: null, text: 'hi' } })).toEqual({
      ok: true,
      id: 7,
      request: { type: 'chat.send', payload: { conversationId: null, text: 'hi' } },
    });
    expect(parseRequest({ kind: 'request', id: 1, type: 'key.status' })).toMatchObject({ ok: true, request: { type: 'key.status' } });
    expect(parseRequest({ kind: 'request', id: 2, type: 'key.test', payload: { key: null, baseURL: 'https://x' } })).toMatchObject({
      ok: true,
    });
  });

  it('refuses what is not a request, with no id to answer', () => {
    for (const raw of [null, 'hello', 42, [], { kind: 'reply', id: 1 }, { kind: 'request' }, { kind: 'request', id: 1.5 }]) {
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
    expect(r).toMatchObject({ ok: false, id: 4, error: { code: 'bad_message', message: expect.stringContaining('conversationId') as string } });
    const s = parseRequest({ kind: 'request', id: 5, type: 'chat.stop', payload: { messageId: '' } });
    expect(s).toMatchObject({ ok: false, error: { message: expect.stringContaining('messageId') as string } });
    const t = parseRequest({ kind: 'request', id: 6, type: 'key.save', payload: [] });
    expect(t).toMatchObject({ ok: false, error: { message: expect.stringContaining('payload must be an object') as string } });
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
      expect(save(payload)).toMatchObject({ ok: false, error: { code: 'bad_message', message: `key.save: ${words}.` } });
    }
    expect(parseRequest({ kind: 'request', id: 9, type: 'key.unlock', payload: { passphrase: 'p' } })).toMatchObject({ ok: true });
    expect(parseRequest({ kind: 'request', id: 9, type: 'key.unlock', payload: {} })).toMatchObject({
      ok: false,
      error: { message: 'key.unlock: passphrase must be a string.' },
    });
  });

  it('drops fields the schema does not declare, and lets any number through to the form check that names it', () => {
    expect(parseRequest({ kind: 'request', id: 10, type: 'chat.stop', payload: { messageId: 'm1', extra: 'x', __proto__: { a: 1 } } })).toEqual({
      ok: true,
      id: 10,
      request: { type: 'chat.stop', payload: { messageId: 'm1' } },
    });
    const limits = { plan: 'custom', perMinute: Infinity, perMonth: Number.NaN, smooth: false, monthStart: 'utc' };
    expect(parseRequest({ kind: 'request', id: 11, type: 'limits.save', payload: limits })).toMatchObject({ ok: true, request: { payload: limits } });
    expect(parseRequest({ kind: 'request', id: 12, type: 'limits.save', payload: { ...limits, perMonth: null } })).toMatchObject({
      ok: false,
      error: { message: 'limits.save: perMonth must be a string or a number.' },
    });
  });

  it('never throws, whatever arrives on the port', () => {
    fc.assert(
      fc.property(
        fc.record({ kind: fc.constant('request'), id: fc.anything(), type: fc.oneof(fc.constantFrom(...REQUEST_TYPES), fc.string()), payload: fc.anything() }),
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
