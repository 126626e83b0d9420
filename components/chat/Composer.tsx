import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { MAX_PROMPT_CHARS } from '@/lib/settings/validate';
import { draftItem } from '@/lib/storage/settings';

/**
 * The message box. Enter sends, Shift+Enter adds a line. What is typed is saved as a draft as it
 * changes, and cleared only when the background has accepted the message.
 */
export function Composer({ onSend }: { onSend: (text: string) => Promise<boolean> }) {
  const [text, setText] = useState('');
  const [loaded, setLoaded] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);

  // In the commit itself: a passive effect would wait behind whatever the page loads next (the rest of the popup).
  useLayoutEffect(() => {
    box.current?.focus();
  }, []);

  useEffect(() => {
    draftItem.getValue().then(
      (draft) => {
        setText((current) => current || draft);
        setLoaded(true);
      },
      (err: unknown) => {
        console.warn('[pace] could not read the draft', err);
        setLoaded(true);
      },
    );
  }, []);

  useEffect(() => {
    // Saved on every change: a popup can close at any moment, taking pending timers with it.
    // The one write a page makes itself: the unsent text is what the user typed, only for this
    // popup, and has nothing for the background to check.
    // eslint-disable-next-line no-restricted-syntax -- the draft is the popup's own UI state
    if (loaded) draftItem.setValue(text).catch((err: unknown) => console.warn('[pace] could not save the draft', err));
  }, [text, loaded]);

  const submit = async () => {
    const sent = text;
    if (await onSend(sent)) {
      // The effect above saves the emptied box; what was typed meanwhile stays, here and in the draft.
      setText((current) => (current === sent ? '' : current));
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  };

  const over = text.length > MAX_PROMPT_CHARS;
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <textarea
        ref={box}
        aria-label="Message"
        placeholder="Message Claude (Enter to send, Shift+Enter for a new line)"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        rows={3}
      />
      <div className="composer-bar">
        <span className={over ? 'count over' : 'count'}>
          {text.length > 1000 ? `${text.length.toLocaleString('en-US')} / ${MAX_PROMPT_CHARS.toLocaleString('en-US')}` : ''}
        </span>
        <button type="submit" className="primary">
          Send
        </button>
      </div>
    </form>
  );
}
