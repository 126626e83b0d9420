/**
 * Random lives of the queue, driven through the job store as the background drives it: sends,
 * admissions, starts, chunks (the job store's checkpoint), faults (retryable, fatal, 429), cancels,
 * retries and worker stops, which may come between an admission and its start. Whatever the order:
 * every move of a job is one the table allows, no job is left sending or streaming after a restart,
 * and every counted send's ledger row ends exactly once (each write that ends a row, or touches one
 * already ended, is counted as it is made).
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addExchange } from '@/lib/chat/conversation-store';
import { admit } from '@/lib/limits/admit';
import type { PaceError } from '@/lib/storage/rows';
import { afterFailedAttempt } from '@/lib/queue/after-attempt';
import { canMove, isFinished, isInFlight, isWaiting } from '@/lib/queue/job-states';
import * as jobStore from '@/lib/queue/job-store';
import { PaceDB, type Job, type JobState, type UsageRow } from '@/lib/storage/db';
import { settleUsage } from '@/lib/usage/ledger-store';
import { IN_FLIGHT } from '@/lib/usage/totals';

type Action =
  | { kind: 'send'; conversation: number }
  | { kind: 'admit'; job: number; start: boolean }
  | { kind: 'start'; job: number }
  | { kind: 'chunk'; job: number }
  | { kind: 'finish'; job: number }
  | { kind: 'fault'; job: number; fault: 'retryable' | 'fatal' | '429' }
  | { kind: 'cancel'; job: number }
  | { kind: 'retry'; job: number }
  | { kind: 'restart' }
  | { kind: 'tick'; ms: number };

const pick = fc.nat({ max: 9 });
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), conversation: fc.nat({ max: 3 }) }),
  fc.record({ kind: fc.constant('admit' as const), job: pick, start: fc.boolean() }),
  fc.record({ kind: fc.constant('start' as const), job: pick }),
  fc.record({ kind: fc.constant('chunk' as const), job: pick }),
  fc.record({ kind: fc.constant('finish' as const), job: pick }),
  fc.record({
    kind: fc.constant('fault' as const),
    job: pick,
    fault: fc.constantFrom('retryable' as const, 'fatal' as const, '429' as const),
  }),
  fc.record({ kind: fc.constant('cancel' as const), job: pick }),
  fc.record({ kind: fc.constant('retry' as const), job: pick }),
  fc.record({ kind: fc.constant('restart' as const) }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 120_000 }) }),
);

const FAULTS: Record<'retryable' | 'fatal' | '429', { error: PaceError; status: number; headers?: Headers }> = {
  retryable: { error: { code: 'overloaded', message: 'Overloaded.', action: 'retry' }, status: 529 },
  fatal: { error: { code: 'bad_request', message: 'Bad request.' }, status: 400 },
  '429': {
    error: { code: 'rate_limited', message: 'Too many requests.' },
    status: 429,
    headers: new Headers({ 'retry-after': '30' }),
  },
};

let db: PaceDB;
beforeEach(() => {
  db = new PaceDB(`job-life-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

/** One life of the queue: the runner of this worker holds the jobs admitted for it, with their ledger rows, and knows which it started. */
async function live(actions: Action[]): Promise<void> {
  let clock = Date.UTC(2026, 10, 30, 12);
  let n = 0;
  const newId = () => `id${String(++n).padStart(4, '0')}`;
  const conversations: string[] = [];
  const jobIds: string[] = [];
  const running = new Map<string, number | undefined>();
  const started = new Set<string>();
  const admitted = new Set<number>();
  let seen = new Map<string, JobState>();
  // Every write that takes a ledger row out of flight, or writes one already out of it, ends it (again).
  const ends = new Map<number, number>();
  db.usage.hook('updating', (change, id, row) => {
    const outcome = (change as Partial<UsageRow>).outcome ?? row.outcome;
    if (row.outcome !== IN_FLIGHT || outcome !== IN_FLIGHT) ends.set(id!, (ends.get(id!) ?? 0) + 1);
  });

  /** Every job's state now; each change since the last look must be a move the table allows. */
  async function observe(): Promise<Job[]> {
    const jobs = await db.jobs.toArray();
    const now = new Map(jobs.map((j) => [j.id, j.state] as const));
    for (const [id, state] of now) {
      const before = seen.get(id);
      if (before === undefined) expect(state, `new job ${id}`).toBe('queued');
      else if (before !== state) expect(canMove(before, state), `${id}: ${before} -> ${state}`).toBe(true);
    }
    for (const id of seen.keys()) expect(now.has(id), `job ${id} vanished`).toBe(true);
    seen = now;
    return jobs;
  }

  /** The runner ends its attempt's ledger row, as lib/queue/chat-runner.ts does. */
  async function endRow(usageId: number | undefined, outcome: string): Promise<void> {
    if (usageId !== undefined) await settleUsage(db, usageId, { outcome });
  }

  /** The runner lets go of a job, done with it one way or another. */
  function drop(id: string): void {
    running.delete(id);
    started.delete(id);
  }

  const runnerHas = (id: string | undefined): id is string => id !== undefined && running.has(id);

  for (const a of actions) {
    clock += 1;
    const id = 'job' in a ? jobIds[a.job % Math.max(1, jobIds.length)] : undefined;
    switch (a.kind) {
      case 'send': {
        const conversationId = conversations[a.conversation] ?? null;
        const ex = await addExchange(db, {
          conversationId,
          text: `q${n}`,
          now: clock,
          newId,
          model: 'claude-sonnet-4-5',
        });
        if (conversationId === null) conversations.push(ex.conversationId);
        jobIds.push(ex.assistantMessageId);
        break;
      }
      case 'admit': {
        if (id === undefined) break;
        const job = await db.jobs.get(id);
        if (!job || !isWaiting(job.state)) break;
        const decision = await admit(db, clock, id);
        if (decision.ok) {
          if (decision.usageId !== undefined) admitted.add(decision.usageId);
          running.set(id, decision.usageId);
          if (!a.start) break;
          await observe();
          // The request is accepted at once; otherwise a later 'start' (or a fault, a stop, a restart) comes first.
          await jobStore.start(db, id);
          started.add(id);
        } else if (decision.reason !== 'gone' && decision.reason !== 'refused') {
          await jobStore.wait(db, [id], { waitUntil: decision.retryAt, waitReason: decision.reason });
        }
        break;
      }
      case 'start':
        if (!runnerHas(id) || started.has(id)) break;
        await jobStore.start(db, id);
        started.add(id);
        break;
      case 'chunk': {
        // The runner saves only what it streams; a late save of any other job writes nothing.
        if (id === undefined) break;
        const before = (await db.messages.get(id))?.text;
        await jobStore.checkpoint(db, id, `text at ${clock}`);
        expect((await db.messages.get(id))?.text).toBe(started.has(id) ? `text at ${clock}` : before);
        break;
      }
      case 'finish':
        if (id === undefined || !started.has(id)) break;
        await endRow(running.get(id), 'ok');
        await jobStore.finish(
          db,
          id,
          { status: 'done', text: 'answer', error: undefined },
          { at: clock, outcome: 'ok', status: 200 },
        );
        drop(id);
        break;
      case 'fault': {
        if (!runnerHas(id)) break;
        const f = FAULTS[a.fault];
        await endRow(running.get(id), f.error.code);
        const job = (await db.jobs.get(id))!;
        await afterFailedAttempt({ db, now: () => clock, random: () => 0.5 }, job, {
          text: 'part',
          error: f.error,
          response: { status: f.status, headers: f.headers },
          offline: false,
          by: 'Anthropic',
        });
        drop(id);
        break;
      }
      case 'cancel':
        if (id === undefined) break;
        if (runnerHas(id)) {
          // Stop in flight: the runner ends its attempt as stopped.
          await endRow(running.get(id), 'stopped');
          await jobStore.stop(db, id, { status: 'stopped', text: 'part' });
          drop(id);
        } else {
          await jobStore.cancel(db, id);
        }
        break;
      case 'retry': {
        if (id === undefined) break;
        const job = await db.jobs.get(id);
        await jobStore.retry(db, id, clock, job ?? null);
        break;
      }
      case 'restart':
        // The worker stops: its runner and everything it held are gone.
        running.clear();
        started.clear();
        await observe();
        await jobStore.recover(db);
        expect((await observe()).filter((j) => isInFlight(j.state))).toEqual([]);
        break;
      case 'tick':
        clock += a.ms;
        break;
    }
    const jobs = await observe();
    // Only this worker's runner holds jobs in flight.
    for (const j of jobs) expect(isInFlight(j.state) === running.has(j.id), `${j.id} is ${j.state}`).toBe(true);
    for (const j of jobs) expect(j.state === 'streaming', `${j.id} is ${j.state}`).toBe(started.has(j.id));
    for (const j of jobs) if (isFinished(j.state) || isWaiting(j.state)) expect(running.has(j.id)).toBe(false);
  }

  // A last stop of the worker: nothing in flight, and every counted send has ended, once.
  running.clear();
  started.clear();
  await jobStore.recover(db);
  const jobs = await observe();
  expect(jobs.filter((j) => isInFlight(j.state))).toEqual([]);
  const rows = await db.usage.toArray();
  expect(new Set(rows.map((r) => r.id))).toEqual(admitted);
  expect(new Map([...admitted].map((usageId) => [usageId, ends.get(usageId) ?? 0])), 'ends per counted send').toEqual(
    new Map([...admitted].map((usageId) => [usageId, 1])),
  );
  expect(rows.filter((r) => r.outcome === IN_FLIGHT)).toEqual([]);
}

describe('the job store under random lives of the queue', () => {
  it('moves jobs only as the table allows, leaves none in flight after a restart, and ends every counted send once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 40 }), async (actions) => {
        await db.delete();
        db = new PaceDB(`job-life-${Math.random()}`);
        await live(actions);
      }),
      { numRuns: 60 },
    );
  }, 240_000);
});
