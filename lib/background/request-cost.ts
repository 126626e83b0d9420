/**
 * What a queued job's request will be priced by, for the spend budget: the model and `max_tokens`
 * of the settings it will be sent with, and its input estimated as lib/claude/context-size.ts does.
 * Only asked when a budget is set.
 */
import { contextForRetry, estimateTokens } from '../claude/context-size';
import { conversationMessages } from '../chat/conversation-store';
import { hasBudget, type RequestCost } from '../limits/budget';
import { readBudget } from '../limits/budget-store';
import type { Settings } from '../settings/validate';
import type { Job, PaceDB } from '../storage/db';

export function createRequestCost(deps: { db: PaceDB; settings: () => Promise<Settings> }): (job: Job) => Promise<RequestCost | null> {
  return async (job) => {
    const [budget, settings, messages] = await Promise.all([readBudget(deps.db), deps.settings(), conversationMessages(deps.db, job.conversationId)]);
    if (!hasBudget(budget)) return null;
    const turns = contextForRetry(messages, job.id) ?? [];
    const inputTokens = estimateTokens({ system: settings.systemPrompt, messages: turns });
    return {
      model: settings.model,
      inputTokens,
      maxTokens: settings.maxTokens,
      ...(settings.promptCache === 'off' ? {} : { promptCache: settings.promptCache }),
    };
  };
}
