import { useLiveQuery } from 'dexie-react-hooks';
import { recentConversations } from '@/lib/chat/conversation-store';
import { getDb } from '@/lib/storage/db';

export function HistoryList({ onOpen, currentId }: { onOpen: (id: string) => void; currentId: string | null }) {
  const conversations = useLiveQuery(() => recentConversations(getDb()), []);
  if (!conversations) return null;
  if (conversations.length === 0) return <p className="empty">No earlier chats yet.</p>;
  return (
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
  );
}

function formatWhen(ms: number): string {
  const d = new Date(ms);
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}
