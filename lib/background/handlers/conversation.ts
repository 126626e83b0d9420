/** conversation.*: renaming a chat, choosing its model, and deleting chats with everything holding their text. */
import {
  allConversationIds,
  checkTitle,
  chooseModel,
  deleteConversations,
  readConversation,
  renameConversation,
  setConversationOptions,
} from '../../chat/conversation-store';
import { thinkingProblem } from '../../claude/request';
import { PaceFailure, type ReplyOf, type RequestOf } from '../../protocol';
import * as jobStore from '../../queue/job-store';
import { checkModel } from '../../settings/validate';
import type { Deps } from './deps';
import type { PaceError } from '../../storage/rows';
import { checkedThinking } from './chat-checks';

const NO_CONVERSATION: PaceError = {
  code: 'invalid_input',
  message: 'That conversation no longer exists.',
  action: 'new_chat',
};

/** Stops the conversations' answers in flight, then deletes them with everything holding their text. */
async function deleteStopped(d: Deps, conversationIds: string[]): Promise<number> {
  for (const job of await jobStore.activeJobsOf(d.db, conversationIds)) d.runner.stop(job.id);
  const deleted = await deleteConversations(d.db, conversationIds);
  // Their queued messages are gone: the queue's figures change.
  void d.pump();
  return deleted;
}

export async function conversationRename(
  d: Deps,
  { conversationId, title }: RequestOf<'conversation.rename'>,
): Promise<ReplyOf<'conversation.rename'>> {
  const checked = checkTitle(title);
  if (!checked.ok) throw new PaceFailure({ code: 'invalid_input', message: checked.message, field: 'title' });
  if (!(await renameConversation(d.db, conversationId, checked.value))) throw new PaceFailure(NO_CONVERSATION);
  return { title: checked.value };
}

export async function conversationChooseModel(
  d: Deps,
  { conversationId, model }: RequestOf<'conversation.chooseModel'>,
): Promise<ReplyOf<'conversation.chooseModel'>> {
  const checked = checkModel(model);
  if (!checked.ok) throw new PaceFailure({ code: 'invalid_input', message: checked.message, field: 'model' });
  // A model that cannot run the chat's thinking effort is refused: its queued messages could not be sent.
  const effort = (await d.db.conversations.get(conversationId))?.thinking ?? 'off';
  if (effort !== 'off') {
    const problem = thinkingProblem(checked.value, effort, (await d.settings()).maxTokens);
    if (problem) throw new PaceFailure({ code: 'invalid_input', message: problem, field: 'model' });
  }
  if (!(await chooseModel(d.db, conversationId, checked.value))) throw new PaceFailure(NO_CONVERSATION);
  return { model: checked.value };
}

export async function conversationDelete(
  d: Deps,
  { conversationId }: RequestOf<'conversation.delete'>,
): Promise<ReplyOf<'conversation.delete'>> {
  const deleted = await deleteStopped(d, [conversationId]);
  if (deleted === 0) throw new PaceFailure(NO_CONVERSATION);
  return { deleted };
}

export async function conversationDeleteAll(d: Deps): Promise<ReplyOf<'conversation.deleteAll'>> {
  return { deleted: await deleteStopped(d, await allConversationIds(d.db)) };
}

/** Keeps the thinking effort and "Search the web" for the conversation's next messages. */
export async function conversationSetOptions(
  d: Deps,
  { conversationId, thinking, webSearch }: RequestOf<'conversation.setOptions'>,
): Promise<ReplyOf<'conversation.setOptions'>> {
  const effort = checkedThinking(thinking);
  if (effort !== undefined && effort !== 'off') {
    const conversation = await readConversation(d.db, conversationId);
    if (!conversation) throw new PaceFailure(NO_CONVERSATION);
    const settings = await d.settings();
    const model = conversation.model || settings.model;
    const problem = thinkingProblem(model, effort, settings.maxTokens);
    if (problem) throw new PaceFailure({ code: 'invalid_input', message: problem, field: 'thinking' });
  }
  const options = await setConversationOptions(d.db, conversationId, {
    ...(effort !== undefined ? { thinking: effort } : {}),
    ...(webSearch !== undefined ? { webSearch } : {}),
  });
  if (!options) throw new PaceFailure(NO_CONVERSATION);
  return options;
}
