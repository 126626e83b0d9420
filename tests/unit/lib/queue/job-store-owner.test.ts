import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const WRITES = `
import type { PaceDB } from '../storage/db';
export async function f(db: PaceDB) {
  await db.jobs.update('a', { state: 'done' });
  await db.jobs.put({ id: 'a', conversationId: 'c', state: 'queued', createdAt: 1, attempts: 0 });
  await db.jobs.bulkDelete(['a']);
  await db.jobs.where('id').equals('a').modify({ state: 'done' });
  await db.table('jobs').clear();
}
`;
const READS = `
import type { PaceDB } from '../storage/db';
export async function f(db: PaceDB) {
  await db.transaction('rw', db.jobs, db.messages, async () => {
    await db.jobs.get('a');
    await db.jobs.where('state').anyOf('queued').count();
    await db.messages.where('id').equals('a').first();
  });
}
`;

const errorsIn = async (code: string, filePath: string) =>
  (await new ESLint().lintText(code, { filePath }))[0]!.messages.filter((m) => m.ruleId === 'no-restricted-syntax')
    .length;

describe('one owner for the jobs table (eslint.config.js)', () => {
  it('refuses every write to jobs outside the job store', async () => {
    expect(await errorsIn(WRITES, 'lib/chat/conversation-store.ts')).toBe(5);
    expect(await errorsIn(WRITES, 'components/chat/ChatScreen.tsx')).toBe(5);
  });

  it('lets the job store write jobs, and anyone read them', async () => {
    expect(await errorsIn(WRITES, 'lib/queue/job-store.ts')).toBe(0);
    expect(await errorsIn(READS, 'lib/background/handlers/chat.ts')).toBe(0);
  });
}, 60_000);
