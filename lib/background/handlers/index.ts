/**
 * The page protocol's handlers, one per request in lib/protocol.ts: the `Handlers` type makes a
 * missing one a type error. Each is a plain function of the deps and the payload, in the file of
 * its request's namespace: chat.* (./chat.ts, ./chat-send.ts), conversation.*, key.*, queue.* with
 * limits.* (./queue.ts), the options' settings, chat and batch choices (./settings.ts), usage,
 * cache and budget (./usage.ts), and the context menu's templates with page.read (./reach.ts).
 */
import { PaceFailure, type Handlers } from '../../protocol';
import { chatPrepare, chatRetry, chatStop } from './chat';
import { chatSend } from './chat-send';
import { conversationChooseModel, conversationDelete, conversationDeleteAll, conversationRename } from './conversation';
import { withDefaults, type HandlerDeps } from './deps';
import { keyConfirmOrigin, keyRemove, keySave, keyStatus, keyTest, keyUnlock } from './key';
import { limitsSave, limitsUseLearned, queueClear, queueTryNow } from './queue';
import { pageRead, templatesSave } from './reach';
import { batchPrefsSave, chatPrefsSave, settingsSave } from './settings';
import { settingsExport, settingsImport, syncDevices, syncForget, syncRename, syncSettings } from './sync';
import { budgetSave, cacheClear, gatewayBudget, usagePrefsSave } from './usage';

export type { HandlerDeps } from './deps';

export function createHandlers(deps: HandlerDeps): Handlers {
  const d = withDefaults(deps);
  return {
    'chat.send': (p) => chatSend(d, p),
    'chat.prepare': (p) => chatPrepare(d, p),
    // Issue 24 in progress: lib/attachments and the handlers below are built next.
    'chat.preview': () => Promise.reject(new PaceFailure({ code: 'internal', message: 'Not built yet.' })),
    'chat.stop': (p) => chatStop(d, p),
    'chat.retry': (p) => chatRetry(d, p),
    'conversation.rename': (p) => conversationRename(d, p),
    'conversation.chooseModel': (p) => conversationChooseModel(d, p),
    'conversation.setOptions': () => Promise.reject(new PaceFailure({ code: 'internal', message: 'Not built yet.' })),
    'conversation.delete': (p) => conversationDelete(d, p),
    'conversation.deleteAll': () => conversationDeleteAll(d),
    'chatPrefs.save': (p) => chatPrefsSave(d, p),
    'settings.save': (p) => settingsSave(d, p),
    'batchPrefs.save': (p) => batchPrefsSave(d, p),
    'usagePrefs.save': (p) => usagePrefsSave(d, p),
    'cache.clear': () => cacheClear(d),
    'budget.save': (p) => budgetSave(d, p),
    'gateway.budget': () => gatewayBudget(d),
    'queue.clear': () => queueClear(d),
    'queue.tryNow': () => queueTryNow(d),
    'limits.save': (p) => limitsSave(d, p),
    'limits.useLearned': () => limitsUseLearned(d),
    'key.status': () => keyStatus(d),
    'key.test': (p) => keyTest(d, p),
    'key.save': (p) => keySave(d, p),
    'key.unlock': (p) => keyUnlock(d, p),
    'key.remove': () => keyRemove(d),
    'key.confirmOrigin': (p) => keyConfirmOrigin(d, p),
    'templates.save': (p) => templatesSave(d, p),
    'page.read': (p) => pageRead(d, p),
    'sync.devices': () => syncDevices(d),
    'sync.rename': (p) => syncRename(d, p),
    'sync.forget': (p) => syncForget(d, p),
    'sync.settings': (p) => syncSettings(d, p),
    'settings.export': () => settingsExport(d),
    'settings.import': (p) => settingsImport(d, p),
  };
}
