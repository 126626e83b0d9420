/**
 * The stream step of an attempt (./chat-runner.ts): the answer's events are read into
 * `state.answer`, its text (and thinking, citations and sources) checkpointed to IndexedDB every
 * `checkpointMs`, its text and thinking pushed to open pages every `publishMs`; the input tokens
 * are counted as the stream reports them.
 */
import { applyStreamEvent, type AssembledAnswer } from '../claude/stream';
import type { AnswerProgress } from '../protocol';
import type { ChatMessage } from '../storage/db';
import { tokensPerMinuteUse } from '../limits/token-usage';
import { tokensOf } from '../usage/attempt-ledger';
import type { Answered } from './attempt-send';
import type { AttemptState, ChatAttempt } from './chat-attempt';
import * as jobStore from './job-store';
import type { RunnerKit } from './runner-kit';

/** Reads the stream to its end (or the size cap), then waits for the job's start to be written. */
export async function streamIntoDb(
  kit: RunnerKit,
  attempt: ChatAttempt,
  state: AttemptState,
  { stream, written }: Pick<Answered, 'stream' | 'written'>,
): Promise<void> {
  const { id } = attempt;
  for await (const event of stream) {
    state.watchdog.feed();
    const answer = (state.answer = applyStreamEvent(state.answer, event));
    if (event.type === 'message_start' || event.type === 'message_delta')
      state.tokens.count(tokensPerMinuteUse(tokensOf(answer)).inputTokens);
    // Past the size cap nothing more is read: leaving the loop closes the connection.
    if (answer.truncated) break;
    const t = kit.now();
    if (state.firstTextAt === null && answer.text !== '') state.firstTextAt = t;
    // Each event carries the whole text: a long answer is pushed less often (up to once a second) so pages keep up.
    const { publishMs } = kit;
    const size = answer.text.length + answer.thinking.length;
    if (
      (answer.text !== state.publishedText || answer.thinking !== state.publishedThinking) &&
      t - state.publishedAt >= Math.min(Math.max(publishMs, 1_000), publishMs * Math.max(1, size / 100_000))
    ) {
      state.publishedAt = t;
      state.publishedText = answer.text;
      state.publishedThinking = answer.thinking;
      kit.publish(progressOf(id, answer));
    }
    // Only what changed is saved: the events before the first words (or thoughts) have nothing to keep.
    if (t - state.savedAt >= kit.checkpointMs) {
      const changed = changedSince(state, answer);
      if (Object.keys(changed).length > 0) {
        state.savedAt = t;
        state.savedText = answer.text;
        state.savedThinking = answer.thinking;
        state.savedCitations = answer.citations.length;
        state.savedSources = answer.sources.length;
        await written;
        await jobStore.checkpoint(kit.db, id, changed);
      }
    }
  }
  await written;
}

/** The push to open pages: the text so far, and the thinking when there is any. */
export function progressOf(messageId: string, answer: AssembledAnswer): AnswerProgress {
  return {
    type: 'answer.progress',
    messageId,
    text: answer.text,
    ...(answer.thinking === '' ? {} : { thinking: answer.thinking }),
  };
}

/** What of the answer changed since the last checkpoint (citations and sources only grow). */
function changedSince(
  state: AttemptState,
  answer: AssembledAnswer,
): Partial<Pick<ChatMessage, 'text' | 'thinking' | 'citations' | 'sources'>> {
  return {
    ...(answer.text === state.savedText ? {} : { text: answer.text }),
    ...(answer.thinking === state.savedThinking ? {} : { thinking: answer.thinking }),
    ...(answer.citations.length === state.savedCitations ? {} : { citations: answer.citations }),
    ...(answer.sources.length === state.savedSources ? {} : { sources: answer.sources }),
  };
}
