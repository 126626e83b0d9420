import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import {
  exportAttachmentData,
  loadAllConversations,
  loadConversation,
  searchConversations,
} from '@/lib/chat/conversation-store';
import { conversationToMarkdown, conversationsToJson, exportName } from '@/lib/chat/chat-export';
import { getDb, type Conversation } from '@/lib/storage/db';
import { settingsItem } from '@/lib/settings/settings-items';
import { skippedNotice } from '@/lib/storage/row-guards';
import { download } from '../ui/download';
import { FieldError } from '../ui/FieldError';
import { useStored } from '../settings/use-stored';
import type { ChatStore } from './chat-store';

/** What the list is asking about: renaming one chat, deleting one, or deleting all. */
type Asking = { kind: 'rename'; id: string } | { kind: 'delete'; id: string } | { kind: 'deleteAll' } | null;

/**
 * Earlier chats: search by text, open, rename, export as Markdown, delete one or all (after a
 * yes), export all as JSON. Escape cancels what is being asked, else goes back to the chat.
 */
export function HistoryList({ useChat }: { useChat: ChatStore }) {
  const currentId = useChat((s) => s.conversationId);
  const { open, closeHistory, rename, deleteChat, deleteAllChats } = useChat.getState();
  const [query, setQuery] = useState('');
  const [asking, setAsking] = useState<Asking>(null);
  const [error, setError] = useState<string | null>(null);
  /** The JSON export carries the images' and PDFs' bytes (base64) only when asked: they make it large. */
  const [includeAttachments, setIncludeAttachments] = useState(false);
  const defaultModel = useStored(settingsItem)?.model;
  const search = useRef<HTMLInputElement>(null);
  // What opened the list (the History button) gets the focus back when Escape closes it.
  const opener = useRef(document.activeElement instanceof HTMLElement ? document.activeElement : null);
  const loaded = useLiveQuery(() => searchConversations(getDb(), query), [query]);

  useEffect(() => search.current?.focus(), []);

  const cancel = () => {
    setAsking(null);
    setError(null);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    if (asking) {
      cancel();
    } else {
      closeHistory();
      opener.current?.focus();
    }
  };

  const exportOne = async (c: Conversation) => {
    const found = await loadConversation(getDb(), c.id).catch(() => null);
    if (!found) {
      setError('That chat could not be read for the export.');
      return;
    }
    download(
      conversationToMarkdown(found, defaultModel),
      'text/markdown;charset=utf-8',
      exportName('md', Date.now(), c.title),
    );
  };
  const exportAll = async () => {
    try {
      const all = await loadAllConversations(getDb());
      const data = includeAttachments ? await exportAttachmentData(getDb(), all) : undefined;
      download(
        conversationsToJson(all, { includeAttachments, data }),
        'application/json',
        exportName('json', Date.now()),
      );
    } catch (e) {
      setError(`Could not export the chats: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const conversations = loaded?.conversations ?? [];
  const unreadable = skippedNotice(loaded?.skipped.length ?? 0, 'conversation');
  return (
    <div className="history-view" onKeyDown={onKeyDown}>
      <div className="history-tools">
        <input
          ref={search}
          type="search"
          aria-label="Search chats"
          placeholder="Search chats"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          data-testid="history-search"
        />
      </div>
      {unreadable && (
        <p className="banner banner-warn" data-testid="skipped-notice">
          {unreadable}
        </p>
      )}
      <FieldError error={error} />
      {loaded && conversations.length === 0 && !unreadable && (
        <p className="empty">{query.trim() ? `No chat contains "${query.trim()}".` : 'No earlier chats yet.'}</p>
      )}
      {conversations.length > 0 && (
        <ul className="history" aria-label="Earlier chats">
          {conversations.map((c) => (
            <li key={c.id} data-testid="history-item">
              {asking?.kind === 'rename' && asking.id === c.id ? (
                <RenameForm
                  title={c.title}
                  onSave={async (title) => {
                    const problem = await rename(c.id, title);
                    if (!problem) cancel();
                    return problem?.message ?? null;
                  }}
                  onCancel={cancel}
                />
              ) : (
                <div className="history-row">
                  <button
                    type="button"
                    className={c.id === currentId ? 'history-open current' : 'history-open'}
                    onClick={() => open(c.id)}
                    aria-current={c.id === currentId ? 'true' : undefined}
                  >
                    <span className="title">{c.title}</span>
                    <time dateTime={new Date(c.updatedAt).toISOString()}>{formatWhen(c.updatedAt)}</time>
                  </button>
                  <span className="history-actions">
                    <button
                      type="button"
                      className="link"
                      onClick={() => setAsking({ kind: 'rename', id: c.id })}
                      aria-label={`Rename ${c.title}`}
                    >
                      Rename
                    </button>
                    <button
                      type="button"
                      className="link"
                      onClick={() => void exportOne(c)}
                      aria-label={`Export ${c.title} as Markdown`}
                    >
                      Export
                    </button>
                    <button
                      type="button"
                      className="link danger"
                      onClick={() => setAsking({ kind: 'delete', id: c.id })}
                      aria-label={`Delete ${c.title}`}
                    >
                      Delete
                    </button>
                  </span>
                </div>
              )}
              {asking?.kind === 'delete' && asking.id === c.id && (
                <Confirm
                  question={`Delete "${c.title}" and all its messages? Usage counts stay.`}
                  yes="Delete chat"
                  onYes={async () => {
                    if (await deleteChat(c.id)) cancel();
                  }}
                  onNo={cancel}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      <div className="history-footer">
        <button type="button" onClick={() => void exportAll()} disabled={!loaded || conversations.length === 0}>
          Export all (JSON)
        </button>
        <IncludeAttachments checked={includeAttachments} onChange={setIncludeAttachments} />
        <button
          type="button"
          className="danger"
          onClick={() => setAsking({ kind: 'deleteAll' })}
          disabled={!loaded || conversations.length === 0}
        >
          Delete all chats
        </button>
      </div>
      {asking?.kind === 'deleteAll' && (
        <Confirm
          question="Delete every chat and all their messages? This cannot be undone. Usage counts stay."
          yes="Delete all"
          onYes={async () => {
            if (await deleteAllChats()) cancel();
          }}
          onNo={cancel}
        />
      )}
    </div>
  );
}

/** A yes/no question in place; the yes button takes the focus, Escape (in HistoryList) says no. */
function Confirm({
  question,
  yes,
  onYes,
  onNo,
}: {
  question: string;
  yes: string;
  onYes: () => Promise<void>;
  onNo: () => void;
}) {
  const yesButton = useRef<HTMLButtonElement>(null);
  useEffect(() => yesButton.current?.focus(), []);
  return (
    <div className="confirm" role="group" aria-label={question} data-testid="confirm">
      <p>{question}</p>
      <button ref={yesButton} type="button" className="danger" onClick={() => void onYes()}>
        {yes}
      </button>
      <button type="button" onClick={onNo}>
        Cancel
      </button>
    </div>
  );
}

function RenameForm({
  title,
  onSave,
  onCancel,
}: {
  title: string;
  onSave: (title: string) => Promise<string | null>;
  onCancel: () => void;
}) {
  const [value, setValue] = useState(title);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLInputElement>(null);
  useEffect(() => box.current?.select(), []);
  return (
    <form
      className="rename"
      onSubmit={(e) => {
        e.preventDefault();
        void onSave(value).then(setError);
      }}
    >
      <input ref={box} aria-label="New name" value={value} onChange={(e) => setValue(e.target.value)} />
      <button type="submit" className="primary">
        Save
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <FieldError error={error} />
    </form>
  );
}

function formatWhen(ms: number): string {
  const d = new Date(ms);
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

/** The JSON export's choice to carry the images' and PDFs' bytes; off by default. */
export function IncludeAttachments({ checked, onChange }: { checked: boolean; onChange: (on: boolean) => void }) {
  return (
    <label className="check" htmlFor="exportAttachments">
      <input id="exportAttachments" type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      Include attachments
    </label>
  );
}
