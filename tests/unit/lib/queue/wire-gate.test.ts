/**
 * The wire gate (lib/queue/wire-gate.ts): the door each admitted request passes just before the
 * network. Alone on a fake clock, then with the real runner, the real SDK wire code and the local
 * Claude server: a 429 that arrives while another conversation's admitted request is about to go
 * holds that request until the 429's retry-after has passed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createChatRunner } from '@/lib/queue/chat-runner';
import { createKeepAlive } from '@/lib/background/keep-alive';
import { addExchange, markStreaming } from '@/lib/chat/conversation-store';
import { createClaudeClient } from '@/lib/claude/client';
import { admit, admitQueued } from '@/lib/limits/admit';
import { readPause } from '@/lib/limits/limiter-store';
import { readTokenLog } from '@/lib/limits/token-store';
import { monthKeys } from '@/lib/limits/month-window';
import * as jobStore from '@/lib/queue/job-store';
import { createWireGate, type WireGate } from '@/lib/queue/wire-gate';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { TEST_KEY, type ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';

/** A clock the test moves; each sleep resolves when the clock passes its end. */
function fakeClock(start = 1_000_000) {
  let t = start;
  const sleepers: { at: number; wake: () => void }[] = [];
  return {
    now: () => t,
    sleep: (ms: number) => new Promise<void>((wake) => sleepers.push({ at: t + ms, wake })),
    async advance(ms: number) {
      t += ms;
      for (const s of sleepers.filter((x) => x.at <= t)) {
        sleepers.splice(sleepers.indexOf(s), 1);
        s.wake();
      }
      // Let the woken passes look at the clock again.
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
}

describe('the gate on its own', () => {
  it('lets a request through at once while open', async () => {
    const clock = fakeClock();
    const gate = createWireGate(clock);
    let through = false;
    void gate.pass({}).then(() => (through = true));
    await clock.advance(0);
    expect(through).toBe(true);
    expect(gate.closedUntil(clock.now())).toBe(null);
  });

  it('holds every request until the retry-after has passed, and a later, longer close moves the time on', async () => {
    const clock = fakeClock();
    const gate = createWireGate(clock);
    gate.close(clock.now() + 1000);
    const through: string[] = [];
    void gate.pass({}).then(() => through.push('a'));
    void gate.pass({}).then(() => through.push('b'));
    await clock.advance(999);
    expect(through).toEqual([]);
    // Another 429 comes while they wait, asking for longer.
    gate.close(clock.now() + 2000);
    // A shorter one changes nothing.
    gate.close(clock.now() + 10);
    await clock.advance(1);
    expect(through).toEqual([]);
    await clock.advance(1998);
    expect(through).toEqual([]);
    await clock.advance(1);
    expect(through.sort()).toEqual(['a', 'b']);
  });

  it("lets Try now's probe through a closed gate, and opens once the probe is answered", async () => {
    const clock = fakeClock();
    const gate = createWireGate(clock);
    gate.close(clock.now() + 60_000);
    await expect(gate.pass({ probe: true })).resolves.toBeUndefined();
    gate.open();
    expect(gate.closedUntil(clock.now())).toBe(null);
  });

  it('gives up the wait when the answer is stopped, with the abort', async () => {
    const clock = fakeClock();
    const gate = createWireGate(clock);
    gate.close(clock.now() + 60_000);
    const controller = new AbortController();
    const passing = gate.pass({ signal: controller.signal });
    controller.abort();
    await expect(passing).rejects.toThrow();
  });

  it('refuses a close at a time that is not a number', () => {
    const clock = fakeClock();
    const gate = createWireGate(clock);
    gate.close(Number.NaN);
    gate.close(Number.POSITIVE_INFINITY);
    expect(gate.closedUntil(clock.now())).toBe(null);
  });

  it('settles once every tracked write has ended, failed ones too', async () => {
    const gate = createWireGate({ now: Date.now });
    let finish!: () => void;
    let fail!: (e: Error) => void;
    gate.track(new Promise<void>((r) => (finish = r)));
    gate.track(new Promise<void>((_, r) => (fail = r)));
    let settled = false;
    void gate.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    finish();
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    fail(new Error('disk full'));
    await vi.waitFor(() => expect(settled).toBe(true));
  });

  it('knows which requests are on the wire without an answer', () => {
    const gate = createWireGate({ now: Date.now });
    gate.sent('a');
    gate.sent('b');
    gate.answered('a');
    expect(gate.onTheWire()).toEqual(['b']);
  });
});

describe('with the runner and the local server', () => {
  let server: ClaudeServer;
  let db: PaceDB;
  useClaudeServer((s) => (server = s));
  beforeEach(() => {
    db = new PaceDB(`wire-gate-${Math.random()}`);
  });
  afterEach(async () => {
    await db.delete();
  });

  /** The real runner on the local server, with `gate` (its own if none). */
  const plainRunner = (gate?: WireGate) =>
    createChatRunner({
      db,
      gate,
      credentials: async () => ({ apiKey: TEST_KEY, baseURL: server.url, demo: false }),
      settings: async () => ({ ...DEFAULT_SETTINGS, model: 'claude-haiku-4-5', maxTokens: 50 }),
      createClient: createClaudeClient,
      publish: () => undefined,
      keepAlive: createKeepAlive(async () => undefined, 5),
      log: () => undefined,
    });

  const ask = (text: string, at: number) =>
    addExchange(db, {
      conversationId: null,
      text,
      now: at,
      newId: () => crypto.randomUUID(),
      model: 'claude-haiku-4-5',
    });

  it("holds another conversation's admitted request, about to go when a 429 arrives, until the 429's retry-after has passed; it is then sent and counted once", async () => {
    server.script({ kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: 1 });
    const gate = createWireGate({ now: Date.now });
    // The second conversation's reads are slow: its request is about to go when the first one's 429 arrives.
    let secondMayRead!: () => void;
    const secondReads = new Promise<void>((r) => (secondMayRead = r));
    const credentials = { apiKey: TEST_KEY, baseURL: server.url, demo: false };
    const make = (slow: boolean) =>
      createChatRunner({
        db,
        gate,
        credentials: async () => (slow ? secondReads.then(() => credentials) : credentials),
        settings: async () => ({ ...DEFAULT_SETTINGS, model: 'claude-haiku-4-5', maxTokens: 50 }),
        createClient: createClaudeClient,
        publish: () => undefined,
        keepAlive: createKeepAlive(async () => undefined, 5),
        log: () => undefined,
        random: () => 0.5,
      });
    const t = Date.now();
    const first = await ask('First conversation', t);
    const second = await ask('Second conversation', t + 1);
    const a = await admit(db, Date.now(), first.assistantMessageId);
    const b = await admit(db, Date.now(), second.assistantMessageId);
    expect(a.ok && b.ok).toBe(true);
    const runA = make(false).start({
      id: first.assistantMessageId,
      conversationId: first.conversationId,
      state: 'sending',
      createdAt: t,
      attempts: 1,
      usageId: a.ok ? a.usageId : undefined,
    });
    const runB = make(true).start({
      id: second.assistantMessageId,
      conversationId: second.conversationId,
      state: 'sending',
      createdAt: t + 1,
      attempts: 1,
      usageId: b.ok ? b.usageId : undefined,
    });
    // The 429 has arrived and closed the gate; only now may the second request go.
    await vi.waitFor(() => expect(gate.closedUntil(Date.now())).not.toBe(null), { timeout: 5000 });
    secondMayRead();
    await Promise.all([runA, runB]);
    const [refused, held] = server.messageRequests();
    expect(refused).toMatchObject({ status: 429 });
    expect(held).toMatchObject({ status: 200 });
    expect(held!.at - refused!.at).toBeGreaterThanOrEqual(1000);
    expect(server.messageRequests()).toHaveLength(2);
    // Counted once, at its admission: the minute holds the two admissions and nothing more.
    const recent = await db.counters.get('recent');
    expect(recent?.times).toHaveLength(2);
    expect(await db.jobs.get(second.assistantMessageId)).toMatchObject({ state: 'done', attempts: 1 });
    // The first waits for the queue, behind the pause the 429 left.
    expect(await readPause(db)).toMatchObject({ reason: 'rate_limited' });
    expect(await db.jobs.get(first.assistantMessageId)).toMatchObject({ state: 'waiting', waitReason: 'server' });
  });

  it('gives back the count of a request held at the gate when its worker stops, so the one that leaves later is counted once', async () => {
    const ex = await ask('Held, then the worker stops', Date.now());
    const admitted = await admit(db, Date.now(), ex.assistantMessageId, {
      need: { inputTokens: 40, outputTokens: 50 },
    });
    expect(admitted.ok).toBe(true);
    const usageId = admitted.ok ? admitted.usageId : undefined;
    // The worker's gate is closed by a 429 it received, and never opens: this worker stops while it waits.
    const gate = createWireGate({ now: Date.now, sleep: () => new Promise<void>(() => undefined) });
    gate.close(Date.now() + 60_000);
    const runner = plainRunner(gate);
    void runner.start({
      id: ex.assistantMessageId,
      conversationId: ex.conversationId,
      state: 'sending',
      createdAt: Date.now(),
      attempts: 1,
      usageId,
    });
    await vi.waitFor(async () =>
      expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'sending', unsent: true }),
    );
    const month = monthKeys(Date.now())[0]!;
    expect((await db.counters.get(month))?.count).toBe(1);

    // Start-up after the stop: nothing left the machine, so nothing stays counted.
    await jobStore.recover(db, Date.now());
    const job = await db.jobs.get(ex.assistantMessageId);
    expect(job).toMatchObject({ state: 'queued', attempts: 0 });
    expect(job?.unsent).toBeUndefined();
    expect(job?.usageId).toBeUndefined();
    expect((await db.counters.get(month))?.count).toBe(0);
    expect((await db.counters.get('recent'))?.times).toEqual([]);
    expect(await db.usage.count()).toBe(0);
    const tokens = await readTokenLog(db);
    expect([...tokens.input, ...tokens.output].filter((s) => s.job === ex.assistantMessageId)).toEqual([]);
    expect(server.messageRequests()).toHaveLength(0);

    // Admitted again, it leaves and is the one send counted.
    const again = await admit(db, Date.now(), ex.assistantMessageId);
    expect(again.ok).toBe(true);
    const fresh = plainRunner();
    await fresh.start({ ...job!, state: 'sending', attempts: 1, usageId: again.ok ? again.usageId : undefined });
    expect(server.messageRequests()).toHaveLength(1);
    expect((await db.counters.get(month))?.count).toBe(1);
    expect(await db.usage.toArray()).toEqual([
      expect.objectContaining({ messageId: ex.assistantMessageId, outcome: 'ok' }),
    ]);
    expect(await db.jobs.get(ex.assistantMessageId)).toMatchObject({ state: 'done', attempts: 1 });
  });

  it("gives back the count of a job the queue admitted when its worker stops before the runner's last write, and keeps it once that write is made", async () => {
    const month = () => db.counters.get(monthKeys(Date.now())[0]!).then((r) => r?.count ?? 0);
    const cut = await ask('Admitted, then the worker stops', Date.now());
    expect(await admitQueued(db, Date.now(), cut.assistantMessageId)).toMatchObject({ ok: true });
    expect(await db.jobs.get(cut.assistantMessageId)).toMatchObject({ state: 'sending', unsent: true });
    expect(await month()).toBe(1);
    await jobStore.recover(db, Date.now());
    expect(await db.jobs.get(cut.assistantMessageId)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(await month()).toBe(0);
    expect(await db.usage.count()).toBe(0);

    // Once the runner's last write before the request is made, the request is on its way: a stop then keeps the count.
    expect(await admitQueued(db, Date.now(), cut.assistantMessageId)).toMatchObject({ ok: true });
    await jobStore.readyForTheWire(db, cut.assistantMessageId, () =>
      markStreaming(db, cut.assistantMessageId, 'claude-haiku-4-5', false),
    );
    expect((await db.jobs.get(cut.assistantMessageId))?.unsent).toBeUndefined();
    expect(await db.messages.get(cut.assistantMessageId)).toMatchObject({ status: 'streaming' });
    await jobStore.recover(db, Date.now());
    expect(await db.jobs.get(cut.assistantMessageId)).toMatchObject({ state: 'queued', resumed: true });
    expect(await month()).toBe(1);
    expect(await db.usage.toArray()).toEqual([expect.objectContaining({ outcome: 'interrupted' })]);
  });
});
