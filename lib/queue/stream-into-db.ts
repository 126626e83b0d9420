/**
 * The stream step of an attempt (./chat-runner.ts): the answer's events are read into
 * `state.answer`, its text checkpointed to IndexedDB every `checkpointMs` and pushed to open pages
 * every `publishMs`; the input tokens are counted as the stream reports them.
 */
import { applyStreamEvent } from '../claude/stream';
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
    if (
      answer.text !== state.publishedText &&
      t - state.publishedAt >=
        Math.min(Math.max(publishMs, 1_000), publishMs * Math.max(1, answer.text.length / 100_000))
    ) {
      state.publishedAt = t;
      state.publishedText = answer.text;
      kit.publish({ type: 'answer.progress', messageId: id, text: answer.text });
    }
    // Only new text is saved: the events before the first words have nothing to keep.
    if (t - state.savedAt >= kit.checkpointMs && answer.text !== state.savedText) {
      state.savedAt = t;
      state.savedText = answer.text;
      await written;
      await jobStore.checkpoint(kit.db, id, answer.text);
    }
  }
  await written;
}
