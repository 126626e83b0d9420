/**
 * The send step of an attempt (./chat-runner.ts): through the wire gate, onto the wire, and the
 * response's headers read as it answers. The stream itself is read by ./stream-into-db.ts.
 */
import type { StreamCall } from '../claude/client';
import { gatewayResponseCost } from '../claude/gateway-headers';
import { withPromptCache } from '../claude/prompt-cache';
import type { AttemptState, ChatAttempt } from './chat-attempt';
import * as jobStore from './job-store';
import { holdTheWire, noteServerLimits, passTheGate, type RunnerKit } from './runner-kit';

/** The API took the request: its answer's stream, its response, and the writes that start the job. */
export interface Answered {
  stream: Awaited<StreamCall>;
  response: Response;
  /** The rate-limit figures and the job's start: a checkpoint waits for them. */
  written: Promise<void>;
}

/** Sends the request once the wire gate lets it through; resolves when the API has answered (its status and headers). */
export async function send(kit: RunnerKit, attempt: ChatAttempt, state: AttemptState): Promise<Answered> {
  const { id, signal, by } = attempt;
  // Admitted and counted already; a 429 or 529 that came since holds it here until its retry-after has passed.
  await passTheGate(kit, id, attempt.probe, signal);
  // The watchdog and the answer's times start with the request: a wait at the gate is neither a stall nor slowness.
  state.sentAt = kit.now();
  state.watchdog.feed();
  const call = kit
    .createClient(attempt.creds, attempt.headers, (response) => (state.refused = holdTheWire(kit, response, id, by)))
    .messages.create(
      { ...withPromptCache(attempt.request, attempt.cacheMode, attempt.cacheTtl), stream: true },
      { signal },
    )
    .withResponse();
  kit.gate.sent(id);
  const { data: stream, response } = await call.finally(() => kit.gate.answered(id));
  if (by !== 'Anthropic') state.gatewayCost = gatewayResponseCost(response.headers);
  const written = noteServerLimits(kit, response.headers, by, id).then(() => jobStore.start(kit.db, id));
  state.startWrites = written;
  written.then(
    () => attempt.ready?.started?.(),
    () => undefined,
  );
  // The token counts go after them, as they did when these were awaited first.
  state.tokens.after(written);
  return { stream, response, written };
}
