/**
 * Project rule: the worker loads all of its script at every start (a service worker cannot load
 * code later), and it must stay under 250 KB (`npm run bench -- worker`). Each package it imports
 * is listed here with what it brings; a new one fails this test until its size is checked and it
 * is added. The pages' packages (React, Readability in the page script, Markdown) stay out.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, staticImports } from '../../support/module-graph';

const WORKER_PACKAGES = {
  // Dexie's ES2021 build (wxt.config.ts DEXIE_MODERN): 87 KB, the largest part of the worker.
  dexie: 'the database',
  // The SDK's wire code only (lib/claude/client.ts), 10 KB: its client class would bring over 100 KB.
  '@anthropic-ai/sdk/core/error': "the API's error classes",
  '@anthropic-ai/sdk/core/streaming': 'the SSE stream',
  '@anthropic-ai/sdk/version': 'the user-agent version',
  'wxt/browser': 'the browser API',
  'wxt/utils/define-background': 'the entrypoint',
};

it('imports in the worker only the packages listed, each for what it brings', () => {
  const { packages } = staticImports(join(ROOT, 'entrypoints/background.ts'));
  expect([...packages].sort()).toEqual(Object.keys(WORKER_PACKAGES).sort());
});
