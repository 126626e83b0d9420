/** The chat retention as the background applies it: at start-up, and each day by its alarm. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { PaceDB } from '@/lib/storage/db';
import { chatPrefsItem } from '@/lib/settings/settings-items';
import type { ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { testBackground } from './background-app';

const DAY = 24 * 60 * 60 * 1000;
let claude: ClaudeServer;
let db: PaceDB;
useClaudeServer((s) => (claude = s));
beforeEach(() => {
  db = new PaceDB(`retention-${Math.random()}`);
});
afterEach(async () => {
  db.close();
  await db.delete();
});

const chat = (id: string, ageDays: number) =>
  db.conversations.add({ id, title: id, createdAt: 0, updatedAt: Date.now() - ageDays * DAY });

it('deletes chats older than the retention at start-up and again when the daily alarm fires', async () => {
  await chatPrefsItem.setValue({ keepDays: 7, theme: 'system' });
  await chat('old', 8);
  await chat('recent', 6);
  const { app } = testBackground(db, claude.url);
  await app.start();
  expect(await db.conversations.toCollection().primaryKeys()).toEqual(['recent']);
  expect(await fakeBrowser.alarms.get('pace-retention')).toMatchObject({ periodInMinutes: 24 * 60 });

  await db.conversations.update('recent', { updatedAt: Date.now() - 9 * DAY });
  await fakeBrowser.alarms.onAlarm.trigger({ name: 'pace-retention', scheduledTime: Date.now() });
  await expect.poll(() => db.conversations.count()).toBe(0);
});

it('keeps every chat when chats are kept forever (the default)', async () => {
  await chat('ancient', 5000);
  const { app } = testBackground(db, claude.url);
  await app.start();
  expect(await db.conversations.count()).toBe(1);
});

it("a worker starting again keeps the daily alarm's time: it is not pushed a day ahead on every start", async () => {
  const { app } = testBackground(db, claude.url);
  await app.start();
  const first = await fakeBrowser.alarms.get('pace-retention');
  expect(first).toBeDefined();
  await new Promise((r) => setTimeout(r, 5));
  await testBackground(db, claude.url).app.start();
  expect((await fakeBrowser.alarms.get('pace-retention'))?.scheduledTime).toBe(first!.scheduledTime);
});
