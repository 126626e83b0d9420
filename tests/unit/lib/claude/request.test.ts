import { describe, expect, it } from 'vitest';
import { messageRequest, thinkingProblem, type ContextTurn } from '@/lib/claude/request';
import { supportsThinking, thinkingStyle, webSearchTool } from '@/lib/claude/models';
import { withPromptCache } from '@/lib/claude/prompt-cache';
import type { AttachmentRef } from '@/lib/storage/rows';

const base = { model: 'claude-sonnet-5-5', maxTokens: 8000, systemPrompt: '' };
const ask: ContextTurn[] = [{ role: 'user', content: 'Hi' }];
const image: AttachmentRef = {
  id: 'i1',
  kind: 'image',
  name: 'cat.png',
  mediaType: 'image/png',
  bytes: 10,
  width: 30,
  height: 30,
  tokens: 2,
  hash: 'h1',
};
const pdf: AttachmentRef = {
  id: 'p1',
  kind: 'pdf',
  name: 'report.pdf',
  mediaType: 'application/pdf',
  bytes: 99,
  pages: 2,
  tokens: 6000,
  hash: 'h2',
};

describe('thinking', () => {
  it('is adaptive with an effort on the 5.x family, Opus 4.7 and unknown ids', () => {
    for (const model of ['claude-sonnet-5-5', 'claude-opus-4-7', 'claude-opus-5-20261001', 'my-gateway-model']) {
      expect(thinkingStyle(model)).toBe('adaptive');
      const r = messageRequest({ ...base, model, thinking: 'medium' }, ask);
      expect(r.thinking).toEqual({ type: 'adaptive' });
      expect(r.output_config).toEqual({ effort: 'medium' });
    }
  });

  it('is budget_tokens on Sonnet 4.6, Haiku 4.5 and older, below max_tokens and at least 1024', () => {
    for (const model of [
      'claude-sonnet-4-6',
      'claude-haiku-4-5-20251001',
      'claude-opus-4-1',
      'claude-3-7-sonnet-20250219',
    ]) {
      expect(thinkingStyle(model)).toBe('budget');
    }
    const at = (thinking: 'low' | 'medium' | 'high', maxTokens: number) =>
      messageRequest({ ...base, model: 'claude-haiku-4-5', maxTokens, thinking }, ask);
    expect(at('low', 8000).thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(at('medium', 8000).thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
    expect(at('high', 32000).thinking).toEqual({ type: 'enabled', budget_tokens: 16000 });
    // The answer keeps 1,024 of max_tokens for its text; at the least the budget is 1,024, still below max_tokens.
    expect(at('high', 8000).thinking).toEqual({ type: 'enabled', budget_tokens: 6976 });
    expect(at('medium', 4096).thinking).toEqual({ type: 'enabled', budget_tokens: 3072 });
    expect(at('medium', 1500).thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(at('high', 8000).output_config).toBeUndefined();
  });

  it('is refused clearly when max_tokens leaves no room, or on a model without thinking', () => {
    expect(thinkingProblem('claude-haiku-4-5', 'low', 1024)).toBe(
      'Thinking needs more than 1024 tokens for the answer on claude-haiku-4-5 (the longest answer is set to 1024); raise it on the options page or turn thinking off.',
    );
    expect(() => messageRequest({ ...base, model: 'claude-haiku-4-5', maxTokens: 1000, thinking: 'low' }, ask)).toThrow(
      /Thinking needs more than 1024/,
    );
    expect(supportsThinking('claude-3-5-haiku-20241022')).toBe(false);
    expect(thinkingProblem('claude-3-5-haiku-20241022', 'high', 8000)).toMatch(/cannot think before answering/);
    expect(thinkingProblem('claude-3-5-haiku-20241022', 'off', 8000)).toBeNull();
  });

  it('sends no thinking field when off', () => {
    const r = messageRequest({ ...base, thinking: 'off' }, ask);
    expect('thinking' in r || 'output_config' in r).toBe(false);
  });
});

describe('web search', () => {
  it('offers the 2026 tool with max_uses, the 2025 one to the models that predate it', () => {
    expect(messageRequest({ ...base, webSearch: true, webSearchMaxUses: 5 }, ask).tools).toEqual([
      { type: 'web_search_20260209', name: 'web_search', max_uses: 5 },
    ]);
    expect(messageRequest({ ...base, model: 'claude-sonnet-4-6', webSearch: true }, ask).tools).toEqual([
      { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
    ]);
    expect(webSearchTool('claude-haiku-4-5').type).toBe('web_search_20250305');
    expect(messageRequest({ ...base, webSearch: false }, ask).tools).toBeUndefined();
  });
});

describe('attachments', () => {
  it('go before the text of their turn; a PDF with citations and its title', () => {
    const r = messageRequest(base, [
      {
        role: 'user',
        content: 'What are these?',
        attachments: [
          { ...image, data: 'AAAA' },
          { ...pdf, data: 'BBBB' },
        ],
      },
    ]);
    expect(r.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          {
            type: 'document',
            source: { type: 'base64', media_type: 'application/pdf', data: 'BBBB' },
            title: 'report.pdf',
            citations: { enabled: true },
          },
          { type: 'text', text: 'What are these?' },
        ],
      },
    ]);
  });

  it("keeps a text-only turn a string, and says so when an attachment's bytes are missing", () => {
    expect(messageRequest(base, ask).messages).toEqual([{ role: 'user', content: 'Hi' }]);
    expect(() => messageRequest(base, [{ role: 'user', content: 'x', attachments: [image] }])).toThrow(
      'The bytes of cat.png are missing: send it again in a new message.',
    );
  });
});

describe('prompt cache with attachments', () => {
  const turns: ContextTurn[] = [
    { role: 'user', content: 'Read this', attachments: [{ ...pdf, data: 'BBBB' }] },
    { role: 'assistant', content: 'Done.' },
    { role: 'user', content: 'And page 2?' },
  ];

  it('explicit: a breakpoint on the last block of the turn holding the PDF, and on the last question', () => {
    const wire = withPromptCache(messageRequest(base, turns), 'explicit', '5m');
    const first = wire.messages[0]!.content as { type: string; cache_control?: unknown }[];
    expect(first.map((b) => [b.type, b.cache_control])).toEqual([
      ['document', undefined],
      ['text', { type: 'ephemeral' }],
    ]);
    expect(wire.messages[2]!.content).toEqual([
      { type: 'text', text: 'And page 2?', cache_control: { type: 'ephemeral' } },
    ]);
    expect(wire.messages[1]!.content).toBe('Done.');
  });

  it('explicit on a text-only conversation: one breakpoint, as before', () => {
    const wire = withPromptCache(messageRequest(base, [...ask]), 'explicit', '1h');
    expect(wire.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
    ]);
  });
});
