import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useState } from 'react';
import { recentConversations } from '@/lib/chat/conversation-store';
import { getDb } from '@/lib/storage/db';
import type { ChatStore } from './chat-store';

/**
 * The popup, the side panel and the usage page show one conversation: when a message starts or
 * continues another one anywhere (the context menu, the other surface), this page follows it.
 */
export function useFollowLatest(useChat: ChatStore): void {
  const [since] = useState(() => Date.now());
  const latest = useLiveQuery(() => recentConversations(getDb(), 1), []);
  const [id, updatedAt] = [latest?.[0]?.id, latest?.[0]?.updatedAt ?? 0];
  // Only a change of the latest conversation moves this page: one opened from the history stays.
  useEffect(() => {
    if (!id || updatedAt < since) return;
    const { conversationId, view, open } = useChat.getState();
    if (view === 'chat' && conversationId !== id) open(id);
  }, [id, updatedAt, since, useChat]);
}
