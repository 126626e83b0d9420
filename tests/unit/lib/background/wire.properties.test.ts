/**
 * Random lives of the background against the local Claude server, through the real app
 * (createBackgroundApp), the real SDK wire code and IndexedDB: messages in a few conversations,
 * the server answering, refusing with 429s and 529s that carry a retry-after, and the worker
 * stopping at any moment (its database force-closed, so what it had not committed is lost, its
 * connections cut, its timers gone) and starting
 * again on the same database. Whatever the order, seen from the wire:
 * - no request is sent inside the retry-after of a 429 or 529 that has reached Pace;
 * - the requests the server saw are exactly the sends Pace counted (its month's count).
 */
import fc from 'fast-check';
import { forceCloseDatabase } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClaudeClient } from '@/lib/claude/client';
import { saveLimits } from '@/lib/limits/limiter-store';
import { monthKeys } from '@/lib/limits/month-window';
import { DEFAULT_LIMITS } from '@/lib/limits/plans';
import { isFinished } from '@/lib/queue/job-states';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { settingsItem } from '@/lib/settings/settings-items';
import type { Behaviour, ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { realWakeTimers, testBackground } from './background-app';

let server: ClaudeServer;
useClaudeServer((s) => (server = s));

/** A refusal takes `slowMs` to come back, so other requests may be admitted meanwhile. */
type Reply = { kind: 'ok' } | { kind: 'refuse'; status: 429 | 529; waitMs: number; slowMs: number };
interface Life {
  /** The conversation (0-2) of each message, sent one after another. */
  messages: number[];
  /** How the server answers the first requests; every later one is answered. */
  replies: Reply[];
  /** The worker stops `delayMs` after the server saw request number `afterRequest` (0-based). */
  stops: { afterRequest: number; delayMs: number }[];
}

const reply: fc.Arbitrary<Reply> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'ok' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('refuse' as const),
      status: fc.constantFrom(429 as const, 529 as const),
      waitMs: fc.integer({ min: 50, max: 400 }),
      slowMs: fc.integer({ min: 0, max: 150 }),
    }),
  },
);
const life: fc.Arbitrary<Life> = fc.record({
  messages: fc.array(fc.nat({ max: 2 }), { minLength: 2, maxLength: 4 }),
  replies: fc.array(reply, { maxLength: 5 }),
  stops: fc.array(fc.record({ afterRequest: fc.nat({ max: 4 }), delayMs: fc.integer({ min: 0, max: 200 }) }), {
    maxLength: 2,
  }),
});

const behaviour = (r: Reply): Behaviour =>
  r.kind === 'ok'
    ? { kind: 'text', text: 'Answered.' }
    : {
        kind: 'error',
        status: r.status,
        type: r.status === 429 ? 'rate_limit_error' : 'overloaded_error',
        headers: { 'retry-after-ms': String(r.waitMs) },
        delayMs: r.slowMs,
      };

