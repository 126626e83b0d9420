import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_S, retryAfterSeconds } from '@/lib/claude/errors';

const now = Date.UTC(2026, 10, 3, 12);
const wait = (headers: Record<string, string>) => retryAfterSeconds(new Headers(headers), now);

describe('retryAfterSeconds', () => {
  it('reads retry-after-ms first, then retry-after in seconds', () => {
    expect(wait({ 'retry-after-ms': '1500', 'retry-after': '9' })).toBe(1.5);
    expect(wait({ 'retry-after': '20' })).toBe(20);
    expect(wait({ 'retry-after': '0' })).toBe(0);
    expect(wait({})).toBe(null);
    expect(retryAfterSeconds(null)).toBe(null);
  });

  it('caps a wait of days or weeks at an hour', () => {
    expect(MAX_RETRY_AFTER_S).toBe(3600);
    expect(wait({ 'retry-after': String(28 * 24 * 3600) })).toBe(MAX_RETRY_AFTER_S);
    expect(wait({ 'retry-after-ms': String(28 * 24 * 3600 * 1000) })).toBe(MAX_RETRY_AFTER_S);
    expect(wait({ 'retry-after': '9'.repeat(400) })).toBe(MAX_RETRY_AFTER_S);
  });

  it('ignores garbage, so the queue backs off by itself', () => {
    for (const bad of ['-5', 'NaN', 'Infinity', '-Infinity', '1e400', '0x10', 'soon', '', ' ']) {
      expect(wait({ 'retry-after': bad }), bad).toBe(null);
      expect(wait({ 'retry-after-ms': bad }), bad).toBe(null);
    }
    // A garbage retry-after-ms leaves a good retry-after in force.
    expect(wait({ 'retry-after-ms': '-1', 'retry-after': '7' })).toBe(7);
  });

  it('reads an HTTP date: the time until it, never negative, at most an hour', () => {
    expect(wait({ 'retry-after': new Date(now + 30_000).toUTCString() })).toBe(30);
    expect(wait({ 'retry-after': new Date(now - 30_000).toUTCString() })).toBe(0);
    expect(wait({ 'retry-after': new Date(now + 40 * 24 * 3600_000).toUTCString() })).toBe(MAX_RETRY_AFTER_S);
    expect(wait({ 'retry-after': 'Wed, 99 Foo 2026 25:61:00 GMT' })).toBe(null);
  });
});
