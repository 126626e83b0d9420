import { useRef } from 'react';
import { supportsThinking } from '@/lib/claude/models';
import { IMAGE_MEDIA_TYPES, PDF_MEDIA_TYPE, THINKING_EFFORTS, type ThinkingEffort } from '@/lib/storage/rows';
import { filesOf } from '../attachments/pending';
import { PendingList } from '../attachments/PendingList';
import type { ChatStore } from './chat-store';
import { SendPreview } from './SendPreview';
import { useChatOptions } from './use-chat-options';

/** The visible part of the current tab as a PNG data URL, and the tab's title (tabs.captureVisibleTab, on the click only). */
export type CaptureTab = () => Promise<{ dataUrl: string; title: string }>;

/** The file input's `accept`: what the API reads besides text. */
const ACCEPTED_TYPES = [...IMAGE_MEDIA_TYPES, PDF_MEDIA_TYPE].join(',');

const EFFORT_LABEL: Record<ThinkingEffort, string> = { off: 'Off', low: 'Low', medium: 'Medium', high: 'High' };

/**
 * Above the message box: attach an image or PDF, screenshot the tab, and the conversation's thinking
 * and web search. Loaded with the conversation after the first paint (the popup's box draws without it).
 */
export function ComposeTools({
  useChat,
  captureTab,
  pickElsewhere,
}: {
  useChat: ChatStore;
  captureTab?: CaptureTab;
  /**
   * Firefox closes its toolbar popup when a file dialog opens, and the file never arrives: there the
   * button opens the chat in the sidebar, whose file dialog works (paste and drop still attach here).
   */
  pickElsewhere?: { title: string; open: () => void };
}) {
  const input = useRef<HTMLInputElement>(null);
  const attaching = useChat((s) => s.attaching);
  const { attach, screenshot, chooseOptions } = useChat.getState();
  const options = useChatOptions(useChat);
  return (
    <div className="compose-tools">
      <button
        type="button"
        className="icon-button"
        aria-label="Attach an image or PDF"
        title={pickElsewhere?.title ?? 'Attach an image or PDF'}
        onClick={() => (pickElsewhere ? pickElsewhere.open() : input.current?.click())}
      >
        📎
      </button>
      <input
        ref={input}
        type="file"
        hidden
        multiple
        accept={ACCEPTED_TYPES}
        data-testid="attach-input"
        tabIndex={-1}
        aria-hidden="true"
        onChange={(e) => {
          const files = filesOf(e.target);
          // The same file chosen again still fires a change.
          e.target.value = '';
          void attach(files);
        }}
      />
      {captureTab && (
        <button
          type="button"
          className="icon-button"
          aria-label="Screenshot this tab"
          title="Screenshot this tab"
          disabled={attaching > 0}
          onClick={() => void screenshot(captureTab)}
        >
          📷
        </button>
      )}
      {(options.model === null || supportsThinking(options.model)) && (
        <label className="thinking">
          <span>Thinking</span>
          <select
            aria-label="Thinking"
            value={options.thinking}
            onChange={(e) => void chooseOptions({ thinking: e.target.value as ThinkingEffort })}
          >
            {THINKING_EFFORTS.map((effort) => (
              <option key={effort} value={effort}>
                {EFFORT_LABEL[effort]}
              </option>
            ))}
          </select>
        </label>
      )}
      <label className="check" title="Claude may search the web (each search costs $0.01)">
        <input
          type="checkbox"
          aria-label="Search the web"
          checked={options.webSearch}
          onChange={(e) => void chooseOptions({ webSearch: e.target.checked })}
        />
        Search the web
      </label>
    </div>
  );
}

/** In the message box: the pending attachments and, when something costs more than text, the send's preview. */
export function ComposeExtras({ useChat, text }: { useChat: ChatStore; text: string }) {
  const { thinking, webSearch } = useChatOptions(useChat);
  return (
    <>
      <PendingList useChat={useChat} />
      <SendPreview useChat={useChat} text={text} options={{ thinking, webSearch }} />
    </>
  );
}
