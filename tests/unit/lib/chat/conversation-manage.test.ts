/** History you control: rename, search, delete one or all, the chat retention, and the model chosen per conversation. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addExchange,
  allConversationIds,
  checkTitle,
  deleteConversations,
  loadAllConversations,
  loadConversation,
  pruneConversations,
  renameConversation,
  searchConversations,
  settingsFor,
} from '@/lib/chat/conversation-store';
import { storeAnswer } from '@/lib/cache/response-cache';
import * as jobStore from '@/lib/queue/job-store';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { PaceDB } from '@/lib/storage/db';
import { recordUsage } from '@/lib/usage/ledger-store';

let db: PaceDB;
let n = 0;
const newId = () => `id-${++n}`;
const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.UTC(2026, 10, 30, 12);

beforeEach(() => {
  db = new PaceDB(`manage-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

/** A conversation with one answered exchange, its cached answer and its ledger row, as the queue leaves them. */
async function answered(question: string, answer: string, at = T0) {
  const ex = await addExchange(db, { conversationId: null, text: question, now: at, newId, model: 'claude-haiku-4-5' });
  await jobStore.start(db, ex.assistantMessageId).catch(() => undefined);
  await jobStore.finish(db, ex.assistantMessageId, { status: 'done', text: answer, stopReason: 'end_turn' });
  await storeAnswer(db, {
    key: `key-${ex.assistantMessageId}`,
    createdAt: at,
    model: 'claude-haiku-4-5',
    text: answer,
    stopReason: 'end_turn',
    usage: { inputTokens: 5, outputTokens: 7, cacheReadTokens: 0, cacheCreationTokens: 0 },
  });
  await recordUsage(db, {
    at,
    model: 'claude-haiku-4-5',
    conversationId: ex.conversationId,
    messageId: ex.assistantMessageId,
    outcome: 'ok',
    usage: { inputTokens: 5, outputTokens: 7, cacheReadTokens: 0, cacheCreationTokens: 0 },
    ttftMs: 10,
    totalMs: 20,
    attempt: 1,
    fromCache: false,
    costUsd: 0.001,
  });
  return ex;
}

/** Every row of every table as text, to look for a conversation's words anywhere in IndexedDB. */
async function everything(): Promise<string> {
  const out: string[] = [];
  for (const table of db.tables) out.push(JSON.stringify(await table.toArray()));
  return out.join('\n');
}

describe('delete', () => {
  it('deleting one conversation leaves none of its text in any table, and the other conversation and the usage counts whole', async () => {
    const gone = await answered('Where do the zebras sleep?', 'Zebras sleep standing up, in the savanna.');
    const kept = await answered('What is a token bucket?', 'A bucket that refills at a steady rate.');
    expect(await everything()).toContain('zebras');

    expect(await deleteConversations(db, [gone.conversationId])).toBe(1);

    const all = await everything();
    for (const word of ['zebras', 'Zebras', 'savanna']) expect(all).not.toContain(word);
    expect(await db.jobs.get(gone.assistantMessageId)).toBeUndefined();
    expect(await db.cache.count()).toBe(1);
    expect(await db.meta.get('cacheBytes')).toMatchObject({
      value: 2 * 'A bucket that refills at a steady rate.'.length,
    });
    // The other conversation is untouched.
    expect((await loadConversation(db, kept.conversationId))?.messages.map((m) => m.text)).toEqual([
      'What is a token bucket?',
      'A bucket that refills at a steady rate.',
    ]);
    // Usage stays as counts: both ledger rows, and the totals, with ids and figures but no text.
    expect(await db.usage.count()).toBe(2);
    expect((await db.usageMonths.toArray())[0]?.requests).toBe(2);
  });

  it('delete all leaves no conversation, message, job or cached answer, and keeps the usage totals', async () => {
    await answered('Where do the zebras sleep?', 'Standing up.');
    await answered('Tell me about otters', 'Otters hold hands.');
    expect(await deleteConversations(db, await allConversationIds(db))).toBe(2);
    expect([
      await db.conversations.count(),
      await db.messages.count(),
      await db.jobs.count(),
      await db.cache.count(),
    ]).toEqual([0, 0, 0, 0]);
    const all = await everything();
    for (const word of ['zebras', 'Standing up', 'otters', 'Otters hold hands']) expect(all).not.toContain(word);
    expect(await db.usage.count()).toBe(2);
  });

  it('deletes a conversation with a message still queued, its job with it', async () => {
    const ex = await addExchange(db, { conversationId: null, text: 'Still waiting', now: T0, newId, model: 'm' });
    await deleteConversations(db, [ex.conversationId]);
    expect(await db.jobs.count()).toBe(0);
    expect(await everything()).not.toContain('Still waiting');
  });

  it('counts only conversations that existed', async () => {
    expect(await deleteConversations(db, ['nope'])).toBe(0);
    expect(await deleteConversations(db, [])).toBe(0);
  });
});

