/**
 * Hostile payloads through parseRequest and the real handlers (real PaceDB on fake-indexeddb, real
 * SDK against the local Claude server): each request resolves or is refused with a PaceFailure that
 * says what is wrong, and a refused request leaves every table exactly as it was.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlers } from '@/lib/background/handlers';
import { parseRequest, PaceFailure, type Handlers, type RequestType } from '@/lib/protocol';
import type { ErrorCode } from '@/lib/storage/rows';
import { PaceDB } from '@/lib/storage/db';
import type { ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { handlerDeps, snapshot } from './handler-deps';

let server: ClaudeServer;
let db: PaceDB;
useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`handler-props-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

/** Nothing listens here: a key test against it fails fast as unreachable. */
const UNREACHABLE = 'http://127.0.0.1:9';

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', '   ', '\n\t', '\u0000', 'hello', 'x'.repeat(100_001)),
  fc.anything(),
);
const id = fc.oneof(fc.constantFrom('', 'missing', 'x'.repeat(101)), fc.string({ maxLength: 8 }), fc.anything());

/** What a refusal from each handler may be, and the words that make it specific. */
const REFUSALS: Partial<Record<RequestType, { codes: ErrorCode[]; about: RegExp }>> = {
  'chat.send': {
    codes: ['invalid_input', 'queue_full', 'month_used_up', 'too_large'],
    about: /message|conversation|waiting|month|tokens/,
  },
  'chat.stop': { codes: [], about: /$^/ },
  'chat.retry': { codes: ['invalid_input', 'busy'], about: /answer/ },
  'limits.save': { codes: ['invalid_input'], about: /Pick|minute|month|Enter/ },
  'key.save': { codes: ['invalid_input'], about: /key|passphrase/i },
  'key.test': {
    codes: ['invalid_input', 'origin_unconfirmed', 'unreachable', 'timeout', 'wrong_key', 'not_found'],
    about: /URL|key|reach|answer|respond|127\.0\.0\.1/i,
  },
};

const payloads: Partial<Record<RequestType, fc.Arbitrary<unknown>>> = {
  'chat.send': fc.record({ conversationId: fc.oneof(fc.constant(null), id, fc.constant('existing')), text }),
  'chat.stop': fc.record({ messageId: fc.oneof(id, fc.constant('answer')) }),
  'chat.retry': fc.record({ messageId: fc.oneof(id, fc.constant('answer'), fc.constant('question')) }),
  'limits.save': fc.record({
    plan: fc.oneof(fc.constantFrom('free', 'paid', 'custom'), fc.anything()),
    perMinute: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 6 }), fc.anything()),
    perMonth: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 12 }), fc.anything()),
    smooth: fc.oneof(fc.boolean(), fc.anything()),
    monthStart: fc.oneof(fc.constantFrom('utc', 'local'), fc.string({ maxLength: 5 })),
  }),
  'key.save': fc.record({
    key: fc.oneof(fc.constantFrom('sk-ant-test-key', ' sk-ant-x y ', ''), text),
    remember: fc.oneof(fc.constantFrom('device', 'session'), fc.anything()),
    passphrase: fc.oneof(fc.constant(null), fc.constantFrom('', 'short', 'a long enough passphrase'), fc.anything()),
  }),
  'key.test': fc.record({
    key: fc.oneof(fc.constant(null), fc.constantFrom('sk-ant-test-key', '', 'bad key'), fc.string({ maxLength: 10 })),
    // Never a real host: the local unreachable port, or text that is not an http URL (not '' either:
    // an empty base URL means Anthropic's own API, on the internet).
    baseURL: fc.oneof(
      fc.constant(UNREACHABLE),
      fc.constantFrom('javascript:alert(1)', 'ftp://127.0.0.1', 'http://u:p@127.0.0.1:9', `${UNREACHABLE}/?q`),
      fc.string({ maxLength: 6 }).filter((s) => !s.includes(':') && s.trim() !== ''),
    ),
  }),
};

async function seed(h: Handlers): Promise<{ conversationId: string; answerId: string; questionId: string }> {
  const r = await h['chat.send']({ conversationId: null, text: 'first question' });
  // A finished answer, so chat.retry has something it may accept.
  await db.messages.update(r.assistantMessageId, { status: 'done', text: 'an answer' });
  await db.jobs.update(r.assistantMessageId, { state: 'done' });
  return { conversationId: r.conversationId, answerId: r.assistantMessageId, questionId: r.userMessageId };
}

describe.each(Object.keys(payloads) as RequestType[])('%s, whatever the page sends', (type) => {
  it('resolves, or is refused with a specific PaceFailure and nothing stored', async () => {
    const h = createHandlers(handlerDeps(db, server.url, { keyTestTimeoutMs: 300 }));
    const ids = await seed(h);
    const real = { existing: ids.conversationId, answer: ids.answerId, question: ids.questionId } as Record<
      string,
      string
    >;
    const { codes, about } = REFUSALS[type]!;
    const seen = { parsed: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(payloads[type]!, async (raw) => {
        // The page's words stand in for the real ids, so the accepted paths are reached too.
        const payload = Object.fromEntries(
          Object.entries(raw as object).map(([k, v]) => [k, typeof v === 'string' && v in real ? real[v] : v]),
        );
        const parsed = parseRequest({ kind: 'request', id: 1, type, payload });
        if (!parsed.ok) {
          expect(parsed.error.message.startsWith(`${type}: `)).toBe(true);
          return;
        }
        seen.parsed += 1;
        const before = await snapshot(db);
        try {
          await (h[type] as (p: unknown) => Promise<unknown>)(parsed.request.payload);
        } catch (err) {
          expect(err).toBeInstanceOf(PaceFailure);
          seen.refused += 1;
          const { code, message } = (err as PaceFailure).error;
          expect(codes).toContain(code);
          expect(message.length).toBeGreaterThan(15);
          expect(message).toMatch(about);
          expect(await snapshot(db)).toEqual(before);
        }
      }),
      { numRuns: type === 'key.test' ? 30 : 60 },
    );
    // The property reached the handler, and its refusals, not only the parser.
    expect(seen.parsed).toBeGreaterThan(0);
    if (codes.length > 0) expect(seen.refused).toBeGreaterThan(0);
  }, 60_000);
});
