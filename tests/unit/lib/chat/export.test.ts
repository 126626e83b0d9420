import { describe, expect, it } from 'vitest';
import { conversationToMarkdown, conversationsToJson, exportName } from '@/lib/chat/export';
import type { ChatMessage, Conversation } from '@/lib/storage/db';

const conversation: Conversation = { id: 'c1', title: 'Zebras  and\nsleep', createdAt: Date.UTC(2026, 10, 30), updatedAt: Date.UTC(2026, 10, 30, 1), model: 'claude-opus-4-1' };
const msg = (id: string, role: 'user' | 'assistant', text: string, createdAt: number, status: ChatMessage['status'] = 'done'): ChatMessage => ({ id, conversationId: 'c1', role, text, createdAt, status });

describe('Markdown export', () => {
  it('holds the title, each question and each answer in order, under who said it', () => {
    const md = conversationToMarkdown({
      conversation,
      messages: [msg('a2', 'assistant', 'Standing up, **mostly**.\n', 2), msg('q1', 'user', 'Where do zebras sleep?', 1), msg('q3', 'user', 'And foals?', 3), msg('a4', 'assistant', 'Lying', 4, 'stopped')],
    });
    expect(md).toBe(
      [
        '# Zebras and sleep',
        '',
        '_Exported from Pace. Started 2026-11-30T00:00:00.000Z; model claude-opus-4-1._',
        '',
        '## You',
        '',
        'Where do zebras sleep?',
        '',
        '## Claude',
        '',
        'Standing up, **mostly**.',
        '',
        '## You',
        '',
        'And foals?',
        '',
        '## Claude',
        '',
        'Lying',
        '',
        '_(unfinished)_',
        '',
      ].join('\n'),
    );
  });

  it('leaves out an answer not yet written, and names the options model when none was chosen', () => {
    const md = conversationToMarkdown({ conversation: { ...conversation, model: undefined }, messages: [msg('q1', 'user', 'Hi', 1), msg('a2', 'assistant', '', 2, 'pending')] }, 'claude-haiku-4-5');
    expect(md).toContain('model claude-haiku-4-5');
    expect(md).not.toContain('## Claude');
  });

  it('names the file after the title', () => {
    expect(exportName('md', 0, 'Crème brûlée: how?')).toBe('pace-chat-creme-brulee-how.md');
    expect(exportName('md', Date.UTC(2026, 10, 30), '???')).toBe('pace-chat-2026-11-30.md');
    expect(exportName('json', Date.UTC(2026, 10, 30))).toBe('pace-chats-2026-11-30.json');
  });
});

describe('JSON export', () => {
  it('holds every conversation with its messages', () => {
    const parsed = JSON.parse(conversationsToJson([{ conversation, messages: [msg('q1', 'user', 'Q', 1), msg('a2', 'assistant', 'A', 2)] }])) as {
      conversations: { title: string; model: string; messages: { role: string; text: string }[] }[];
    };
    expect(parsed.conversations).toHaveLength(1);
    expect(parsed.conversations[0]).toMatchObject({ title: conversation.title, model: 'claude-opus-4-1' });
    expect(parsed.conversations[0]!.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'Q'],
      ['assistant', 'A'],
    ]);
  });
});
