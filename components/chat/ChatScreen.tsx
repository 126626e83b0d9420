import { useEffect, useMemo, useState, type ComponentType, type ReactNode } from 'react';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import type { KeyStatus } from '@/lib/protocol';
import type { ErrorAction } from '@/lib/storage/rows';
import type { ChatStore } from './chat-store';
import { Composer } from './Composer';
import type { CaptureTab } from './ComposeTools';
import type { MessageActions } from './MessageItem';
import { useTheme } from '../ui/use-theme';
import { EarlyQuota } from '../quota/EarlyQuota';
import { UnlockForm } from './UnlockForm';

type ChatBodyProps = Parameters<typeof import('./ChatBody').default>[0];

export interface ChatScreenProps {
  useChat: ChatStore;
  client: BackgroundClient;
  keyStatus: KeyStatus | null;
  /** The key status changed here (unlocked): the popup, which holds it, takes the new one. */
  onKeyStatus: (status: KeyStatus) => void;
  openOptions: () => void;
  /** Shown above the message box: "Ask about this page" and the side panel's button (components/reach/). */
  tools?: ReactNode;
  /** "Screenshot this tab": the current tab's visible part (absent: no such button). */
  captureTab?: CaptureTab;
  /** Where files are picked when this page cannot open a file dialog (Firefox's toolbar popup). */
  pickElsewhere?: { title: string; open: () => void };
}

export function ChatScreen({
  useChat,
  client,
  keyStatus: key,
  onKeyStatus,
  openOptions,
  tools,
  captureTab,
  pickElsewhere,
}: ChatScreenProps) {
  const view = useChat((s) => s.view);
  const notice = useChat((s) => s.notice);
  const fill = useChat((s) => s.fill);
  // Actions never change, so they are read once rather than subscribed to.
  const { send, prepare, attach, stop, retry, newChat, showHistory, closeHistory, dismissNotice } = useChat.getState();
  // The database and what reads it (Dexie is a third of the popup's script) load once the first
  // frame is up: the message box takes typing without them.
  const [lazy, setLazy] = useState<{
    Body: ComponentType<ChatBodyProps>;
    Picker: ComponentType<{ useChat: ChatStore }>;
    Tools: typeof import('./ComposeTools').ComposeTools;
    Extras: typeof import('./ComposeTools').ComposeExtras;
  } | null>(null);
  useEffect(() => {
    import('./ChatBody').then(
      (m) => setLazy({ Body: m.default, Picker: m.ModelPicker, Tools: m.ComposeTools, Extras: m.ComposeExtras }),
      (err: unknown) => console.warn('[pace] could not load the conversation', err),
    );
  }, []);
  useTheme();
  // A file dropped anywhere on the chat is attached; the browser would otherwise open it in place of the chat.
  useEffect(() => {
    const files = (e: DragEvent) => e.dataTransfer?.types.includes('Files') === true;
    const over = (e: DragEvent) => {
      if (files(e)) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      // Dropped on the message box: the box has attached it already.
      if (!files(e) || e.defaultPrevented) return;
      e.preventDefault();
      void attach([...(e.dataTransfer?.files ?? [])]);
    };
    document.addEventListener('dragover', over);
    document.addEventListener('drop', drop);
    return () => {
      document.removeEventListener('dragover', over);
      document.removeEventListener('drop', drop);
    };
  }, [attach]);
  const unlocked = (status: KeyStatus) => {
    onKeyStatus(status);
    if (useChat.getState().notice?.code === 'locked') dismissNotice();
  };

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
          <button
            type="button"
            onClick={view === 'history' ? closeHistory : showHistory}
            aria-pressed={view === 'history'}
          >
            History
          </button>
          <button type="button" onClick={openOptions} title="Options" aria-label="Options">
            ⚙
          </button>
        </nav>
      </header>
      {key?.demo && (
        <p className="banner banner-demo" data-testid="demo-banner">
          Demo mode: answers come from Pace&apos;s local demo backend, not from Claude. Add your API key in options to
          chat for real.
        </p>
      )}
      {key?.locked && <UnlockForm client={client} last4={key.last4} onUnlocked={unlocked} />}
      {key && !key.hasKey && !key.demo && (
        <p className="banner banner-warn" data-testid="no-key-banner">
          No API key yet.{' '}
          <button type="button" className="link" onClick={openOptions}>
            Add your key in options
          </button>{' '}
          to start chatting.
        </p>
      )}
      {lazy ? (
        <lazy.Body useChat={useChat} client={client} hasKey={key?.hasKey ?? false} actions={actions} />
      ) : (
        <>
          <EarlyQuota />
          <div className="messages" />
        </>
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
      {tools}
      {lazy && <lazy.Picker useChat={useChat} />}
      {lazy && <lazy.Tools useChat={useChat} captureTab={captureTab} pickElsewhere={pickElsewhere} />}
      <Composer
        onSend={send}
        onTyping={prepare}
        fill={fill}
        onFiles={(files) => void attach(files)}
        extras={lazy ? (text) => <lazy.Extras useChat={useChat} text={text} /> : undefined}
      />
    </div>
  );
}
