import { useLiveQuery } from 'dexie-react-hooks';
import { readConversation } from '@/lib/chat/conversation-store';
import { settingsItem } from '@/lib/settings/settings-items';
import { getDb } from '@/lib/storage/db';
import { useStored } from '../settings/use-stored';
import type { ChatOptions, ChatStore } from './chat-store';

/**
 * The open conversation's thinking and search (stored with it), or those chosen for the new chat's
 * first message; with the model they go to (its own, the one picked for the new chat, else the options').
 */
export function useChatOptions(useChat: ChatStore): ChatOptions & { model: string | null } {
  const conversationId = useChat((s) => s.conversationId);
  const chosen = useChat((s) => s.options);
  const picked = useChat((s) => s.model);
  const settings = useStored(settingsItem);
  const conversation = useLiveQuery(
    () => (conversationId ? readConversation(getDb(), conversationId) : null),
    [conversationId],
  );
  const fallback = settings?.model ?? null;
  if (conversationId === null) return { ...chosen, model: picked ?? fallback };
  return {
    thinking: conversation?.thinking ?? 'off',
    webSearch: conversation?.webSearch ?? false,
    model: conversation?.model ?? fallback,
  };
}
