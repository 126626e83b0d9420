import { useLiveQuery } from 'dexie-react-hooks';
import { readConversation } from '@/lib/chat/conversation-store';
import { FALLBACK_MODELS } from '@/lib/claude/models';
import { getDb } from '@/lib/storage/db';
import { modelsItem, settingsItem } from '@/lib/settings/settings-items';
import { useStored } from '../settings/use-stored';
import type { ChatStore } from './chat-store';

/**
 * The model of the open conversation (the options' model until one is picked). For a new chat the
 * pick goes with its first message; for an open one it is kept at once for its next messages.
 */
export function ModelPicker({ useChat }: { useChat: ChatStore }) {
  const conversationId = useChat((s) => s.conversationId);
  const picked = useChat((s) => s.model);
  const settings = useStored(settingsItem);
  const known = useStored(modelsItem);
  const conversation = useLiveQuery(
    () => (conversationId ? readConversation(getDb(), conversationId) : null),
    [conversationId],
  );
  if (!settings) return null;
  const current = (conversationId ? conversation?.model : picked) ?? settings.model;
  const models = known?.models ?? [...FALLBACK_MODELS];
  const options = models.some((m) => m.id === current) ? models : [{ id: current, displayName: current }, ...models];
  return (
    <div className="model-picker">
      <label htmlFor="chat-model">Model</label>
      <select
        id="chat-model"
        value={current}
        onChange={(e) => void useChat.getState().chooseModel(e.target.value)}
        data-testid="chat-model"
      >
        {options.map((m) => (
          <option key={m.id} value={m.id}>
            {m.displayName}
            {m.id === settings.model ? ' (default)' : ''}
          </option>
        ))}
      </select>
    </div>
  );
}
