/**
 * The key's real limits as the API's rate-limit headers report them (the `server` row, from
 * lib/claude/rate-limit-headers.ts), in words for the options page, and as the limits form's input
 * when the user makes them Pace's own. Pure.
 */
import type { ServerLimits } from '../storage/db';
import { formatCount } from './format';
import type { LimitsInput } from './plans';
import type { Limits } from '../storage/rows';

/** "just now", "40 s ago", "2 min ago", "3 h ago", "2 days ago". */
export function formatAgo(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  const days = Math.floor(s / 86_400);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}

function listed(parts: string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
}

/**
 * "Anthropic allows this key 1,000 requests, 2,000,000 input tokens and 400,000 output tokens a
 * minute - seen 2 min ago". A gateway's figures are named by its host. The combined `tokens`
 * figure is named only when the key reported no separate input and output figures.
 */
export function describeLearned(server: ServerLimits, now: number): string {
  const parts = server.noRequests ? [] : [`${formatCount(server.limit)} requests`];
  if (server.inputTokens) parts.push(`${formatCount(server.inputTokens.limit)} input tokens`);
  if (server.outputTokens) parts.push(`${formatCount(server.outputTokens.limit)} output tokens`);
  if (server.tokens && !server.inputTokens && !server.outputTokens)
    parts.push(`${formatCount(server.tokens.limit)} tokens`);
  return `${server.by ?? 'Anthropic'} allows this key ${listed(parts)} a minute - seen ${formatAgo(now - server.observedAt)}`;
}

/**
 * The limits form's input that makes the learned figures Pace's own: the requests and the input and
 * output tokens a minute (a figure the key did not report keeps Pace's), the rest as they are. The
 * month's limit is raised to the minute's if it was below it.
 */
export function learnedLimitsInput(current: Limits, server: ServerLimits): LimitsInput {
  return {
    plan: 'custom',
    perMinute: server.noRequests ? current.perMinute : server.limit,
    perMonth: server.noRequests ? current.perMonth : Math.max(current.perMonth, server.limit),
    smooth: current.smooth,
    monthStart: current.monthStart,
    inputPerMinute: server.inputTokens?.limit ?? current.inputPerMinute ?? null,
    outputPerMinute: server.outputTokens?.limit ?? current.outputPerMinute ?? null,
  };
}
