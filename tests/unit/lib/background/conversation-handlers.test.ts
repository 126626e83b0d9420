/** The background's side of history you control: rename, delete (stopping what is in flight), the model per conversation, the chat prefs. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlers, type HandlerDeps } from '@/lib/background/handlers';
import { storedPrefs } from '@/lib/settings/settings-items';
import type { ChatPrefs } from '@/lib/settings/chat-prefs';
import { PaceDB } from '@/lib/storage/db';
import type { ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { failure, handlerDeps } from './handler-deps';

let server: ClaudeServer;
let db: PaceDB;
let stopped: string[];

useClaudeServer((s) => (server = s));
beforeEach(() => {
  db = new PaceDB(`conversation-handlers-${Math.random()}`);
  stopped = [];
});
afterEach(async () => {
  await db.delete();
});

function make(overrides: Omit<Partial<HandlerDeps>, 'settings'> = {}) {
  return createHandlers(
    handlerDeps(db, server.url, {
      runner: { stop: (id) => (stopped.push(id), true), isActive: () => false },
      settings: { model: 'claude-haiku-4-5' },
      ...overrides,
    }),
  );
}

describe('chat.send with a model', () => {
  it('keeps the model chosen for a new chat on the conversation and its answer', async () => {
    const r = await make()['chat.send']({ conversationId: null, text: 'Hi', model: 'claude-opus-4-1' });
    expect((await db.conversations.get(r.conversationId))?.model).toBe('claude-opus-4-1');
    expect((await db.messages.get(r.assistantMessageId))?.model).toBe('claude-opus-4-1');
    // The next message of the conversation goes with it too.
    const next = await make()['chat.send']({ conversationId: r.conversationId, text: 'Again' });
    expect((await db.messages.get(next.assistantMessageId))?.model).toBe('claude-opus-4-1');
  });

  it('refuses a model that is not a model id, storing nothing', async () => {
    const error = await failure(make()['chat.send']({ conversationId: null, text: 'Hi', model: 'no spaces please' }));
    expect(error).toMatchObject({ code: 'invalid_input', field: 'model' });
    expect(await db.conversations.count()).toBe(0);
  });

  it('conversation.chooseModel changes the model of the next messages', async () => {
    const h = make();
    const r = await h['chat.send']({ conversationId: null, text: 'Hi' });
    expect((await db.messages.get(r.assistantMessageId))?.model).toBe('claude-haiku-4-5');
    expect(
      await h['conversation.chooseModel']({ conversationId: r.conversationId, model: 'claude-sonnet-4-5' }),
    ).toEqual({ model: 'claude-sonnet-4-5' });
    const next = await h['chat.send']({ conversationId: r.conversationId, text: 'Again' });
    expect((await db.messages.get(next.assistantMessageId))?.model).toBe('claude-sonnet-4-5');
    expect(
      await failure(h['conversation.chooseModel']({ conversationId: 'gone', model: 'claude-sonnet-4-5' })),
    ).toMatchObject({ code: 'invalid_input', action: 'new_chat' });
  });
});

describe('conversation.rename and conversation.delete', () => {
  it('renames with the title checked', async () => {
    const h = make();
    const r = await h['chat.send']({ conversationId: null, text: 'Hi' });
    expect(await h['conversation.rename']({ conversationId: r.conversationId, title: '  Greetings ' })).toEqual({
      title: 'Greetings',
    });
    expect(await failure(h['conversation.rename']({ conversationId: r.conversationId, title: ' ' }))).toMatchObject({
      field: 'title',
      message: 'Type a name for the chat.',
    });
  });

  it('stops the answer in flight, then deletes the conversation and its text', async () => {
    const h = make();
    const r = await h['chat.send']({ conversationId: null, text: 'A secret about walruses' });
    const other = await h['chat.send']({ conversationId: null, text: 'Keep me' });
    expect(await h['conversation.delete']({ conversationId: r.conversationId })).toEqual({ deleted: 1 });
    expect(stopped).toEqual([r.assistantMessageId]);
    expect(await db.messages.filter((m) => m.text.includes('walruses')).count()).toBe(0);
    expect(await db.conversations.get(other.conversationId)).toBeDefined();
    expect(await failure(h['conversation.delete']({ conversationId: r.conversationId }))).toMatchObject({
      message: 'That conversation no longer exists.',
    });
  });

  it('conversation.deleteAll deletes every conversation', async () => {
    const h = make();
    await h['chat.send']({ conversationId: null, text: 'One' });
    await h['chat.send']({ conversationId: null, text: 'Two' });
    expect(await h['conversation.deleteAll']({})).toEqual({ deleted: 2 });
    expect([await db.conversations.count(), await db.messages.count(), await db.jobs.count()]).toEqual([0, 0, 0]);
  });
});

describe('chatPrefs.save', () => {
  it('saves checked choices and applies a shorter retention at once', async () => {
    let saved: ChatPrefs | null = null;
    const prefs = { ...storedPrefs, saveChatPrefs: async (v: ChatPrefs) => void (saved = v) };
    await db.conversations.add({
      id: 'old',
      title: 'Old',
      createdAt: 0,
      updatedAt: Date.now() - 8 * 24 * 60 * 60 * 1000,
    });
    expect(await make({ prefs })['chatPrefs.save']({ keepDays: '7', theme: 'dark' })).toEqual({
      keepDays: 7,
      theme: 'dark',
    });
    expect(saved).toEqual({ keepDays: 7, theme: 'dark' });
    expect(await db.conversations.count()).toBe(0);
  });

  it('refuses a retention or theme it does not offer, naming the field', async () => {
    const error = await failure(make()['chatPrefs.save']({ keepDays: 12, theme: 'sepia' }));
    expect(error.fields).toEqual({
      keepDays: 'Keep chats for 7, 30 or 90 days, or forever (got 12).',
      theme: 'The theme must be System, Light or Dark (got sepia).',
    });
  });
});
