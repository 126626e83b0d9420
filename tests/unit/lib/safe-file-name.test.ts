import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { exportName } from '@/lib/chat/chat-export';
import { MAX_FILE_NAME, safeFileName } from '@/lib/safe-file-name';
import { exportFileName } from '@/lib/usage/usage-export';

const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

describe('safeFileName', () => {
  it.each([
    ['../../etc/passwd', 'etc-passwd'],
    ['..\\..\\Windows\\win.ini', 'Windows-win.ini'],
    ['.bashrc', 'pace-export.bashrc'],
    ['report\u202Egpj.exe', 'report-gpj.exe'],
    ['Crème brûlée.md', 'Creme-brulee.md'],
    ['con.md', 'pace-con.md'],
    ['a\u0000b:c*d?e"f<g>h|i.json', 'a-b-c-d-e-f-g-h-i.json'],
    ['', 'pace-export'],
    ['...', 'pace-export'],
    ['???.md', 'pace-export.md'],
  ])('%j becomes %j', (name, safe) => {
    expect(safeFileName(name)).toBe(safe);
  });

  it('caps the length and keeps the extension', () => {
    const name = safeFileName(`${'x'.repeat(500)}.md`);
    expect(name).toHaveLength(MAX_FILE_NAME);
    expect(name.endsWith('xx.md')).toBe(true);
  });

  it('whatever it is given, the name is made of safe characters, within the cap', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (name) => {
        const safe = safeFileName(name);
        expect(safe).toMatch(SAFE);
        expect(safe.length).toBeLessThanOrEqual(MAX_FILE_NAME);
      }),
    );
  });

  it("the exports' names go through it: a hostile title or a broken clock gives a safe name, not an error", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.oneof(fc.integer(), fc.constant(NaN), fc.constant(Infinity)),
        (title, at) => {
          for (const name of [
            exportName('md', at, title),
            exportName('json', at),
            exportFileName(Number.isFinite(at) ? at : 0, 'csv'),
          ]) {
            expect(name).toMatch(SAFE);
            expect(name.length).toBeLessThanOrEqual(MAX_FILE_NAME);
          }
        },
      ),
    );
    expect(exportName('md', NaN, '')).toBe('pace-chat.md');
  });
});
