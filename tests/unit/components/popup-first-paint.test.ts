/**
 * Project rule: what the popup loads before its first paint (entrypoints/popup/main.tsx and what it
 * imports, not what it imports lazily with `import()`) holds no database code: Dexie is a third of
 * the popup's script, and the message box must take typing before it is parsed (`npm run bench -- popup`).
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, staticImports } from '../../support/module-graph';

it('loads no database code before the popup first paints', () => {
  const { files, packages } = staticImports(join(ROOT, 'entrypoints/popup/main.tsx'));
  expect(files.has(join(ROOT, 'components/chat/Composer.tsx'))).toBe(true);
  expect([...packages].filter((p) => p.startsWith('dexie'))).toEqual([]);
  expect([...files].filter((f) => f.endsWith('lib/storage/db.ts')).map((f) => f.slice(ROOT.length + 1))).toEqual([]);
});
