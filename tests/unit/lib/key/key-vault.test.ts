import { beforeAll, describe, expect, it } from 'vitest';
import {
  isSealedKey,
  openKey,
  passphraseProblem,
  PBKDF2_ITERATIONS,
  sealKey,
  type SealedKey,
} from '@/lib/key/key-vault';

const KEY = 'sk-ant-api03-vault-test-key-7Qz9';
const PASS = 'correct horse battery staple';

const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
/** Flips one bit of a base64 field. */
function flip(b64: string, at: number): string {
  const b = bytes(b64);
  b[at] = b[at]! ^ 0x01;
  return btoa(String.fromCharCode(...b));
}

describe('key vault (real PBKDF2 cost)', { timeout: 30_000 }, () => {
  let sealed: SealedKey;
  beforeAll(async () => {
    const started = performance.now();
    sealed = await sealKey(KEY, PASS);
    console.info(
      `[key-vault] one seal (one PBKDF2 derivation at ${PBKDF2_ITERATIONS} iterations): ${(performance.now() - started).toFixed(0)} ms`,
    );
  });

  it('seals with AES-GCM under PBKDF2-SHA-256 at 600,000 iterations, stored with the blob', () => {
    expect(PBKDF2_ITERATIONS).toBe(600_000);
    expect(sealed).toMatchObject({ version: 1, kdf: 'PBKDF2-SHA-256', iterations: 600_000 });
    expect(bytes(sealed.salt)).toHaveLength(16);
    expect(bytes(sealed.iv)).toHaveLength(12);
    // The key's bytes plus the 16-byte tag.
    expect(bytes(sealed.ciphertext)).toHaveLength(KEY.length + 16);
    expect(JSON.stringify(sealed)).not.toContain(KEY);
    expect(JSON.stringify(sealed)).not.toContain(PASS);
    expect(isSealedKey(JSON.parse(JSON.stringify(sealed)))).toBe(true);
  });

  it('opens with the same passphrase', async () => {
    await expect(openKey(sealed, PASS)).resolves.toEqual({ ok: true, key: KEY });
  });

  it('a wrong passphrase is reported as such', async () => {
    await expect(openKey(sealed, 'correct horse battery stapler')).resolves.toEqual({
      ok: false,
      reason: 'wrong_passphrase',
    });
    await expect(openKey(sealed, '')).resolves.toEqual({ ok: false, reason: 'wrong_passphrase' });
  });

  it('refuses a tampered ciphertext, IV or tag as damaged', async () => {
    const last = bytes(sealed.ciphertext).length - 1;
    for (const tampered of [
      { ...sealed, ciphertext: flip(sealed.ciphertext, 0) },
      { ...sealed, ciphertext: flip(sealed.ciphertext, last) },
      { ...sealed, iv: flip(sealed.iv, 3) },
    ]) {
      await expect(openKey(tampered, PASS)).resolves.toEqual({ ok: false, reason: 'damaged' });
    }
  });

  it('a changed salt or iteration count no longer opens', async () => {
    await expect(openKey({ ...sealed, salt: flip(sealed.salt, 0) }, PASS)).resolves.toMatchObject({ ok: false });
    await expect(openKey({ ...sealed, iterations: 599_999 }, PASS)).resolves.toMatchObject({ ok: false });
  });

  it('refuses malformed blobs without deriving anything', async () => {
    for (const broken of [
      { ...sealed, salt: 'AAAA' },
      { ...sealed, iv: 'not base64!' },
      { ...sealed, ciphertext: '' },
      { ...sealed, iterations: 0 },
      { ...sealed, iterations: 1e9 },
      { ...sealed, version: 2 },
    ]) {
      await expect(openKey(broken as SealedKey, PASS)).resolves.toEqual({ ok: false, reason: 'damaged' });
    }
  });

  it('two seals of the same key differ in salt, IV and ciphertext, and both open', async () => {
    const again = await sealKey(KEY, PASS);
    expect(again.salt).not.toBe(sealed.salt);
    expect(again.iv).not.toBe(sealed.iv);
    expect(again.ciphertext).not.toBe(sealed.ciphertext);
    expect(again.check).not.toBe(sealed.check);
    await expect(openKey(again, PASS)).resolves.toEqual({ ok: true, key: KEY });
  });

  it('opens a blob sealed with another iteration count, read from the blob', async () => {
    const older = await sealKey(KEY, PASS, 100_000);
    expect(older.iterations).toBe(100_000);
    await expect(openKey(older, PASS)).resolves.toEqual({ ok: true, key: KEY });
  });

  it('round-trips any key the key check accepts, including non-ASCII passphrases', async () => {
    const odd = '~!x'.repeat(100);
    const pass = 'pässwörd ✓ 鍵';
    const s = await sealKey(odd, pass, 1000);
    await expect(openKey(s, pass)).resolves.toEqual({ ok: true, key: odd });
    await expect(openKey(s, pass.normalize('NFD'))).resolves.toMatchObject({ ok: false, reason: 'wrong_passphrase' });
  });
});

describe('passphraseProblem', () => {
  it.each([
    ['', 'Type a passphrase'],
    ['short', 'at least 8 characters for the passphrase (this one has 5)'],
    ['x'.repeat(1025), 'at most 1,024'],
  ])('refuses %j', (p, words) => {
    expect(passphraseProblem(p)).toContain(words);
  });
  it('accepts 8 characters or more', () => {
    expect(passphraseProblem('12345678')).toBeNull();
  });
});
