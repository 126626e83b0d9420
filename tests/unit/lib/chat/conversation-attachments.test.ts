import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  addExchange,
  buildContext,
  conversationMessages,
  deleteConversations,
  exportAttachmentData,
  pruneConversations,
  requestContext,
} from '@/lib/chat/conversation-store';
import { conversationsToJson } from '@/lib/chat/chat-export';
import { attachmentStorage, type NewAttachment } from '@/lib/attachments/attachment-store';
import { PaceDB } from '@/lib/storage/db';
import type { AttachmentKind, AttachmentRef } from '@/lib/storage/rows';
import { estimateTokens } from '@/lib/claude/token-estimate';
import { inputBound, measureRequest, type MeasureInput } from '@/lib/limits/measure-request';

let db: PaceDB;
let n = 0;
const newId = () => `id-${++n}`;
beforeEach(() => {
  db = new PaceDB(`conversation-attachments-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

function attachment(name: string, bytes: number[], kind: AttachmentKind = 'image'): NewAttachment {
  const ref: AttachmentRef = {
    id: `a-${name}`,
    kind,
    name,
    mediaType: kind === 'pdf' ? 'application/pdf' : 'image/png',
    bytes: bytes.length,
    tokens: kind === 'pdf' ? 3000 : 54,
    hash: `hash-${name}`,
    ...(kind === 'pdf' ? { pages: 1 } : { width: 200, height: 200 }),
  };
  return { ref, bytes: new Uint8Array(bytes) };
}

async function answer(id: string, text: string) {
  await db.messages.update(id, { text, status: 'done' });
}

describe('attachments in the conversation store', () => {
  it("stores them in the send's transaction and builds the context with their bytes, before the text", async () => {
    const ex = await addExchange(db, {
      conversationId: null,
      text: 'What is this?',
      now: 1,
      newId,
      model: 'm',
      attachments: [attachment('one.png', [1, 2, 3]), attachment('two.pdf', [4, 5], 'pdf')],
    });
    await answer(ex.assistantMessageId, 'A cat and a report.');
    const next = await addExchange(db, {
      conversationId: ex.conversationId,
      text: 'Thanks',
      now: 2,
      newId,
      model: 'm',
    });
    const messages = await conversationMessages(db, ex.conversationId);
    const turns = buildContext(messages, next.assistantMessageId);
    expect(turns.map((t) => [t.role, t.content, (t.attachments ?? []).map((a) => a.name)])).toEqual([
      ['user', 'What is this?', ['one.png', 'two.pdf']],
      ['assistant', 'A cat and a report.', []],
      ['user', 'Thanks', []],
    ]);
    const full = await requestContext(db, messages, next.assistantMessageId);
    expect(full[0]!.attachments!.map((a) => a.data)).toEqual([btoa('\x01\x02\x03'), btoa('\x04\x05')]);
    // Attachments count in the estimate by their own figure, never by their base64.
    expect(estimateTokens({ system: '', messages: full })).toBe(estimateTokens({ system: '', messages: turns }));
    expect(estimateTokens({ system: '', messages: turns })).toBe(
      Math.ceil(('What is this?'.length + 'A cat and a report.'.length + 'Thanks'.length) / 4) + 54 + 3000,
    );
  });

  it('reads no attachment for a text-only conversation', async () => {
    const ex = await addExchange(db, { conversationId: null, text: 'Hi', now: 1, newId, model: 'm' });
    const read = vi.spyOn(db.attachments, 'bulkGet');
    const turns = await requestContext(db, await conversationMessages(db, ex.conversationId), ex.assistantMessageId);
    expect(turns).toEqual([{ role: 'user', content: 'Hi' }]);
    expect(read).not.toHaveBeenCalled();
  });

  it('combines the attachments of consecutive questions into one turn, in order', async () => {
    const a = await addExchange(db, {
      conversationId: null,
      text: 'First',
      now: 1,
      newId,
      model: 'm',
      attachments: [attachment('a.png', [1])],
    });
    const b = await addExchange(db, {
      conversationId: a.conversationId,
      text: 'Second',
      now: 2,
      newId,
      model: 'm',
      attachments: [attachment('b.png', [2])],
    });
    // Combined into one request (job-store's combine): the first answer's row goes.
    const messages = (await conversationMessages(db, a.conversationId)).filter((m) => m.id !== a.assistantMessageId);
    const turns = buildContext(messages, b.assistantMessageId);
    expect(turns).toHaveLength(1);
    expect(turns[0]!.attachments!.map((x) => x.name)).toEqual(['a.png', 'b.png']);
    expect(turns[0]!.content).toBe('First\n\nSecond');
  });

  it('deletes them with their conversation, and by the chat retention', async () => {
    const kept = await addExchange(db, {
      conversationId: null,
      text: 'Keep',
      now: Date.now(),
      newId,
      model: 'm',
      attachments: [attachment('k.png', [9, 9])],
    });
    const gone = await addExchange(db, {
      conversationId: null,
      text: 'Go',
      now: Date.now(),
      newId,
      model: 'm',
      attachments: [attachment('g.png', [1])],
    });
    expect(await attachmentStorage(db)).toEqual({ bytes: 3, count: 2 });
    await deleteConversations(db, [gone.conversationId]);
    expect((await db.attachments.toArray()).map((r) => r.name)).toEqual(['k.png']);
    // The retention: a conversation untouched for longer than keepDays goes with its attachments.
    await db.jobs.clear();
    await db.conversations.update(kept.conversationId, { updatedAt: Date.now() - 10 * 24 * 60 * 60 * 1000 });
    expect(await pruneConversations(db, Date.now(), 7)).toBe(1);
    expect(await db.attachments.count()).toBe(0);
    expect(await attachmentStorage(db)).toEqual({ bytes: 0, count: 0 });
  });

  it("stores nothing when the send's transaction fails", async () => {
    await expect(
      addExchange(db, {
        conversationId: 'missing',
        text: 'x',
        now: 1,
        newId,
        model: 'm',
        attachments: [attachment('x.png', [1])],
      }),
    ).rejects.toThrow('does not exist');
    expect(await db.attachments.count()).toBe(0);
  });

  it('the JSON export lists attachments by name and size; their base64 only when asked', async () => {
    const ex = await addExchange(db, {
      conversationId: null,
      text: 'Look',
      now: 1,
      newId,
      model: 'm',
      attachments: [attachment('pic.png', [1, 2, 3])],
    });
    const all = [
      {
        conversation: (await db.conversations.get(ex.conversationId))!,
        messages: await conversationMessages(db, ex.conversationId),
      },
    ];
    const plain = JSON.parse(conversationsToJson(all)) as {
      conversations: { messages: { attachments?: unknown[] }[] }[];
    };
    expect(plain.conversations[0]!.messages[0]!.attachments).toEqual([
      { name: 'pic.png', mediaType: 'image/png', bytes: 3, width: 200, height: 200 },
    ]);
    const data = await exportAttachmentData(db, all);
    const full = JSON.parse(conversationsToJson(all, { includeAttachments: true, data })) as typeof plain;
    expect(full.conversations[0]!.messages[0]!.attachments).toEqual([
      { name: 'pic.png', mediaType: 'image/png', bytes: 3, width: 200, height: 200, data: btoa('\x01\x02\x03') },
    ]);
    expect(conversationsToJson(all, { data })).not.toContain(btoa('\x01\x02\x03'));
  });
});

describe('measuring a request with attachments', () => {
  const image = attachment('i.png', [1]).ref;
  const pdf = attachment('d.pdf', [1], 'pdf').ref;
  const input = (attachments: AttachmentRef[], extra: Partial<MeasureInput> = {}): MeasureInput => ({
    request: { system: '', messages: [{ role: 'user', content: 'abcd', attachments }] },
    model: 'claude-sonnet-5-5',
    maxTokens: 100,
    promptCache: 'off',
    room: null,
    budget: null,
    budgetLeft: Infinity,
    ...extra,
  });

  it('counts an image by its tokens in the input, the token need and the budget bound', () => {
    const m = measureRequest(
      input([image], {
        budget: { monthlyUsd: 100, dailyUsd: null, whenReached: 'pause', unknownPriceUsd: null, badge: 'off' } as never,
      }),
    );
    if (m.ok !== true) throw new Error('expected a measurement');
    expect(m.need.inputTokens).toBe(1 + 54);
    expect(inputBound(input([image]).request)).toBe(inputBound(input([]).request) + 54);
  });

  it("asks the API's count for a request holding a PDF, and falls back to the per-page estimate", () => {
    expect(measureRequest(input([pdf]))).toEqual({ ok: 'count' });
    const fallback = measureRequest(input([pdf], { exact: null }));
    expect(fallback.ok === true && fallback.need.inputTokens).toBe(1 + 3000);
    const counted = measureRequest(input([pdf], { exact: 1234 }));
    expect(counted.ok === true && counted.need.inputTokens).toBe(1234);
  });

  it('prices the web searches a request may run in its worst case', () => {
    const budget = {
      monthlyUsd: 100,
      dailyUsd: null,
      whenReached: 'pause',
      unknownPriceUsd: null,
      badge: 'off',
    } as never;
    const m = measureRequest(input([], { budget, webSearches: 4 }));
    expect(m.ok === true && m.cost?.webSearches).toBe(4);
  });
});
