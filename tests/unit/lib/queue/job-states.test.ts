import { describe, expect, it } from 'vitest';
import { canMove, isFinished, isInFlight, isWaiting, TRANSITIONS } from '@/lib/queue/job-states';
import type { JobState } from '@/lib/storage/db';

const STATES = Object.keys(TRANSITIONS) as JobState[];

describe('the table of job transitions', () => {
  it('names every state, and only states, as a next state', () => {
    expect(STATES.sort()).toEqual(['cancelled', 'done', 'failed', 'queued', 'sending', 'streaming', 'waiting']);
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

  it('puts back in the queue only a job in flight (a restart) or a finished one (a retry)', () => {
    expect(canMove('queued', 'queued')).toBe(false);
    expect(canMove('waiting', 'queued')).toBe(false);
    expect(canMove('streaming', 'queued')).toBe(true);
  });
});
