import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useRef } from 'react';
import { loadMessages, recentConversations } from '@/lib/chat/conversation-store';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { getDb } from '@/lib/storage/db';
import { skippedNotice } from '@/lib/storage/row-guards';
import type { ChatStore } from './chat-store';
import { EarlyQuota } from '../quota/EarlyQuota';
import { QuotaBar } from '../quota/QuotaBar';
import { GatewayBudgetLine } from '../quota/GatewayBudgetLine';
import { AllDevices } from '../quota/AllDevices';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { useQueue } from '../quota/use-queue';
import { HistoryList } from './HistoryList';
import { MessageItem, type MessageActions } from './MessageItem';
import { StatusAnnouncer } from './StatusAnnouncer';
import { useFollowLatest } from './use-follow-latest';

// The model picker reads the conversation's model from the database: it loads with the body.
export { ModelPicker } from './ModelPicker';

/**
 * The popup's stored part: the quota, the gateway's budget, and the conversation or the history,
 * read live from the database, with the announcer of the latest answer's state. Loaded after the first paint (ChatScreen lazy-loads it, and Dexie
 * with it), so the message box takes typing before any of it is read.
 */
export default function ChatBody({
  useChat,
  client,
  hasKey,
  actions,
}: {
  useChat: ChatStore;
  client: BackgroundClient;
  hasKey: boolean;
  actions: MessageActions;
}) {
  const conversationId = useChat((s) => s.conversationId);
  const view = useChat((s) => s.view);
  const live = useChat((s) => s.live);
  const { reopen, clearQueue, tryNow } = useChat.getState();
  const queue = useQueue();
  useFollowLatest(useChat);

  // Reopening the popup shows the most recent conversation.
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current) return;
    opened.current = true;
    recentConversations(getDb(), 1).then(
      ([latest]) => latest && reopen(latest.id),
      (err: unknown) => console.warn('[pace] could not read conversations', err),
    );
  }, [reopen, useChat]);

  const loaded = useLiveQuery(() => (conversationId ? loadMessages(getDb(), conversationId) : null), [conversationId]);
  const messages = conversationId ? loaded?.messages : [];
  const unreadable = conversationId ? skippedNotice(loaded?.skipped.length ?? 0, 'message') : null;

  const list = useRef<HTMLDivElement>(null);
  const lastText = messages?.at(-1)?.id ? (live[messages.at(-1)!.id] ?? messages.at(-1)!.text).length : 0;
  useEffect(() => {
    list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [messages?.length, lastText]);

  return (
    <>
      {queue ? (
        <QuotaBar
          view={queue.view}
          limits={queue.limits}
          now={queue.now}
          onClear={() => void clearQueue()}
          onTryNow={() => void tryNow()}
        />
      ) : (
        // The early script's line, until the queue is read.
        <EarlyQuota />
      )}
      {queue && hasKey && <GatewayBudgetLine client={client} />}
      {queue && <AllDevices />}
      {view === 'history' ? (
        <HistoryList useChat={useChat} />
      ) : (
        <div className="messages" ref={list}>
          {unreadable && (
            <p className="banner banner-warn" data-testid="skipped-notice">
              {unreadable}
            </p>
          )}
          {messages && messages.length === 0 && <p className="empty">Ask Claude anything.</p>}
          {messages?.map((m) => (
            <ErrorBoundary key={m.id} fallback={<p className="error">This message could not be shown.</p>}>
              <MessageItem
                message={m}
                live={live[m.id]}
                job={queue?.view.jobs.get(m.id)}
                now={queue?.view.jobs.has(m.id) ? queue.now : 0}
                actions={actions}
              />
            </ErrorBoundary>
          ))}
        </div>
      )}
      <StatusAnnouncer messages={messages} jobs={queue?.view.jobs} />
    </>
  );
}
