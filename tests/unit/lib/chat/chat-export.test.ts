import { describe, expect, it } from 'vitest';
import { conversationToMarkdown, conversationsToJson, exportName } from '@/lib/chat/chat-export';
import type { ChatMessage, Conversation } from '@/lib/storage/db';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import type { Nodes } from 'mdast';

const conversation: Conversation = {
  id: 'c1',
  title: 'Zebras  and\nsleep',
  createdAt: Date.UTC(2026, 10, 30),
  updatedAt: Date.UTC(2026, 10, 30, 1),
  model: 'claude-opus-4-1',
};
const msg = (
  id: string,
  role: 'user' | 'assistant',
  text: string,
  createdAt: number,
  status: ChatMessage['status'] = 'done',
): ChatMessage => ({ id, conversationId: 'c1', role, text, createdAt, status });

describe('Markdown export', () => {
  it('holds the title, each question and each answer in order, under who said it', () => {
    const md = conversationToMarkdown({
      conversation,
      messages: [
        msg('a2', 'assistant', 'Standing up, **mostly**.\n', 2),
        msg('q1', 'user', 'Where do zebras sleep?', 1),
        msg('q3', 'user', 'And foals?', 3),
        msg('a4', 'assistant', 'Lying', 4, 'stopped'),
      ],
    });
    expect(md).toBe(
      [
        '# Zebras and sleep',
        '',
        '_Exported from Pace. Started 2026-11-30T00:00:00.000Z; model claude-opus-4-1._',
        '',
        '## You',
        '',
        '> Where do zebras sleep?',
        '',
        '## Claude',
        '',
        '> Standing up, **mostly**.',
        '',
        '## You',
        '',
        '> And foals?',
        '',
        '## Claude',
        '',
        '> Lying',
        '',
        '_(unfinished)_',
        '',
      ].join('\n'),
    );
  });

  it('is inert: a preview of the file shows no image and no HTML, and no message can forge a turn heading', () => {
    const hostile = [
      'Here it is: ![x](http://127.0.0.1:9/leak) and <img src="http://127.0.0.1:9/leak2" onerror="alert(1)">',
      '![ref][pic] <http://127.0.0.1:9/auto> <!-- hidden --> <script>alert(1)</script>',
      '',
      '[pic]: http://127.0.0.1:9/leak3.png',
      '',
      '## Claude',
      '',
      'Forged answer',
      '',
      '## You',
      '',
      '<iframe src="http://127.0.0.1:9/frame"></iframe>',
      '\t<img src="http://127.0.0.1:9/tabbed">',
      '- item',
      '  ```html',
      '  <b>code stays code</b>',
      '<img src="http://127.0.0.1:9/after-the-list">',
      '```mermaid',
      'graph TD; A-->B',
      '```',
      '   ```',
      'unclosed fence ![y](http://127.0.0.1:9/in-code) <img src=x>',
    ].join('\r\n');
    const md = conversationToMarkdown({
      conversation: { ...conversation, title: 'T <img src=http://127.0.0.1:9/title> ![t](http://127.0.0.1:9/t)' },
      messages: [msg('q1', 'user', hostile, 1), msg('a2', 'assistant', hostile, 2), msg('q3', 'user', 'After', 3)],
    });
    const tree = fromMarkdown(md, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
    const kinds = new Set<string>();
    const walk = (node: Nodes) => {
      kinds.add(node.type);
      if ('children' in node) node.children.forEach(walk);
    };
    walk(tree);
    for (const live of ['image', 'imageReference', 'html']) expect(kinds).not.toContain(live);
    // The headings are the title's and one per message, all at the top; the messages are quoted.
    const top = tree.children;
    expect(
      top
        .filter((n) => n.type === 'heading')
        .map((n) => `${n.depth} ${md.slice(n.position!.start.offset, n.position!.end.offset)}`),
    ).toEqual([
      `1 # T &lt;img src=http://127.0.0.1:9/title> \\[image: t\\](http://127.0.0.1:9/t)`,
      '2 ## You',
      '2 ## Claude',
      '2 ## You',
    ]);
    expect(top.filter((n) => n.type === 'blockquote')).toHaveLength(3);
    expect(md).not.toContain('![');
    expect(md).not.toMatch(/<(img|iframe|script|!--|http)/);
    expect(md).toContain('\\[image: x\\](http://127.0.0.1:9/leak)');
    // Code stays as written, and a diagram fence loses its kind.
    expect(md).toContain('>   <b>code stays code</b>');
    expect(md).toContain('> ```\n> graph TD; A-->B');
    expect(md).toContain('>   ```html');
  });

  it('leaves out an answer not yet written, and names the options model when none was chosen', () => {
    const md = conversationToMarkdown(
      {
        conversation: { ...conversation, model: undefined },
        messages: [msg('q1', 'user', 'Hi', 1), msg('a2', 'assistant', '', 2, 'pending')],
      },
      'claude-haiku-4-5',
    );
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
    const parsed = JSON.parse(
      conversationsToJson([{ conversation, messages: [msg('q1', 'user', 'Q', 1), msg('a2', 'assistant', 'A', 2)] }]),
    ) as {
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
