import { useEffect, useRef, useState } from 'react';
import type { JobView } from '@/lib/queue/queue-view';
import type { ChatMessage } from '@/lib/storage/db';

/**
 * Tells screen readers, politely, when the latest answer changes state (queued, waiting, being
 * written, answered, failed), in a few words: never the streamed text, and never the countdowns.
 * Opening a conversation announces nothing; only a change after that does.
 */
export function StatusAnnouncer({
  messages,
  jobs,
}: {
  messages: ChatMessage[] | undefined;
  jobs: Map<string, JobView> | undefined;
}) {
  const last = messages?.findLast((m) => m.role === 'assistant');
  const phrase = last ? phraseFor(last, jobs?.get(last.id)) : null;
  const openedAt = useRef(Date.now());
  /** The last phrase seen for each answer: only a change is announced. */
  const seen = useRef(new Map<string, string>());
  const [said, setSaid] = useState('');
  const id = last?.id;
  const createdAt = last?.createdAt ?? 0;
  useEffect(() => {
    if (id === undefined || phrase === null) return;
    const before = seen.current.get(id);
    seen.current.set(id, phrase);
    // An answer from before the screen opened, seen for the first time, has not changed: it was opened.
    if (before === phrase || (before === undefined && createdAt < openedAt.current)) return;
    setSaid(phrase);
  }, [id, createdAt, phrase]);
  return (
    <p className="sr-only" role="status" aria-live="polite" data-testid="announcer">
      {said}
    </p>
  );
}

/** What the announcer says of `message` (its job, `job`), in a few words; null: nothing. */
export function phraseFor(message: ChatMessage, job: JobView | undefined): string | null {
  switch (message.status) {
    case 'pending':
      if (job?.state === 'gathering' || job?.state === 'batched')
        return 'Your message will go later, in a batch at half price.';
      if (job?.position == null) return 'Sending your message.';
      return job.waitReason && job.waitReason !== 'smooth'
        ? 'Your message is waiting for the limits.'
        : 'Your message is queued.';
    case 'streaming':
      return 'Claude is answering.';
    case 'done':
      return 'Claude answered.';
    case 'stopped':
      return 'The answer was stopped.';
    case 'error':
    case 'interrupted':
      return 'The answer failed.';
    default:
      return null;
  }
}
