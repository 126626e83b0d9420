/// <reference types="node" />
/**
 * The no-preflight proof's tools: a copy of a build whose manifest already grants the loopback
 * origin (as if the user had pressed "Allow": headless browsers cannot answer the permission
 * prompt, see shared/TESTING.md), and Pace's batch calls bundled into one script that a test
 * evaluates in the extension's background.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { expect } from 'vitest';
import type { BatchRequest } from '@/lib/claude/batches';
import { TEST_KEY, type ClaudeServer } from '../../support/claude-server';
import type { ProbeOutcome } from './batch-probe-entry';
export type { ProbeInput, ProbeOutcome } from './batch-probe-entry';

/** The origin pattern the copy grants. Match patterns carry no port: it covers the server wherever it listens. */
export const LOOPBACK_PATTERN = 'http://127.0.0.1/*';

const root = fileURLToPath(new URL('../../..', import.meta.url));

export function buildDir(dir: 'chrome-mv3' | 'firefox-mv2' | 'firefox-mv3'): string {
  return resolve(root, process.env.PACE_OUT_DIR ?? '.output', dir);
}

/**
 * Copies the build at `source` and grants LOOPBACK_PATTERN in its manifest, and any `also` patterns
 * (`<all_urls>` stands in for the activeTab grant a click on the toolbar button gives, which
 * `tabs.captureVisibleTab` needs); `remove()` deletes the copy.
 */
export async function withLoopbackGranted(
  source: string,
  also: string[] = [],
): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pace-granted-'));
  const path = join(dir, 'extension');
  await cp(source, path, { recursive: true });
  const manifestPath = join(path, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
    manifest_version: number;
    permissions?: string[];
    host_permissions?: string[];
  };
  if (manifest.manifest_version === 3)
    manifest.host_permissions = [...(manifest.host_permissions ?? []), LOOPBACK_PATTERN, ...also];
  else manifest.permissions = [...(manifest.permissions ?? []), LOOPBACK_PATTERN, ...also];
  await writeFile(manifestPath, JSON.stringify(manifest));
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Pace's batch calls (lib/claude/batches.ts on the thin client) as one script that defines globalThis.__paceBatchProbe(input, fetch). */
export async function probeScript(): Promise<string> {
  const out = await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: false,
      target: 'es2022',
      lib: {
        entry: resolve(root, 'tests/e2e/support/batch-probe-entry.ts'),
        formats: ['iife'],
        name: 'paceBatchProbe',
        fileName: 'probe',
      },
    },
  });
  const first = Array.isArray(out) ? out[0] : out;
  const chunk = first && 'output' in first ? first.output.find((o) => o.type === 'chunk') : undefined;
  if (!chunk) throw new Error('bundling the batch probe produced no script');
  return chunk.code;
}

/** Two small requests, the batch each proof sends. */
export function probeRequests(): BatchRequest[] {
  return ['first', 'second'].map((word) => ({
    custom_id: `probe-${word}`,
    params: {
      model: 'claude-haiku-4-5',
      max_tokens: 32,
      messages: [{ role: 'user', content: `The ${word} question` }],
    },
  }));
}

/**
 * The probe's whole round trip as the server saw it: one create, three polls (the batch ends after
 * the third), the results, every one answered, no OPTIONS request; sent from `origin` (the
 * extension) with the key and the browser-access header the thin client sends.
 */
export function expectRoundTripWithoutPreflight(outcome: ProbeOutcome, server: ClaudeServer, origin: string): void {
  expect(outcome).toMatchObject({
    ok: true,
    polls: 3,
    statuses: ['in_progress', 'in_progress', 'in_progress', 'ended'],
  });
  expect(outcome.ok && [...outcome.results].sort()).toEqual([
    ['probe-first', 'succeeded'],
    ['probe-second', 'succeeded'],
  ]);
  const id = outcome.ok ? outcome.id : '';
  expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
    'POST /v1/messages/batches 200',
    `GET /v1/messages/batches/${id} 200`,
    `GET /v1/messages/batches/${id} 200`,
    `GET /v1/messages/batches/${id} 200`,
    `GET /v1/messages/batches/${id}/results 200`,
  ]);
  expect(server.requests.filter((r) => r.method === 'OPTIONS')).toEqual([]);
  expect(server.requests[0]!.headers).toMatchObject({
    origin,
    authorization: `Bearer ${TEST_KEY}`,
    'anthropic-dangerous-direct-browser-access': 'true',
  });
}
