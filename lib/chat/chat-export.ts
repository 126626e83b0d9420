/**
 * A conversation as a Markdown file, and every conversation as one JSON file (pure: the page reads
 * the rows with lib/chat/conversation-store.ts and downloads the text).
 */
import type { ChatMessage, Conversation } from '../storage/db';
import { inertMarkdown, inertProse, quoteLines } from './inert-markdown';
import { safeFileName } from '../safe-file-name';

export interface ExportedConversation {
  conversation: Conversation;
  messages: ChatMessage[];
}

/**
 * The title as a heading, then each question under "You" and each answer under "Claude", oldest
 * first, each quoted so nothing in it can pose as a heading of its own. The file is inert
 * (lib/chat/inert-markdown.ts): a preview shows images as text, and loads and runs nothing.
 */
export function conversationToMarkdown(
  { conversation, messages }: ExportedConversation,
  defaultModel?: string,
): string {
  const model = conversation.model ?? defaultModel;
  const lines = [
    `# ${inertProse(oneLine(conversation.title))}`,
    '',
    `_Exported from Pace. Started ${new Date(conversation.createdAt).toISOString()}${model ? `; model ${model}` : ''}._`,
  ];
  for (const m of [...messages].sort((a, b) => a.createdAt - b.createdAt)) {
    if (m.role === 'assistant' && m.text === '') continue;
    lines.push('', m.role === 'user' ? '## You' : '## Claude', '', quoteLines(inertMarkdown(m.text.trimEnd())));
    if (m.role === 'assistant' && m.status !== 'done')
      lines.push(
        '',
        `_(${m.status === 'streaming' || m.status === 'pending' ? 'still being written' : 'unfinished'})_`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Every conversation with its messages (text, role, time, model), as JSON. A message's attachments
 * are listed by name, type and size; their bytes (base64) only with `includeAttachments`, from
 * `data` (lib/chat/conversation-store.ts `exportAttachmentData`): an attachment missing from it is listed without.
 */
export function conversationsToJson(
  all: ExportedConversation[],
  options: { includeAttachments?: boolean; data?: ReadonlyMap<string, string> } = {},
): string {
  const attachmentsOf = (m: ChatMessage) =>
    m.attachments && m.attachments.length > 0
      ? {
          attachments: m.attachments.map((a) => {
            const data = options.includeAttachments ? options.data?.get(a.id) : undefined;
            return {
              name: a.name,
              mediaType: a.mediaType,
              bytes: a.bytes,
              ...(a.width && a.height ? { width: a.width, height: a.height } : {}),
              ...(a.pages ? { pages: a.pages } : {}),
              ...(data !== undefined ? { data } : {}),
            };
          }),
        }
      : {};
  return JSON.stringify(
    {
      exportedBy: 'Pace',
      conversations: all.map(({ conversation, messages }) => ({
        id: conversation.id,
        title: conversation.title,
        createdAt: new Date(conversation.createdAt).toISOString(),
        updatedAt: new Date(conversation.updatedAt).toISOString(),
        ...(conversation.model ? { model: conversation.model } : {}),
        messages: [...messages]
          .sort((a, b) => a.createdAt - b.createdAt)
          .map((m) => ({
            role: m.role,
            text: m.text,
            at: new Date(m.createdAt).toISOString(),
            status: m.status,
            ...(m.model ? { model: m.model } : {}),
            ...attachmentsOf(m),
          })),
      })),
    },
    null,
    2,
  );
}

/** `pace-chat-<title words>.md`, or `pace-chats-<date>.json` for all of them. */
export function exportName(kind: 'md' | 'json', at: number, title = ''): string {
  if (kind === 'json') return safeFileName(`pace-chats-${isoDay(at)}.json`);
  const slug = title
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return safeFileName(`pace-chat-${slug || isoDay(at)}.md`);
}

/** The UTC day of `at`, or nothing for a time that is not one (the name then goes without it). */
const isoDay = (at: number) =>
  Number.isFinite(at) && Math.abs(at) <= 8.64e15 ? new Date(at).toISOString().slice(0, 10) : '';

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim() || 'Chat';
