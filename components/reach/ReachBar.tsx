import { useEffect, useState } from 'react';
import { openPanel, PANEL_NAME, type PanelBrowser } from '@/lib/reach/open-panel';
import type { ChatStore } from '../chat/chat-store';
import { CostPreview } from '../ui/CostPreview';

export interface ReachBarProps {
  useChat: ChatStore;
  /** The popup offers to open the side panel; the panel itself does not. */
  surface: 'popup' | 'panel';
  /** The browser's APIs for the panel, and this page's window (windows.getCurrent). */
  browser: PanelBrowser & { windows: { getCurrent(): Promise<{ id?: number }> } };
}

/**
 * "Ask about this page" and, in the popup, the button that opens the side panel; the page read
 * shows its size and cost before anything is sent, and goes with the next message.
 */
export function ReachBar({ useChat, surface, browser }: ReachBarProps) {
  const page = useChat((s) => s.page);
  const reading = useChat((s) => s.reading);
  const { askAboutPage, dropPage } = useChat.getState();
  // The panel opens only from the click's own turn, so the window is known beforehand.
  const [windowId, setWindowId] = useState<number | undefined>(undefined);
  useEffect(() => {
    if (surface !== 'popup') return;
    browser.windows.getCurrent().then(
      (w) => setWindowId(w.id),
      (err: unknown) => console.warn('[pace] could not find this window', err),
    );
  }, [surface, browser]);

  const toPanel = () => {
    openPanel(browser, windowId).then(
      () => window.close(),
      (err: unknown) => console.warn(`[pace] could not open the ${PANEL_NAME}`, err),
    );
  };

  return (
    <div className="reach">
      <div className="reach-buttons">
        <button type="button" onClick={() => void askAboutPage()} disabled={reading} data-testid="ask-page">
          {reading ? 'Reading the page…' : 'Ask about this page'}
        </button>
        {surface === 'popup' && (
          <button type="button" onClick={toPanel} data-testid="open-panel">
            Open in the {PANEL_NAME}
          </button>
        )}
      </div>
      {page && (
        <section className="page-card" aria-label="Page to send" data-testid="page-card">
          <p className="page-title">
            <strong>{page.title || page.url}</strong>
            <button type="button" className="link" onClick={dropPage} aria-label="Do not send the page">
              ✕
            </button>
          </p>
          <CostPreview
            preview={page.preview}
            listTestId="page-preview"
            blockerTestId="page-blocker"
            more={page.cut && <li>The page is longer than one message holds: its end is left out.</li>}
          />
          <p className="hint">It goes with your next message (empty: &quot;Summarize this page.&quot;).</p>
        </section>
      )}
    </div>
  );
}
