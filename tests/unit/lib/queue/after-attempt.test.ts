import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addExchange } from '@/lib/chat/conversation-store';
import { answeredBy } from '@/lib/claude/errors';
import { allowProbe, probeLost, readPause } from '@/lib/limits/limiter-store';
import { admit } from '@/lib/limits/admit';
import { afterFailedAttempt } from '@/lib/queue/after-attempt';
import { PaceDB } from '@/lib/storage/db';

const NOW = Date.UTC(2026, 10, 30, 12);
let db: PaceDB;
let n = 0;

beforeEach(() => {
  db = new PaceDB(`after-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

/** A job admitted and in flight, as the runner holds it when its attempt fails. */
async function inFlight() {
  const { assistantMessageId: id } = await addExchange(db, {
    conversationId: null,
    text: 'q',
    now: NOW,
    newId: () => `id-${++n}`,
    model: 'm',
  });
  expect(await admit(db, NOW, id)).toMatchObject({ ok: true });
  return (await db.jobs.get(id))!;
}

const refused = (
  status: number,
  headers: Record<string, string>,
  code: 'rate_limited' | 'spend_limit' | 'overloaded',
) => ({
  text: '',
  error: { code, message: 'refused' },
  response: { status, headers: new Headers(headers) },
  offline: false,
});

describe('after a failed attempt, who asked is named', () => {
  it("a gateway's 429 pauses the queue in the gateway's name, not Anthropic's", async () => {
    const job = await inFlight();
    const by = answeredBy('https://litellm.example.com/anthropic');
    await afterFailedAttempt({ db, now: () => NOW, random: () => 0.5 }, job, {
      ...refused(429, { 'retry-after': '20' }, 'rate_limited'),
      by,
    });
    expect(await readPause(db)).toMatchObject({
      message: 'litellm.example.com asked us to wait 20 s.',
      by: 'litellm.example.com',
    });
    expect((await db.messages.get(job.id))?.error?.message).toBe('litellm.example.com asked us to wait 20 s.');
  });

  it("Anthropic's own 429 and spend cap still say Anthropic", async () => {
    const by = answeredBy('https://api.anthropic.com');
    // Both in flight before the first pause, which would hold the second back.
    const [limited, capped] = [await inFlight(), await inFlight()];
    await afterFailedAttempt({ db, now: () => NOW, random: () => 0.5 }, limited, {
      ...refused(429, { 'retry-after': '20' }, 'rate_limited'),
      by,
    });
    expect(await readPause(db)).toMatchObject({ message: 'Anthropic asked us to wait 20 s.', by: 'Anthropic' });
    await afterFailedAttempt({ db, now: () => NOW, random: () => 0.5 }, capped, {
      ...refused(429, {}, 'spend_limit'),
      by,
    });
    expect((await db.messages.get(capped.id))?.error?.message).toMatch(
      /^Your organization's spend limit is reached: Anthropic refuses requests until /,
    );
  });

  it("giving up names the gateway's side, not Anthropic's", async () => {
    const job = { ...(await inFlight()), failures: 4 };
    await afterFailedAttempt({ db, now: () => NOW, random: () => 0.5 }, job, {
      ...refused(529, {}, 'overloaded'),
      by: '127.0.0.1:4000',
    });
    expect(await db.jobs.get(job.id)).toMatchObject({ state: 'failed' });
    expect((await db.messages.get(job.id))?.error?.message).toContain(
      "this is on 127.0.0.1:4000's side or the network's",
    );
  });

  it("Try now keeps the gateway's name on its pause, while the probe is allowed and after it was lost", async () => {
    const [job, next] = [await inFlight(), await inFlight()];
    await afterFailedAttempt({ db, now: () => NOW, random: () => 0.5 }, job, {
      ...refused(429, { 'retry-after': '600' }, 'rate_limited'),
      by: 'gw.example.com',
    });
    expect(await allowProbe(db, NOW)).toBe(true);
    expect(await readPause(db)).toMatchObject({ by: 'gw.example.com', probe: 'allowed' });
    // The probe goes (its job is the one the pause held), then ends with no word on the pause.
    await db.jobs.update(next.id, { state: 'waiting' });
    expect(await admit(db, NOW + 1, next.id)).toMatchObject({ ok: true });
    await probeLost(db, next.id);
    const after = await readPause(db);
    expect(after).toMatchObject({ by: 'gw.example.com', message: 'gw.example.com asked us to wait 10 min.' });
    expect(after?.probe).toBeUndefined();
  });
});
