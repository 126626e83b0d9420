import { describe, expect, it } from 'vitest';
import { canMove, isFinished, isInFlight, isWaiting, nextCandidates, TRANSITIONS } from '@/lib/queue/job-states';
import type { Job, JobState } from '@/lib/storage/db';

const STATES = Object.keys(TRANSITIONS) as JobState[];

describe('the table of job transitions', () => {
  it('names every state, and only states, as a next state', () => {
    expect(STATES.sort()).toEqual([
      'batched',
      'cancelled',
      'done',
      'failed',
      'gathering',
      'queued',
      'sending',
      'streaming',
      'waiting',
    ]);
    for (const s of STATES) for (const next of TRANSITIONS[s]) expect(STATES).toContain(next);
  });

  it('lets only a finished job be queued again, and nothing else follow a finished job', () => {
    for (const s of STATES) expect(canMove(s, 'queued')).toBe(isFinished(s) || isInFlight(s));
    for (const s of STATES.filter(isFinished)) expect(TRANSITIONS[s]).toEqual(['queued']);
  });

  it('sends only a job that waits, and streams only one being sent', () => {
    for (const s of STATES) expect(canMove(s, 'sending')).toBe(isWaiting(s));
    for (const s of STATES) expect(canMove(s, 'streaming')).toBe(s === 'sending');
  });

  it('cancels a job waiting or in flight, never a finished one', () => {
    for (const s of STATES) expect(canMove(s, 'cancelled')).toBe(!isFinished(s));
  });

  it('batches only a gathered job; a batched one ends, or is gathered again, and is never sent as a message', () => {
    for (const s of STATES) expect(canMove(s, 'batched')).toBe(s === 'gathering');
    for (const s of STATES) expect(canMove(s, 'gathering')).toBe(s === 'batched');
    expect(canMove('gathering', 'sending')).toBe(false);
    expect(canMove('batched', 'sending')).toBe(false);
  });

  it('holds back what follows a question sent later in its conversation: order is kept', () => {
    const job = (id: string, conversationId: string, state: JobState, createdAt: number): Job => ({
      id,
      conversationId,
      state,
      createdAt,
      attempts: 0,
    });
    const jobs = [
      job('a', 'c1', 'batched', 1),
      job('b', 'c1', 'queued', 2),
      job('c', 'c2', 'gathering', 3),
      job('d', 'c2', 'queued', 4),
      job('e', 'c3', 'queued', 5),
    ];
    expect(nextCandidates(jobs, 5).map((j) => j.id)).toEqual(['e']);
  });

  it('puts back in the queue only a job in flight (a restart) or a finished one (a retry)', () => {
    expect(canMove('queued', 'queued')).toBe(false);
    expect(canMove('waiting', 'queued')).toBe(false);
    expect(canMove('streaming', 'queued')).toBe(true);
  });
});
