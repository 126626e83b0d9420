/**
 * Project rule: what the popup loads before its first paint (entrypoints/popup/main.tsx and what it
 * imports, not what it imports lazily with `import()`) holds no database code: Dexie is a third of
 * the popup's script, and the message box must take typing before it is parsed (`npm run bench -- popup`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith('.') && !spec.startsWith('@/')) return null;
  const base = spec.startsWith('@/') ? join(ROOT, spec.slice(2)) : resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) if (existsSync(candidate) && !candidate.endsWith('/')) return candidate;
  return null;
}

/** Every package and file reached by static value imports (type-only imports and `import()` left out). */
function staticImports(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file) || file.endsWith('.css')) continue;
    files.add(file);
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
      if (m[2]) continue;
      const spec = m[3]!;
      const target = resolveImport(file, spec);
      if (target) todo.push(target);
      else if (!spec.startsWith('.') && !spec.startsWith('@/')) packages.add(spec);
    }
  }
  return { files, packages };
}

it('loads no database code before the popup first paints', () => {
  const { files, packages } = staticImports(join(ROOT, 'entrypoints/popup/main.tsx'));
  expect(files.has(join(ROOT, 'components/chat/Composer.tsx'))).toBe(true);
  expect([...packages].filter((p) => p.startsWith('dexie'))).toEqual([]);
  expect([...files].filter((f) => f.endsWith('lib/storage/db.ts')).map((f) => f.slice(ROOT.length + 1))).toEqual([]);
});
