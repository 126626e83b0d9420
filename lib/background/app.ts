/**
 * Wires the background: storage, the SDK client, the chat runner and the page protocol.
 * entrypoints/background.ts registers the returned listeners synchronously and calls `start`.
 */
import { browser, type Browser } from 'wxt/browser';
import { createClaudeClient } from '../claude/client';
import { recoverAfterRestart } from '../chat/conversation-store';
import { getDb } from '../storage/db';
import { modelsItem, settingsItem } from '../storage/settings';
import { createChatRunner } from './chat-runner';
import { createHandlers } from './handlers';
import { createKeepAlive } from './keep-alive';
import { currentCredentials, keyStatus, removeKey, saveKey, savedKey } from './key-store';
import { createPortServer, isOwnPage } from './port-server';

export function createBackgroundApp() {
  const db = getDb();
  const settings = () => settingsItem.getValue();
  const runner = createChatRunner({
    db,
    credentials: currentCredentials,
    settings,
    createClient: createClaudeClient,
    // `server` is declared below; the runner publishes only once requests arrive through it.
    publish: (event) => server.publish(event),
    keepAlive: createKeepAlive(() => browser.runtime.getPlatformInfo()),
  });
  const server = createPortServer(
    createHandlers({
      db,
      runner,
      settings,
      credentials: currentCredentials,
      createClient: createClaudeClient,
      keys: { status: keyStatus, save: saveKey, remove: removeKey, saved: savedKey },
      rememberModels: (models) => modelsItem.setValue({ models, fetchedAt: Date.now() }),
    }),
    (sender) => isOwnPage(sender, browser.runtime.id, browser.runtime.getURL('/')),
  );

  return {
    onConnect: (port: Browser.runtime.Port) => server.onConnect(port),
    onInstalled: ({ reason }: Browser.runtime.InstalledDetails) => {
      if (reason === 'install') void browser.runtime.openOptionsPage();
    },
    /** Recovers answers cut off by a stopped worker and sends those that never started. */
    async start() {
      const pending = await recoverAfterRestart(db);
      for (const m of pending) void runner.enqueue(m.conversationId, m.id);
    },
  };
}
