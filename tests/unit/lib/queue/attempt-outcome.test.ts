import { afterEach, describe, expect, it, vi } from 'vitest';
import { CUT_OFF, STALLED } from '@/lib/claude/errors';
import { emptyAnswer } from '@/lib/claude/stream';
import { outcomeOfStream } from '@/lib/queue/attempt-outcome';
import { createWatchdog, type AttemptState, type ChatAttempt } from '@/lib/queue/chat-attempt';
import type { RunnerKit } from '@/lib/queue/runner-kit';

afterEach(() => {
  vi.useRealTimers();
});

describe('the watchdog', () => {
  it('cuts a stream only after stallMs without an event, and not once stopped', () => {
    vi.useFakeTimers();
    const onStall = vi.fn();
    const watchdog = createWatchdog(1_000, onStall);
    watchdog.feed();
    vi.advanceTimersByTime(900);
    watchdog.feed();
    vi.advanceTimersByTime(900);
    expect(watchdog.stalled).toBe(false);
    vi.advanceTimersByTime(100);
    expect(watchdog.stalled).toBe(true);
    expect(onStall).toHaveBeenCalledOnce();

    const stopped = createWatchdog(1_000, onStall);
    stopped.feed();
    stopped.stop();
    vi.advanceTimersByTime(5_000);
    expect(stopped.stalled).toBe(false);
    expect(onStall).toHaveBeenCalledOnce();
  });
});

describe('the outcome of a stream that ended', () => {
  const response = new Response(null, { status: 200 });
  const setup = (
    opts: { stalled?: boolean; aborted?: boolean; online?: boolean } & Partial<AttemptState['answer']>,
  ) => {
    const { stalled = false, aborted = false, online = true, ...answer } = opts;
    const controller = new AbortController();
    if (aborted) controller.abort();
    const kit = { online: vi.fn(() => online) } as unknown as RunnerKit;
    const attempt = { signal: controller.signal } as ChatAttempt;
    const state = {
      answer: { ...emptyAnswer(), text: 'partial', ...answer },
      watchdog: { stalled, feed: () => undefined, stop: () => undefined },
    } as unknown as AttemptState;
    return { kit, outcome: outcomeOfStream(kit, attempt, state, response) };
  };

  it('names a stall before the size cap, the size cap before a stop, a stop before a cut-off', () => {
    expect(setup({ stalled: true, truncated: true, aborted: true }).outcome).toMatchObject({
      kind: 'failed',
      error: STALLED,
    });
    expect(setup({ truncated: true, aborted: true }).outcome).toEqual({ kind: 'size-cap', status: 200 });
    expect(setup({ aborted: true }).outcome).toEqual({ kind: 'stopped', text: 'partial', extra: { status: 200 } });
    expect(setup({}).outcome).toMatchObject({ kind: 'failed', error: CUT_OFF, apiError: null, offline: false });
    expect(setup({ done: true }).outcome).toEqual({ kind: 'done', response });
  });

  it('asks whether the browser is online once, and only for a failure', () => {
    const cut = setup({ online: false });
    expect(cut.outcome).toMatchObject({ kind: 'failed', offline: true });
    expect(cut.kit.online).toHaveBeenCalledOnce();
    const done = setup({ done: true, online: false });
    expect(done.kit.online).not.toHaveBeenCalled();
  });
});
