import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import { loadMessages, recentConversations } from '@/lib/chat/conversation-store';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import type { ErrorAction, KeyStatus } from '@/lib/protocol';
import { getDb } from '@/lib/storage/db';
import { skippedNotice } from '@/lib/storage/row-guards';
import type { ChatStore } from './chat-store';
import { Composer } from './Composer';
import { QuotaBar } from '../quota/QuotaBar';
import { GatewayBudgetLine } from '../quota/GatewayBudgetLine';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { useQueue } from '../quota/use-queue';
import { HistoryList } from './HistoryList';
import { ModelPicker } from './ModelPicker';
import { StatusAnnouncer } from './StatusAnnouncer';
import { useTheme } from '../ui/use-theme';
import { MessageItem, type MessageActions } from './MessageItem';
import { UnlockForm } from './UnlockForm';

export interface ChatScreenProps {
  useChat: ChatStore;
  client: BackgroundClient;
  keyStatus: KeyStatus | null;
  /** The key status changed here (unlocked): the popup, which holds it, takes the new one. */
  onKeyStatus: (status: KeyStatus) => void;
  openOptions: () => void;
  /** Shown above the message box: "Ask about this page" and the side panel's button (components/reach/). */
  tools?: ReactNode;
}

export function ChatScreen({ useChat, client, keyStatus: key, onKeyStatus, openOptions, tools }: ChatScreenProps) {
  const conversationId = useChat((s) => s.conversationId);
  const view = useChat((s) => s.view);
  const live = useChat((s) => s.live);
  const notice = useChat((s) => s.notice);
  const fill = useChat((s) => s.fill);
  // Actions never change, so they are read once rather than subscribed to.
  const { send, stop, retry, newChat, open, showHistory, closeHistory, dismissNotice, clearQueue, tryNow } = useChat.getState();
  const queue = useQueue();
  useTheme();
  const unlocked = (status: KeyStatus) => {
    onKeyStatus(status);
    if (useChat.getState().notice?.code === 'locked') dismissNotice();
  };

  // Reopening the popup shows the most recent conversation.
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current) return;
    opened.current = true;
    recentConversations(getDb(), 1).then(
      ([latest]) => latest && open(latest.id),
      (err: unknown) => console.warn('[pace] could not read conversations', err),
    );
  }, [open]);

  const loaded = useLiveQuery(() => (conversationId ? loadMessages(getDb(), conversationId) : null), [conversationId]);
  const messages = conversationId ? loaded?.messages : [];
  const unreadable = conversationId ? skippedNotice(loaded?.skipped.length ?? 0, 'message') : null;

  const list = useRef<HTMLDivElement>(null);
  const lastText = messages?.at(-1)?.id ? (live[messages.at(-1)!.id] ?? messages.at(-1)!.text).length : 0;
  useEffect(() => {
    list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [messages?.length, lastText]);

  // One object for the popup's life, so a message that did not change is not drawn again.
  const actions: MessageActions = useMemo(
    () => ({
      stop: (id) => void stop(id),
      retry: (id) => void retry(id),
      act: (action: ErrorAction, id) => {
        if (action === 'open_options') openOptions();
        else if (action === 'new_chat') newChat();
        else void retry(id);
      },
    }),
    [stop, retry, newChat, openOptions],
  );

  return (
    <div className="chat">
      <header className="topbar">
        <strong className="brand">Pace</strong>
        <nav>
          <button type="button" onClick={newChat} title="Start a new chat">
            New chat
          </button>
          <button type="button" onClick={view === 'history' ? closeHistory : showHistory} aria-pressed={view === 'history'}>
            History
          </button>
          <button type="button" onClick={openOptions} title="Options" aria-label="Options">
            ⚙
          </button>
        </nav>
      </header>
      {key?.demo && (
        <p className="banner banner-demo" data-testid="demo-banner">
          Demo mode: answers come from Pace&apos;s local demo backend, not from Claude. Add your API key in options to chat for real.
        </p>
      )}
      {key?.locked && <UnlockForm client={client} last4={key.last4} onUnlocked={unlocked} />}
      {key && !key.hasKey && !key.demo && (
        <p className="banner banner-warn" data-testid="no-key-banner">
          No API key yet. <button type="button" className="link" onClick={openOptions}>Add your key in options</button> to start
          chatting.
        </p>
      )}
      {queue && <QuotaBar view={queue.view} limits={queue.limits} now={queue.now} onClear={() => void clearQueue()} onTryNow={() => void tryNow()} />}
      {queue && key?.hasKey && <GatewayBudgetLine client={client} />}
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
              <MessageItem message={m} live={live[m.id]} job={queue?.view.jobs.get(m.id)} now={queue?.view.jobs.has(m.id) ? queue.now : 0} actions={actions} />
            </ErrorBoundary>
          ))}
        </div>
      )}
      {notice && (
        <div className="notice" role="alert" data-testid="notice" data-code={notice.code}>
          <span>{notice.message}</span>
          {notice.action === 'open_options' && (
            <button type="button" className="link" onClick={openOptions}>
              Open options
            </button>
          )}
          <button type="button" className="link" onClick={dismissNotice} aria-label="Dismiss">
            ✕
          </button>
        </div>
      )}
      <StatusAnnouncer messages={messages} jobs={queue?.view.jobs} />
      {tools}
      <ModelPicker useChat={useChat} />
      <Composer onSend={send} fill={fill} />
    </div>
  );
}
