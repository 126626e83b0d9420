import { useEffect, useState } from 'react';
import { browser } from 'wxt/browser';
import { background } from '@/components/background';
import { ChatScreen } from '@/components/chat/ChatScreen';
import { createChatStore } from '@/components/chat/chat-store';
import { ReachBar } from '@/components/reach/ReachBar';
import type { KeyStatus } from '@/lib/protocol';
import { errorText } from '@/lib/error-text';
import { openPanel } from '@/lib/reach/open-panel';

const useChat = createChatStore(background);

/** "Screenshot this tab": asked only from the user's click, which activeTab allows on the current window's tab. */
async function captureTab(): Promise<{ dataUrl: string; title: string }> {
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  const dataUrl = await browser.tabs.captureVisibleTab({ format: 'png' });
  return { dataUrl, title: tab?.title ?? '' };
}

/** The chat: in the toolbar's popup, and in the side panel (entrypoints/sidepanel/), which mounts it too. */
export function App({ surface = 'popup' }: { surface?: 'popup' | 'panel' }) {
  const [keyStatus, setKeyStatus] = useState<KeyStatus | null>(null);
  useEffect(() => {
    void background.request('key.status', {}).then((r) => r.ok && setKeyStatus(r.data));
    return background.subscribe((event) => useChat.getState().receive(event));
  }, []);
  return (
    <ChatScreen
      useChat={useChat}
      client={background}
      keyStatus={keyStatus}
      onKeyStatus={setKeyStatus}
      openOptions={() =>
        void browser.runtime
          .openOptionsPage()
          .catch((err: unknown) => console.warn('[pace] could not open the options', err))
      }
      tools={<ReachBar useChat={useChat} surface={surface} browser={browser} />}
      captureTab={captureTab}
      pickElsewhere={
        import.meta.env.BROWSER === 'firefox' && surface === 'popup'
          ? {
              title:
                'Attach an image or PDF: opens Pace in the sidebar (Firefox closes this popup when a file dialog opens)',
              open: () =>
                void openPanel(browser, undefined).then(
                  () => window.close(),
                  (err: unknown) => useChat.setState({ refused: [`The sidebar could not open: ${errorText(err)}`] }),
                ),
            }
          : undefined
      }
    />
  );
}
