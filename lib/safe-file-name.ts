/**
 * A download's file name, from safe characters only: ASCII letters, digits, ".", "-" and "_",
 * at most MAX_FILE_NAME characters, its extension kept. A title or a date that went wrong cannot
 * name a path, a hidden file, a device, or hide its real extension behind a right-to-left mark.
 */
export const MAX_FILE_NAME = 80;
const FALLBACK = 'pace-export';
const WINDOWS_DEVICES = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;

export function safeFileName(name: string): string {
  const plain = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-');
  const ext = /\.[A-Za-z0-9]{1,9}$/.exec(plain)?.[0] ?? '';
  const stem = plain
    .slice(0, plain.length - ext.length)
    .replace(/-{2,}/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+/, '')
    .slice(0, MAX_FILE_NAME - ext.length)
    .replace(/[.-]+$/, '');
  const safe = stem ? `${stem}${ext}` : `${FALLBACK}${ext}`;
  return WINDOWS_DEVICES.test(safe) ? `pace-${safe}` : safe;
}
