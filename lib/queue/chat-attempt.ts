/**
 * One attempt at a job's answer, as the runner's steps (./chat-runner.ts) pass it along: what was
 * built for it, fixed from then on (`ChatAttempt`), and what it learns as it goes (`AttemptState`):
 * the answer so far, its times, the gateway's cost, the watchdog and the token counts.
 */
import type { Credentials } from '../claude/client';
import type { PromptCacheMode } from '../claude/prompt-cache';
import type { MessageRequest } from '../claude/request';
import { emptyAnswer, type AssembledAnswer } from '../claude/stream';
import { countInput, countOutput } from '../limits/token-store';
import type { Settings } from '../settings/validate';
import type { Job } from '../storage/db';
import type { CacheTtl } from '../usage/prices';
import type { RunnerKit } from './runner-kit';

/** What the build step made for an attempt: nothing in it changes while the attempt runs. */
export interface ChatAttempt {
  job: Job;
  /** The job's id: its answer's message. */
  id: string;
  controller: AbortController;
  signal: AbortSignal;
  /** Its admission used the pause's one probe (Try now): it passes the wire gate, which the pause closed. */
  probe: boolean;
  /** What chat.send had ready (./chat-runner.ts `ReadySend`): told when the answer starts. */
  ready: { started?: () => void } | undefined;
  creds: Credentials & { demo: boolean };
  settings: Settings;
  /** Who answers: named in waits and give-ups, so a gateway's word is not passed off as Anthropic's. */
  by: string;
  request: MessageRequest;
  /** The user's extra headers, sent with the request and kept out of error messages. */
  headers: Record<string, string>;
  cacheMode: PromptCacheMode;
  cacheTtl: CacheTtl;
}

/** A stream that goes quiet is cut (`onStall`), and retried like a dropped connection. */
export interface Watchdog {
  /** An event came: the quiet starts again. */
  feed(): void;
  stop(): void;
  readonly stalled: boolean;
}

export function createWatchdog(stallMs: number, onStall: () => void): Watchdog {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stalled = false;
  return {
    feed() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        onStall();
      }, stallMs);
    },
    stop: () => clearTimeout(timer),
    get stalled() {
      return stalled;
    },
  };
}

/**
 * The token minute learns the real input count as the stream reports it, and the real output in
 * place of the room admission reserved once the answer is complete (or refused); an answer cut
 * off keeps its room. The writes go one after another, off the path to the first word, and are
 * awaited before the end (`written`).
 */
interface TokenCounts {
  count(input: number | null, output?: number | null): void;
  /** The counts still to come go after `first`. */
  after(first: Promise<unknown>): void;
  /** The input count written so far: null if the API never said it. */
  readonly inputCounted: number | null;
  /** Every count asked for so far, written (or failed, logged). */
  written(): Promise<void>;
}

function createTokenCounts(kit: RunnerKit, id: string): TokenCounts {
  const { db, now, log } = kit;
  let writes = Promise.resolve();
  let inputCounted: number | null = null;
  return {
    count(input, output = null) {
      const at = now();
      if (input !== null) inputCounted = input;
      writes = writes
        .then(() =>
          Promise.all([
            input === null ? null : countInput(db, id, input),
            output === null ? null : countOutput(db, id, output, at),
          ]),
        )
        .then(
          () => undefined,
          (err: unknown) => log('could not count the tokens', err),
        );
    },
    after(first) {
      writes = first.then(
        () => undefined,
        () => undefined,
      );
    },
    get inputCounted() {
      return inputCounted;
    },
    written: () => writes,
  };
}

/** What an attempt learns as it goes, written by its steps in turn. */
export interface AttemptState {
  answer: AssembledAnswer;
  /** When the request left: reset once the gate has let it through, so a wait there is not taken for the answer's time. */
  sentAt: number;
  firstTextAt: number | null;
  /** What the gateway says this request cost (`x-litellm-response-cost`), once it has answered. */
  gatewayCost: number | null;
  /** The rate-limit figures and the job's start, written while the first words are read and shown: the user waits for those. */
  startWrites: Promise<void> | null;
  /** The client's watch saw a refusal and closed the wire: its error need not again. */
  refused: boolean;
  /** When the answer was last checkpointed to the database, and what its text, thinking, citations and sources were. */
  savedAt: number;
  savedText: string;
  savedThinking: string;
  savedCitations: number;
  savedSources: number;
  /**
   * When the text was last pushed to open pages, and what it was. Only a change of text is pushed:
   * the events before the first words (message_start, ping) must not use up the publish interval,
   * so the first text delta shows at once.
   */
  publishedAt: number;
  publishedText: string;
  publishedThinking: string;
  watchdog: Watchdog;
  tokens: TokenCounts;
}

/** A new attempt's state: its clocks start now (the request's is reset at the gate). */
export function newAttemptState(kit: RunnerKit, attempt: ChatAttempt): AttemptState {
  const answer = emptyAnswer();
  return {
    answer,
    sentAt: kit.now(),
    firstTextAt: null,
    gatewayCost: null,
    startWrites: null,
    refused: false,
    savedAt: kit.now(),
    savedText: answer.text,
    savedThinking: answer.thinking,
    savedCitations: 0,
    savedSources: 0,
    publishedAt: 0,
    publishedText: answer.text,
    publishedThinking: answer.thinking,
    watchdog: createWatchdog(kit.stallMs, () => attempt.controller.abort()),
    tokens: createTokenCounts(kit, attempt.id),
  };
}
