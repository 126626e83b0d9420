import { APIError } from '@anthropic-ai/sdk/core/error';
import { describe, expect, it } from 'vitest';
import { createRedactingLog, redactedDetail } from '@/lib/key/redacting-log';

const KEY = 'sk-ant-api03-secret-key-0123456789';
const HEADER = 'team-secret-0123';

describe('the redacting log', () => {
  it("writes a server's error as its kind and text, without the key or a gateway header's value", async () => {
    const lines: [string, string][] = [];
    const log = createRedactingLog(
      async () => [KEY, HEADER],
      (line, detail) => lines.push([line, detail]),
    );
    const echoed = APIError.generate(
      502,
      {
        error: { type: 'api_error', message: `upstream refused Authorization: Bearer ${KEY}, x-team-token: ${HEADER}` },
      },
      undefined,
      new Headers(),
    );
    log('could not look at a batch', echoed);
    log(`a batch for ${KEY}`, { body: `Bearer ${KEY}` });
    await expect.poll(() => lines).toHaveLength(2);
    expect(lines[0]![0]).toBe('[pace] could not look at a batch');
    expect(lines[0]![1]).toMatch(/^API error 502: /);
    expect(lines[0]![1]).toContain('Bearer [redacted], x-team-token: [redacted]');
    expect(lines[1]).toEqual(['[pace] a batch for [redacted]', '{"body":"Bearer [redacted]"}']);
    expect(JSON.stringify(lines)).not.toContain(KEY);
  });

  it('says only the kind of the detail when the secrets cannot be read', async () => {
    const lines: [string, string][] = [];
    const log = createRedactingLog(
      () => Promise.reject(new Error('storage gone')),
      (line, detail) => lines.push([line, detail]),
    );
    log('no team budget from the gateway', new Error(`echo ${KEY}`));
    await expect.poll(() => lines).toHaveLength(1);
    expect(lines[0]).toEqual(['[pace] no team budget from the gateway', 'Error']);
  });

  it('turns any detail into bounded text', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(redactedDetail(cycle, [])).toBe('object');
    expect(redactedDetail(undefined, [])).toBe('');
    expect(redactedDetail(42, [])).toBe('42');
    expect(redactedDetail('x'.repeat(10_000), [])).toHaveLength(2_000);
  });
});
