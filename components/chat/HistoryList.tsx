import { useLiveQuery } from 'dexie-react-hooks';
import { loadConversations } from '@/lib/chat/conversation-store';
import { getDb } from '@/lib/storage/db';
import { skippedNotice } from '@/lib/storage/row-guards';

export function HistoryList({ onOpen, currentId }: { onOpen: (id: string) => void; currentId: string | null }) {
  const loaded = useLiveQuery(() => loadConversations(getDb()), []);
  if (!loaded) return null;
  const { conversations } = loaded;
  const unreadable = skippedNotice(loaded.skipped.length, 'conversation');
  const note = unreadable && (
    <p className="banner banner-warn" data-testid="skipped-notice">
      {unreadable}
    </p>
  );
  if (conversations.length === 0) return note || <p className="empty">No earlier chats yet.</p>;
  return (
    <>
      {note}
      <ul className="history" aria-label="Earlier chats">
        {conversations.map((c) => (
          <li key={c.id}>
            <button type="button" className={c.id === currentId ? 'current' : ''} onClick={() => onOpen(c.id)}>
              <span className="title">{c.title}</span>
              <time dateTime={new Date(c.updatedAt).toISOString()}>{formatWhen(c.updatedAt)}</time>
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

function formatWhen(ms: number): string {
  const d = new Date(ms);
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}
