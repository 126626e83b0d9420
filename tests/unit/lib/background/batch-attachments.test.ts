/** "Later, half price" with an image and thinking: the batch's request carries the same blocks as a message sent now. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DEFAULT_BATCH_PREFS } from '@/lib/settings/batch-prefs';
import { DEFAULT_SETTINGS } from '@/lib/settings/validate';
import { batchPrefsItem, settingsItem } from '@/lib/settings/settings-items';
import { PaceDB } from '@/lib/storage/db';
import type { ClaudeServer } from '../../../support/claude-server';
import { useClaudeServer } from '../../../support/use-claude-server';
import { pngBase64 } from '../../../support/claude-server-fixtures';
import { testBackground, type WakeTimer } from './background-app';

let claude: ClaudeServer;
let db: PaceDB;
useClaudeServer((s) => (claude = s), { batches: { inProgressPolls: 0 } });

beforeEach(async () => {
  db = new PaceDB(`batch-attachments-${Math.random()}`);
  await settingsItem.setValue({
    ...DEFAULT_SETTINGS,
    baseURL: claude.url,
    model: 'claude-sonnet-5-5',
    maxTokens: 2000,
  });
  await batchPrefsItem.setValue({ ...DEFAULT_BATCH_PREFS, gatherSeconds: 0, firstPollSeconds: 1, maxPollSeconds: 1 });
});
afterEach(async () => {
  db.close();
  await db.delete();
});

async function until(ok: () => Promise<boolean>, timers: WakeTimer[]): Promise<void> {
  const end = performance.now() + 10_000;
  while (!(await ok())) {
    if (performance.now() > end) throw new Error('timed out');
    for (const t of timers.filter((t) => !t.cleared)) {
      t.cleared = true;
      t.run();
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

it("a batched question carries its image before its text, and its chat's thinking", async () => {
  const { client, timers } = testBackground(db, claude.url);
  const png = pngBase64(20, 20);
  const sent = await client.request('chat.send', {
    conversationId: null,
    text: 'Describe it, no hurry',
    later: true,
    thinking: 'low',
    attachments: [{ name: 'p.png', mediaType: 'image/png', data: png }],
  });
  if (!sent.ok) throw new Error(sent.error.message);
  await until(async () => (await db.batches.toArray())[0]?.state === 'running', timers);
  const created = claude.requests.find((r) => r.path === '/v1/messages/batches' && r.method === 'POST')!;
  const params = (created.body as { requests: { params: Record<string, unknown> }[] }).requests[0]!.params as {
    messages: { content: { type: string }[] }[];
    thinking?: unknown;
    output_config?: unknown;
  };
  expect(params.messages[0]!.content.map((b) => b.type)).toEqual(['image', 'text']);
  expect(params.messages[0]!.content[0]).toEqual({
    type: 'image',
    source: { type: 'base64', media_type: 'image/png', data: png },
  });
  expect(params.thinking).toEqual({ type: 'adaptive' });
  expect(params.output_config).toEqual({ effort: 'low' });
  expect(created.batch?.[0]?.error).toBeUndefined();
});