const until = async (check: () => Promise<boolean> | boolean, timeoutMs: number, what: () => string) => {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

beforeEach(async () => {
  // A stopped worker's writes fail on its closed database, and say so: expected here, and many.
  for (const level of ['info', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
  await settingsItem.setValue({ ...DEFAULT_SETTINGS, baseURL: server.url, model: 'claude-haiku-4-5', maxTokens: 50 });
});

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/**
 * When a stop lands: 'between' a worker's transactions (none open: what it committed stays, what
 * came after its last commit never happens), or 'anywhere' (an open transaction is aborted, as a
 * dying worker's is).
 */
type StopsLand = 'between' | 'anywhere';

/** Whether any transaction of this connection is still open (fake-indexeddb's own record of them). */
const openTransactions = (db: PaceDB) =>
  (
    db.backendDB() as unknown as { _rawDatabase: { transactions: { _state: string }[] } }
  )._rawDatabase.transactions.some((t) => t._state !== 'finished');

async function live(l: Life, land: StopsLand): Promise<void> {
  server.reset();
  server.script(...l.replies.map(behaviour));
  const name = `wire-life-${Math.random()}`;
  /** Each request for an answer as it leaves, and each refusal as it reaches Pace, by the wire's clock. */
  const sent: number[] = [];
  const refused: { at: number; waitMs: number }[] = [];
  let generation = 0;
  const worker = () => {
    const mine = generation;
    const alive = () => mine === generation;
    const cut = new AbortController();
    const db = new PaceDB(name);
    const wake = realWakeTimers();
    const bg = testBackground(db, server.url, {
      ...wake,
      random: () => 0.2,
      createClient: (creds, headers, watch) => {
        const client = createClaudeClient(creds, headers, watch);
        const options = (client as unknown as { options: { fetch: typeof fetch } }).options;
        const real = options.fetch;
        options.fetch = async (input, init) => {
          // A stopped worker sends nothing more, and what it had on the wire never reaches it.
          if (!alive()) return new Promise<Response>(() => undefined);
          const isMessage = (input instanceof Request ? input.url : input.toString()).endsWith('/v1/messages');
          if (isMessage) sent.push(Date.now());
          const response = await real(input, {
            ...init,
            signal: AbortSignal.any([cut.signal, ...(init?.signal ? [init.signal] : [])]),
          });
          if (!alive()) return new Promise<Response>(() => undefined);
          const waitMs = Number(response.headers.get('retry-after-ms'));
          if (isMessage && (response.status === 429 || response.status === 529) && waitMs > 0)
            refused.push({ at: Date.now(), waitMs });
          return response;
        };
        return client;
      },
    });
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      // Between transactions: the stop waits for a moment with none open, and lands in it (no await after the check).
      if (land === 'between')
        await until(
          () => !openTransactions(db),
          5000,
          () => 'a transaction never ended',
        );
      generation += 1;
      wake.clear();
      cut.abort();
      // As a dying worker's: every transaction not yet committed is aborted, not finished.
      forceCloseDatabase(db.backendDB() as unknown as Parameters<typeof forceCloseDatabase>[0]);
      db.close();
    };
    cleanups.push(stop);
    return { db, bg, stop };
  };

  let w = worker();
  await saveLimits(w.db, { ...DEFAULT_LIMITS, plan: 'custom', perMinute: 100, perMonth: 1000 });
  await w.bg.app.start();
  const conversations: (string | null)[] = [null, null, null];
  for (const c of l.messages) {
    const r = await w.bg.client.request('chat.send', {
      conversationId: conversations[c] ?? null,
      text: `Message in conversation ${c}`,
    });
    if (!r.ok) throw new Error(`chat.send refused: ${r.error.message}`);
    conversations[c] = r.data.conversationId;
  }
  for (const s of [...l.stops].sort((a, b) => a.afterRequest - b.afterRequest)) {
    // A stop waits for its request; a life that never gets that far has no such stop.
    const reached = await until(
      () => server.messageRequests().length > s.afterRequest,
      3000,
      () => '',
    ).then(
      () => true,
      () => false,
    );
    if (!reached) break;
    await new Promise((r) => setTimeout(r, s.delayMs));
    await w.stop();
    w = worker();
    await w.bg.app.start();
  }
  const current = w;
  await until(
    async () => (await current.db.jobs.toArray()).every((j) => isFinished(j.state)),
    20_000,
    () =>
      `jobs never ended; server saw ${server
        .messageRequests()
        .map((r) => r.status)
        .join(',')}`,
  );

  const counted = (await current.db.counters.get(monthKeys(Date.now())[0]!))?.count ?? 0;
  const seen = server.messageRequests().length;
  expect(seen).toBe(sent.length);
  if (land === 'between') {
    for (const r of refused) {
      const inside = sent.filter((t) => t > r.at && t < r.at + r.waitMs);
      expect(
        inside,
        `a request left ${inside.map((t) => t - r.at).join(', ')} ms after a refusal asking for ${r.waitMs} ms`,
      ).toEqual([]);
    }
    expect(counted, `Pace counted ${counted}, the server saw ${seen}`).toBe(seen);
  } else {
    // A transaction cut in the middle can leave a send counted that never left (its last write before the
    // wire, or the pause a refusal had just brought, was lost): Pace may count more than was sent, never less.
    expect(counted, `Pace counted ${counted}, the server saw ${seen}`).toBeGreaterThanOrEqual(seen);
  }
  await current.stop();
  await current.db.delete();
}

describe('the wire, whatever the server says and whenever the worker stops', () => {
  it('sends nothing inside a retry-after, and counts exactly the requests the server saw, the worker stopping between its transactions', async () => {
    await fc.assert(
      fc.asyncProperty(life, (l) => live(l, 'between')),
      {
        numRuns: 12,
        // Two lives tried every time: a slow refusal while other conversations' requests are on their way, and a stop while the queue waits one out.
        examples: [
          [{ messages: [0, 1, 2], replies: [{ kind: 'refuse', status: 429, waitMs: 300, slowMs: 100 }], stops: [] }],
          [
            {
              messages: [0, 1],
              replies: [{ kind: 'refuse', status: 429, waitMs: 400, slowMs: 100 }],
              stops: [{ afterRequest: 0, delayMs: 200 }],
            },
          ],
        ],
      },
    );
  }, 600_000);

  it('never counts fewer requests than the server saw, the worker stopping in the middle of a transaction too', async () => {
    await fc.assert(
      fc.asyncProperty(life, (l) => live(l, 'anywhere')),
      { numRuns: 8 },
    );
  }, 600_000);
});
