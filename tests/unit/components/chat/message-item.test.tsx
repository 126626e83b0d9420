import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { MessageItem } from '@/components/chat/MessageItem';
import { SIZE_CAP_STOP } from '@/lib/claude/stream';
import type { Attempt, ChatMessage } from '@/lib/storage/db';

const actions = { stop: () => undefined, retry: () => undefined, act: () => undefined };
const reply = (patch: Partial<ChatMessage>): ChatMessage => ({
  id: 'a',
  conversationId: 'c',
  role: 'assistant',
  text: 'So far.',
  createdAt: 0,
  status: 'done',
  ...patch,
});

describe('MessageItem', () => {
  it('ends an answer cut at the size cap with a note, the text kept', () => {
    const html = renderToStaticMarkup(
      <MessageItem message={reply({ stopReason: SIZE_CAP_STOP })} now={0} actions={actions} />,
    );
    expect(html).toContain('So far.');
    expect(html).toContain(
      'Pace stopped reading this answer at 4,194,304 characters, far past any real answer: the API or gateway may be broken. The text so far is kept.',
    );
  });

  it('adds no note to an answer that ended by itself', () => {
    expect(
      renderToStaticMarkup(<MessageItem message={reply({ stopReason: 'end_turn' })} now={0} actions={actions} />),
    ).not.toContain('Pace stopped reading');
  });
});

const answer = (attempts: Attempt[]): ChatMessage => ({
  id: 'a1',
  conversationId: 'c1',
  role: 'assistant',
  text: 'The report is about buckets.',
  createdAt: 1,
  status: 'done',
  attempts,
});
const html = (attempts: Attempt[]) =>
  renderToStaticMarkup(<MessageItem message={answer(attempts)} now={0} actions={actions} />);

describe('MessageItem attempt details', () => {
  it("shows a single attempt when its prefix came from Anthropic's prompt cache", () => {
    const out = html([{ at: 0, outcome: 'ok', status: 200, promptCache: { readTokens: 20_012, writtenTokens: 40 } }]);
    expect(out).toContain('data-testid="attempts"');
    expect(out).toContain('1 attempt<');
    expect(out).toContain('prefix from Anthropic&#x27;s cache (20,012 tokens)');
  });

  it('keeps a single plain attempt, or one that only wrote the cache, out of sight', () => {
    expect(html([{ at: 0, outcome: 'ok', status: 200 }])).not.toContain('data-testid="attempts"');
    expect(
      html([{ at: 0, outcome: 'ok', status: 200, promptCache: { readTokens: 0, writtenTokens: 20_000 } }]),
    ).not.toContain('data-testid="attempts"');
  });
});

describe('MessageItem for a question sent later, half price', () => {
  const pending = reply({ text: '', status: 'pending' });
  const view = (state: 'gathering' | 'batched') => ({ state, position: null, eta: null, resumed: false });

  it('a gathered question says it is batched and can be cancelled; a batched one cancels its batch', () => {
    const gathering = renderToStaticMarkup(
      <MessageItem message={pending} job={view('gathering')} now={0} actions={actions} />,
    );
    expect(gathering).toContain('Batched - answer usually within an hour');
    expect(gathering).toContain('>Cancel<');
    const batched = renderToStaticMarkup(
      <MessageItem message={pending} job={view('batched')} now={0} actions={actions} />,
    );
    expect(batched).toContain('Batched - answer usually within an hour');
    expect(batched).toContain('>Cancel batch<');
    expect(batched).not.toContain('Sending…');
  });

  it('its answer is marked batch - half price; an expired one offers Send now', () => {
    expect(renderToStaticMarkup(<MessageItem message={reply({ batch: true })} now={0} actions={actions} />)).toContain(
      'batch - half price',
    );
    const expired = renderToStaticMarkup(
      <MessageItem
        message={reply({
          text: '',
          status: 'error',
          batch: true,
          error: { code: 'cancelled', message: 'The batch expired.', action: 'retry' },
        })}
        now={0}
        actions={actions}
      />,
    );
    expect(expired).toContain('The batch expired.');
    expect(expired).toContain('>Send now<');
    expect(expired).not.toContain('batch - half price');
  });
});
