import { memo, useState } from 'react';
import { MAX_ANSWER_CHARS, SIZE_CAP_STOP } from '@/lib/claude/stream';
import { formatCount, formatWait } from '@/lib/limits/format';
import type { ErrorAction } from '@/lib/storage/rows';
import { ordinal } from '@/lib/queue/job-states';
import type { JobView } from '@/lib/queue/queue-view';
import type { Attempt, ChatMessage } from '@/lib/storage/db';
import { LazyMarkdown } from './LazyMarkdown';
import { MessageAttachments } from '../attachments/MessageAttachments';
import { CitationList, SourceList, ThinkingSection } from './AnswerExtras';

export interface MessageActions {
  stop(id: string): void;
  retry(id: string): void;
  act(action: ErrorAction, messageId: string): void;
}

const ACTION_LABEL: Record<ErrorAction, string> = {
  open_options: 'Open options',
  retry: 'Retry',
  new_chat: 'New chat',
};

/** Memoised: the queue's clock ticks every second, and only a queued message shows it. */
export const MessageItem = memo(function MessageItem({
  message,
  live,
  liveThinking,
  job,
  now,
  actions,
}: {
  message: ChatMessage;
  live?: string;
  /** The thinking pushed while the answer streams, ahead of the database. */
  liveThinking?: string;
  job?: JobView;
  now: number;
  actions: MessageActions;
}) {
  if (message.role === 'user') {
    return (
      <div className="msg msg-user" data-testid="user-message">
        {message.attachments && message.attachments.length > 0 && (
          <MessageAttachments messageId={message.id} refs={message.attachments} />
        )}
        <div className="bubble">{message.text}</div>
      </div>
    );
  }
  // While streaming the page may be ahead of the last checkpoint; take the longer text.
  const text =
    message.status === 'streaming' && live !== undefined && live.length >= message.text.length ? live : message.text;
  const thinking =
    message.status === 'streaming' &&
    liveThinking !== undefined &&
    liveThinking.length >= (message.thinking?.length ?? 0)
      ? liveThinking
      : message.thinking;
  return (
    <div
      className={`msg msg-assistant status-${message.status}`}
      data-testid="assistant-message"
      data-status={message.status}
    >
      {message.demo && <span className="tag tag-demo">demo answer</span>}
      {message.fromCache && message.status === 'done' && (
        <span
          className="tag tag-cache"
          data-testid="from-cache"
          title="The same question was answered recently: nothing was sent and nothing counted against your limits."
        >
          from cache - free
        </span>
      )}
      {message.batch && message.status === 'done' && (
        <span
          className="tag tag-batch"
          data-testid="from-batch"
          title="Sent later as part of a Message Batch: every token at half price."
        >
          batch - half price
        </span>
      )}
      {message.resumed && (
        <span
          className="tag tag-resumed"
          title="Pace was stopped by the browser mid-answer and sent the request again."
        >
          resumed after an interruption
        </span>
      )}
      {thinking ? <ThinkingSection text={thinking} /> : null}
      {text ? <LazyMarkdown text={text} streaming={message.status === 'streaming'} /> : null}
      {message.citations && <CitationList citations={message.citations} />}
      {message.sources && <SourceList sources={message.sources} />}
      {message.status === 'pending' && job ? (
        <JobStatus job={job} now={now} note={message.error?.message} />
      ) : (
        <AnswerStatus message={message} hasText={text !== ''} />
      )}
      {message.attempts && (message.attempts.length > 1 || message.attempts.some((a) => a.promptCache?.readTokens)) && (
        <AttemptLog attempts={message.attempts} />
      )}
      <div className="msg-actions">
        {(message.status === 'streaming' || message.status === 'pending') && (
          <button type="button" className="link" onClick={() => actions.stop(message.id)}>
            {job?.state === 'batched'
              ? 'Cancel batch'
              : message.status === 'pending' && (job?.position || job?.state === 'gathering')
                ? 'Cancel'
                : 'Stop'}
          </button>
        )}
        {text !== '' && message.status !== 'streaming' && <CopyButton text={text} />}
        {message.status !== 'streaming' && message.status !== 'pending' && (
          <button
            type="button"
            className="link"
            onClick={() => actions.retry(message.id)}
            title={
              message.fromCache
                ? 'Send the question to Claude for a new answer (counts against your limits)'
                : undefined
            }
          >
            {message.fromCache ? 'Ask again' : message.batch && message.status !== 'done' ? 'Send now' : 'Retry'}
          </button>
        )}
        {message.status === 'error' && message.error?.action && message.error.action !== 'retry' && (
          <button type="button" className="link" onClick={() => actions.act(message.error!.action!, message.id)}>
            {ACTION_LABEL[message.error.action]}
          </button>
        )}
      </div>
    </div>
  );
});

