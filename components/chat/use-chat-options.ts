import { useLiveQuery } from 'dexie-react-hooks';
import { readConversation } from '@/lib/chat/conversation-store';
import { getDb } from '@/lib/storage/db';
import type { ChatOptions, ChatStore } from './chat-store';

/** The open conversation's thinking and search (stored with it), or those chosen for the new chat's first message. */
export function useChatOptions(useChat: ChatStore): ChatOptions {
  const conversationId = useChat((s) => s.conversationId);
  const chosen = useChat((s) => s.options);
  const conversation = useLiveQuery(
    () => (conversationId ? readConversation(getDb(), conversationId) : null),
    [conversationId],
  );
  if (conversationId === null) return chosen;
  return { thinking: conversation?.thinking ?? 'off', webSearch: conversation?.webSearch ?? false };
}
