import { useEffect, useState } from 'react';
import { browser } from 'wxt/browser';
import { background } from '@/components/background';
import { ChatScreen } from '@/components/chat/ChatScreen';
import { createChatStore } from '@/components/chat/chat-store';
import type { KeyStatus } from '@/lib/protocol';

const useChat = createChatStore(background);

export function App() {
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
      openOptions={() => void browser.runtime.openOptionsPage().catch((err: unknown) => console.warn('[pace] could not open the options', err))}
    />
  );
}
