import type { ChatStore } from '../chat/chat-store';
import { formatBytes, type PendingAttachment } from './pending';

/** The images and PDFs that go with the next message, each with its button to take it off, and why a file was refused. */
export function PendingList({ useChat }: { useChat: ChatStore }) {
  const pending = useChat((s) => s.pending);
  const attaching = useChat((s) => s.attaching);
  const refused = useChat((s) => s.refused);
  const { detach } = useChat.getState();
  if (pending.length === 0 && attaching === 0 && refused.length === 0) return null;
  return (
    <div className="pending">
      {pending.length > 0 && (
        <ul className="pending-list" aria-label="Attachments for the next message">
          {pending.map((a) => (
            <PendingItem key={a.key} attachment={a} onRemove={() => detach(a.key)} />
          ))}
        </ul>
      )}
      {attaching > 0 && (
        <p className="hint" role="status">
          Reading {attaching === 1 ? 'the file' : `${attaching} files`}…
        </p>
      )}
      {refused.map((reason) => (
        <p key={reason} className="error" role="alert" data-testid="attach-refused">
          {reason}
        </p>
      ))}
    </div>
  );
}

function PendingItem({ attachment: a, onRemove }: { attachment: PendingAttachment; onRemove: () => void }) {
  const size =
    a.kind === 'pdf'
      ? `${a.pages ? `${a.pages} ${a.pages === 1 ? 'page' : 'pages'}, ` : ''}${formatBytes(a.bytes)}`
      : `${a.width} x ${a.height} px, ${formatBytes(a.bytes)}`;
  return (
    <li className={`pending-item pending-${a.kind}`} data-testid="attachment-thumb">
      {a.kind === 'image' && a.url ? <img src={a.url} alt={a.name} /> : <span className="pdf-icon">PDF</span>}
      <span className="pending-name" title={a.name}>
        {a.name}
      </span>
      <span className="pending-size">{size}</span>
      <button type="button" className="link" onClick={onRemove} aria-label={`Remove ${a.name}`}>
        ✕
      </button>
    </li>
  );
}
