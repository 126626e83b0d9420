/**
 * The shape issue 23 asked for, kept: storage at the bottom (lib/storage imports nothing of the
 * domain above it), and no file name twice in lib/, so a name says which module it is.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');
const LIB = join(ROOT, 'lib');

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** Every module an import, export or import() names in a file. */
function specifiers(source: string): string[] {
  return [...source.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

describe("lib/'s layout", () => {
  it('has no file name twice', () => {
    const byName = new Map<string, string[]>();
    for (const file of sourcesUnder(LIB)) {
      const name = basename(file);
      byName.set(name, [...(byName.get(name) ?? []), relative(ROOT, file)]);
    }
    const twice = [...byName.values()].filter((files) => files.length > 1);
    expect(twice).toEqual([]);
    expect(byName.size).toBeGreaterThan(50);
  });

  it('keeps storage at the bottom: lib/storage imports only Dexie, the browser and itself', () => {
    const reachesUp: string[] = [];
    for (const file of sourcesUnder(join(LIB, 'storage'))) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const inside = spec.startsWith('./') || spec === 'dexie' || spec === 'wxt/browser' || spec === '../is-object';
        if (!inside) reachesUp.push(`${relative(ROOT, file)} -> ${spec}`);
      }
    }
    expect(reachesUp).toEqual([]);
  });

  it('the check above sees an import that reaches up', () => {
    expect(
      specifiers("import type { Budget } from '../limits/budget';\nconst m = import('../queue/job-store');"),
    ).toEqual(['../limits/budget', '../queue/job-store']);
  });
});
