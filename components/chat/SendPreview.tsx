import { useEffect, useRef, useState } from 'react';
import type { ChatOptions, ChatStore, SendPreview as Preview } from './chat-store';
import { CostPreview } from '../ui/CostPreview';

/** How long typing must pause before the cost is asked again. */
const PREVIEW_DEBOUNCE_MS = 400;

/**
 * Before a message with attachments, thinking or web search is sent: its tokens, what it may cost at
 * the chat's model, and what would stop it (the background's chat.preview, asked once typing pauses).
 */
export function SendPreview({ useChat, text, options }: { useChat: ChatStore; text: string; options: ChatOptions }) {
  const pending = useChat((s) => s.pending);
  const conversationId = useChat((s) => s.conversationId);
  const model = useChat((s) => s.model);
  const page = useChat((s) => s.page);
  const { thinking, webSearch } = options;
  const shown = pending.length > 0 || thinking !== 'off' || webSearch;
  const [preview, setPreview] = useState<Preview | null | 'failed'>(null);
  const asked = useRef(0);
  // What is attached or chosen changed: the figures shown are another message's until the new ones come.
  useEffect(() => setPreview(null), [pending, conversationId, model, page, thinking, webSearch]);
  useEffect(() => {
    if (!shown) return;
    const turn = ++asked.current;
    const timer = setTimeout(() => {
      useChat
        .getState()
        .preview(text, { thinking, webSearch })
        .then(
          (p) => turn === asked.current && setPreview(p ?? 'failed'),
          (err: unknown) => {
            console.warn('[pace] could not preview the send', err);
            if (turn === asked.current) setPreview('failed');
          },
        );
    }, PREVIEW_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [useChat, shown, text, pending, conversationId, model, page, thinking, webSearch]);
  if (!shown) return null;
  return (
    <section className="send-preview" data-testid="send-preview" aria-label="Before you send" aria-live="polite">
      {preview === null ? (
        <p className="hint">Working out what it costs…</p>
      ) : preview === 'failed' ? (
        <p className="hint">What it costs could not be worked out; the background checks it again at Send.</p>
      ) : (
        <CostPreview preview={preview} listTestId="send-preview-lines" blockerTestId="send-blocker" />
      )}
    </section>
  );
}
