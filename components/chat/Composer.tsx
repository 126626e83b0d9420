import {
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type DragEvent,
  type KeyboardEvent,
  type ReactNode,
} from 'react';
import { MAX_PROMPT_CHARS } from '@/lib/settings/validate';
import { withQuote } from '@/lib/reach/templates';
import { readDraft, saveDraft } from '@/lib/storage/draft';
import { batchPrefsItem } from '@/lib/settings/settings-items';
import { useStored } from '../settings/use-stored';
import { adoptEarlyComposer } from './early-composer';
import { filesOf } from '../attachments/pending';

/**
 * The message box. Enter sends, Shift+Enter adds a line. What is typed is saved as a draft as it
 * changes, and cleared only when the background has accepted the message. "Later, half price"
 * sends it as part of a Message Batch; its default is the options page's. In the popup it takes over
 * the plain box popup.html showed before React (./early-composer.ts): the text, the caret, and an
 * Enter pressed there, sent once the send options are known.
 */
export function Composer({
  onSend,
  onTyping,
  fill,
  onFiles,
  extras,
}: {
  onSend: (text: string, later: boolean) => Promise<boolean>;
  /** The user typed: the background reads ahead what the send will need. */
  onTyping?: () => void;
  fill?: { text: string; at: number } | null;
  /** Files pasted or dropped on the box, for the next message. */
  onFiles?: (files: File[]) => void;
  /** Under the box, given what is typed: the pending attachments and the send's preview (loaded after the first paint). */
  extras?: (text: string) => ReactNode;
}) {
  // Read while the early box is still in the page: React's first render and the commit that
  // replaces the box run in one task, so no keystroke falls between them.
  const [early] = useState(adoptEarlyComposer);
  const [text, setText] = useState(early?.text ?? '');
  const prefs = useStored(batchPrefsItem);
  // An Enter pressed in the early box sends as that box showed "Later"; otherwise only a tick there counts.
  const [laterChoice, setLater] = useState<boolean | null>(early?.send ? early.later : early?.later ? true : null);
  const later = laterChoice ?? prefs?.sendLater ?? false;
  const [loaded, setLoaded] = useState(false);
  const [sendWhenReady, setSendWhenReady] = useState(early?.send ?? false);
  const box = useRef<HTMLTextAreaElement>(null);

  // In the commit itself: a passive effect would wait behind whatever the page loads next (the rest of the popup).
  useLayoutEffect(() => {
    box.current?.focus();
    if (early) box.current?.setSelectionRange(early.selectionStart, early.selectionEnd, early.selectionDirection);
  }, [early]);

  useEffect(() => {
    readDraft().then(
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

  // A quoted selection from the context menu or shortcut goes after what is typed (never over it);
  // in an empty box the question goes on the first line, above it.
  useEffect(() => {
    if (!fill) return;
    let empty = false;
    setText((current) => {
      empty = current.trim() === '';
      return empty ? `\n\n${fill.text}` : withQuote(current, fill.text);
    });
    requestAnimationFrame(() => {
      box.current?.focus();
      if (empty) box.current?.setSelectionRange(0, 0);
    });
  }, [fill]);

  useEffect(() => {
    // Saved on every change: a popup can close at any moment, taking pending timers with it.
    if (loaded) saveDraft(text).catch((err: unknown) => console.warn('[pace] could not save the draft', err));
  }, [text, loaded]);

  /** The text on its way to the background: the same text sent again meanwhile (a second Enter) is not sent twice. */
  const inFlight = useRef<string | null>(null);
  const submit = async () => {
    const sent = text;
    setSendWhenReady(false);
    if (inFlight.current === sent) return;
    inFlight.current = sent;
    try {
      if (await onSend(sent, later)) {
        // The effect above saves the emptied box; what was typed meanwhile stays, here and in the draft.
        setText((current) => (current === sent ? '' : current));
      }
    } finally {
      inFlight.current = null;
    }
  };

  // An Enter pressed in the early box: sent once the default for "Later" is known, as if pressed
  // now, and the saved draft is read (so the draft, once read, cannot bring the sent text back).
  useEffect(() => {
    if (!sendWhenReady || prefs === null || !loaded) return;
    void submit();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- sends once, with the text of this render
  }, [sendWhenReady, prefs, loaded]);

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  };

  // A file dropped on the box is attached, not opened in the tab (nor its path typed in).
  const onDragOver = (e: DragEvent) => {
    if (onFiles && e.dataTransfer.types.includes('Files')) e.preventDefault();
  };
  const onDrop = (e: DragEvent) => {
    const files = filesOf(e.dataTransfer);
    if (!onFiles || files.length === 0) return;
    e.preventDefault();
    onFiles(files);
  };

  const over = text.length > MAX_PROMPT_CHARS;
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
      onDragOver={onDragOver}
      onDrop={onDrop}
    >
      <textarea
        ref={box}
        aria-label="Message"
        placeholder="Message Claude (Enter to send, Shift+Enter for a new line)"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          onTyping?.();
        }}
        onKeyDown={onKeyDown}
        onPaste={(e) => {
          // A pasted image is attached. Pasted text is typed as usual, and the picture of it that
          // office programs put beside it (cells copied from a spreadsheet) is not attached.
          if (!onFiles || e.clipboardData.types.includes('text/plain')) return;
          const files = filesOf(e.clipboardData);
          if (files.length === 0) return;
          e.preventDefault();
          onFiles(files);
        }}
        rows={3}
      />
      {extras?.(text)}
      <div className="composer-bar">
        <span className={over ? 'count over' : 'count'}>
          {text.length > 1000
            ? `${text.length.toLocaleString('en-US')} / ${MAX_PROMPT_CHARS.toLocaleString('en-US')}`
            : ''}
        </span>
        <label
          className="check later"
          title="Sent with others as one Message Batch: half the price, the answer usually within an hour."
        >
          <input
            type="checkbox"
            checked={later}
            onChange={(e) => setLater(e.target.checked)}
            data-testid="send-later"
          />
          Later, half price
        </label>
        <button type="submit" className="primary">
          {later ? 'Send later' : 'Send'}
        </button>
      </div>
    </form>
  );
}