describe('retention', () => {
  it('deletes conversations untouched for longer than the days kept, and keeps newer ones', async () => {
    const old = await answered('An old question about moles', 'Moles dig.', T0 - 31 * DAY);
    const recent = await answered('A recent question', 'Recent answer.', T0 - 29 * DAY);
    expect(await pruneConversations(db, T0, 30)).toBe(1);
    expect(await allConversationIds(db)).toEqual([recent.conversationId]);
    expect(await loadConversation(db, old.conversationId)).toBeNull();
    expect(await everything()).not.toContain('moles');
  });

  it('keeps everything when chats are kept forever', async () => {
    await answered('Ancient', 'Answer.', T0 - 3000 * DAY);
    expect(await pruneConversations(db, T0, null)).toBe(0);
    expect(await db.conversations.count()).toBe(1);
  });

  it('keeps an old conversation whose message is still queued', async () => {
    await addExchange(db, { conversationId: null, text: 'Queued long ago', now: T0 - 100 * DAY, newId, model: 'm' });
    expect(await pruneConversations(db, T0, 7)).toBe(0);
    expect(await db.conversations.count()).toBe(1);
  });
});

describe('rename', () => {
  it('renames, with the title checked and trimmed to one line', async () => {
    const ex = await answered('Question', 'Answer.');
    const checked = checkTitle('  Trip\n to   Lisbon ');
    expect(checked).toEqual({ ok: true, value: 'Trip to Lisbon' });
    expect(await renameConversation(db, ex.conversationId, 'Trip to Lisbon')).toBe(true);
    expect((await db.conversations.get(ex.conversationId))?.title).toBe('Trip to Lisbon');
    expect(await renameConversation(db, 'nope', 'x')).toBe(false);
  });

  it('refuses an empty or overlong title with a specific message', () => {
    expect(checkTitle('   ')).toEqual({ ok: false, message: 'Type a name for the chat.' });
    expect(checkTitle('x'.repeat(201))).toEqual({
      ok: false,
      message: "A chat's name can be at most 200 characters (this one has 201).",
    });
  });
});

describe('search', () => {
  it('finds conversations by title or by any message, ignoring case and accents, most recent first', async () => {
    const a = await answered('Recipes for crème brûlée', 'Use cream and sugar.', T0);
    const b = await answered('Dessert ideas', 'Try a CREME caramel.', T0 + 1000);
    const c = await answered('Rust lifetimes', 'Borrowing rules.', T0 + 2000);
    const ids = async (q: string) => (await searchConversations(db, q)).conversations.map((x) => x.id);
    expect(await ids('creme')).toEqual([b.conversationId, a.conversationId]);
    expect(await ids('BORROWING')).toEqual([c.conversationId]);
    expect(await ids('dessert')).toEqual([b.conversationId]);
    expect(await ids('nothing like this')).toEqual([]);
    expect(await ids('  ')).toEqual([c.conversationId, b.conversationId, a.conversationId]);
  });
});

describe('model per conversation', () => {
  it('keeps the model chosen for a new conversation, and its requests go with it', async () => {
    const ex = await addExchange(db, {
      conversationId: null,
      text: 'Hi',
      now: T0,
      newId,
      model: 'claude-opus-4-1',
      chosenModel: 'claude-opus-4-1',
    });
    expect((await settingsFor(db, { ...DEFAULT_SETTINGS, model: 'claude-haiku-4-5' }, ex.conversationId)).model).toBe(
      'claude-opus-4-1',
    );
    const plain = await addExchange(db, {
      conversationId: null,
      text: 'Hi',
      now: T0,
      newId,
      model: 'claude-haiku-4-5',
    });
    expect(
      (await settingsFor(db, { ...DEFAULT_SETTINGS, model: 'claude-haiku-4-5' }, plain.conversationId)).model,
    ).toBe('claude-haiku-4-5');
  });

  it('exports all conversations with their messages', async () => {
    await answered('First', 'One.', T0);
    await answered('Second', 'Two.', T0 + 1);
    expect((await loadAllConversations(db)).map((c) => c.messages.map((m) => m.text))).toEqual([
      ['Second', 'Two.'],
      ['First', 'One.'],
    ]);
  });
});
