/**
 * `npm run lint` fails on any import circle among Pace's modules, type-only imports included
 * (dpdm without --transform sees `import type` too): storage at the bottom, domain above it, the
 * background's wiring and the pages on top, and no module reaching back down into one that needs it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const sources = ['lib/**/*.ts', 'components/**/*.{ts,tsx}', 'entrypoints/**/*.{ts,tsx}'];
const run = spawnSync(
  'npx',
  [
    '--no-install',
    'dpdm',
    '--no-warning',
    '--no-tree',
    '--no-progress',
    '-T',
    'false',
    '--exit-code',
    'circular:1',
    ...sources,
  ],
  { cwd: root, encoding: 'utf8' },
);
if (run.status !== 0) {
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  console.error('\nImport circles found: move the shared part down (lib/storage/rows.ts for records) instead.');
  process.exit(run.status ?? 1);
}
console.log('No import circles.');