/**
 * Why an answer took long: each attempt, what came back, and how long Pace then waited; and
 * whether the conversation so far was re-read from Anthropic's prompt cache (at a tenth of the price).
 */
function AttemptLog({ attempts }: { attempts: Attempt[] }) {
  return (
    <details className="attempts" data-testid="attempts">
      <summary>{attempts.length === 1 ? '1 attempt' : `${attempts.length} attempts`}</summary>
      <ol>
        {attempts.map((a, i) => (
          <li key={i}>
            {new Date(a.at).toLocaleTimeString()}: {a.outcome === 'ok' ? 'answered' : a.outcome.replace(/_/g, ' ')}
            {a.status ? ` (${a.status})` : ''}
            {a.promptCache?.readTokens
              ? `, prefix from Anthropic's cache (${a.promptCache.readTokens.toLocaleString('en-US')} tokens)`
              : ''}
            {a.waitMs !== undefined ? `, then waited ${formatWait(a.waitMs)}` : ''}
          </li>
        ))}
      </ol>
    </details>
  );
}

/** Where a message stands in the queue: "Queued - 2nd, about 14 s", "Sending…". */
function JobStatus({ job, now, note }: { job: JobView; now: number; note?: string }) {
  let text: string;
  const waitMs = job.eta !== null ? job.eta - now : null;
  const wait = waitMs !== null ? formatWait(waitMs) : '';
  // A batched question's note says why its batch waits (sent with another key or address).
  if (job.state === 'batched' && note) text = note;
  else if (job.state === 'gathering' || job.state === 'batched') text = 'Batched - answer usually within an hour';
  else if (job.position === null) text = 'Sending…';
  else if (job.waitReason === 'offline')
    text = `Queued - ${ordinal(job.position)}: waiting for the network to come back.`;
  else if (job.waitReason === 'server' && note) text = `${note} Trying again in ${wait}.`;
  else if (job.waitReason === 'backoff' && note) text = `${note} Next try in ${wait}.`;
  else if (job.waitReason === 'budget')
    text = `Queued - ${ordinal(job.position)}: waits for the spend budget, until the requests on their way say what they cost (at the latest, ${wait}).`;
  else if (job.waitReason === 'month')
    text = `Queued - ${ordinal(job.position)}: this month's limit is used; it goes when the month turns.`;
  else if ((job.waitReason === 'inputTokens' || job.waitReason === 'outputTokens') && (waitMs ?? 0) > 500) {
    text = `Queued - ${ordinal(job.position)}: waits for the ${job.waitReason === 'inputTokens' ? 'input' : 'output'}-token budget, about ${wait}`;
  } else
    text =
      (waitMs ?? 0) > 500
        ? `Queued - ${ordinal(job.position)}, about ${wait}`
        : `Queued - ${ordinal(job.position)}, going now`;
  return (
    <p className="job-status" data-testid="job-status">
      {text}
    </p>
  );
}

function AnswerStatus({ message, hasText }: { message: ChatMessage; hasText: boolean }) {
  switch (message.status) {
    case 'pending':
      return <p className="status">Waiting to send…</p>;
    case 'streaming':
      return hasText ? <span className="cursor" aria-hidden="true" /> : <p className="status">Claude is writing…</p>;
    case 'stopped':
      return <p className="status">{message.error?.message ?? 'Stopped.'}</p>;
    case 'interrupted':
    case 'error':
      return (
        <p className="error" role="alert" data-testid="answer-error">
          {message.error?.message ?? 'This answer failed.'}
        </p>
      );
    default:
      if (message.stopReason === SIZE_CAP_STOP) {
        return (
          <p className="status" data-testid="size-cap-note">
            Pace stopped reading this answer at {formatCount(MAX_ANSWER_CHARS)} characters, far past any real answer:
            the API or gateway may be broken. The text so far is kept.
          </p>
        );
      }
      return message.stopReason === 'max_tokens' ? (
        <p className="status">Cut off at the maximum answer length (set it on the options page).</p>
      ) : null;
  }
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState<'idle' | 'done' | 'failed'>('idle');
  const copy = () => {
    navigator.clipboard.writeText(text).then(
      () => setCopied('done'),
      () => setCopied('failed'),
    );
    setTimeout(() => setCopied('idle'), 1500);
  };
  return (
    <button type="button" className="link" onClick={copy}>
      {copied === 'done' ? 'Copied' : copied === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  );
}
