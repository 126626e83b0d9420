import type { UsageRow } from '@/lib/storage/db';

/** A sent, successful row; override what a test is about. */
export function row(over: Partial<UsageRow> = {}): UsageRow {
  return {
    at: Date.UTC(2026, 10, 16, 12),
    model: 'claude-sonnet-4-6',
    conversationId: 'c1',
    messageId: 'm1',
    outcome: 'ok',
    status: 200,
    usage: { inputTokens: 1000, outputTokens: 500, cacheReadTokens: 0, cacheCreationTokens: 0 },
    ttftMs: 400,
    totalMs: 2000,
    attempt: 1,
    fromCache: false,
    costUsd: 0.0105,
    ...over,
  };
}
