/**
 * Seals the API key with a passphrase so it can be kept at rest: AES-GCM 256 under a key derived
 * from the passphrase with PBKDF2-SHA-256 (600,000 iterations, OWASP's current figure), a random
 * 16-byte salt and 12-byte IV per seal. Pure WebCrypto: where the sealed key lives is the key
 * store's business.
 *
 *   const sealed = await sealKey(apiKey, passphrase); // JSON-safe: store it as it is
 *   const opened = await openKey(sealed, passphrase); // { ok: true, key } | { ok: false, reason }
 *
 * The iteration count travels with each sealed key, so a later version can raise it and still open
 * what was sealed before.
 */
import { formatCount } from '../limits/format';

export const PBKDF2_ITERATIONS = 600_000;
const MIN_PASSPHRASE_LENGTH = 8;
const MAX_PASSPHRASE_LENGTH = 1024;
const MAX_ITERATIONS = 10_000_000;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const CHECK_BYTES = 32;

export interface SealedKey {
  version: 1;
  kdf: 'PBKDF2-SHA-256';
  iterations: number;
  /** Base64. */
  salt: string;
  /** Base64. */
  iv: string;
  /**
   * Base64; derived from the passphrase (not from the API key), so a wrong passphrase is told apart
   * from a damaged ciphertext. Guessing against it costs the same PBKDF2 run as trying to decrypt.
   */
  check: string;
  /** Base64 AES-GCM output, the 16-byte tag included. */
  ciphertext: string;
}

export type OpenFailure = 'wrong_passphrase' | 'damaged';
export type Opened = { ok: true; key: string } | { ok: false; reason: OpenFailure };

/** Why a passphrase cannot be used to seal a key, or null when it can. */
export function passphraseProblem(passphrase: string): string | null {
  if (passphrase === '') return 'Type a passphrase, or turn off "Protect with a passphrase".';
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    return `Use at least ${MIN_PASSPHRASE_LENGTH} characters for the passphrase (this one has ${passphrase.length}).`;
  }
  if (passphrase.length > MAX_PASSPHRASE_LENGTH)
    return `Use at most ${formatCount(MAX_PASSPHRASE_LENGTH)} characters for the passphrase.`;
  return null;
}

export async function sealKey(key: string, passphrase: string, iterations = PBKDF2_ITERATIONS): Promise<SealedKey> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const { aesKey, check } = await derive(passphrase, salt, iterations);
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, aesKey, new TextEncoder().encode(key));
  return {
    version: 1,
    kdf: 'PBKDF2-SHA-256',
    iterations,
    salt: toBase64(salt),
    iv: toBase64(iv),
    check: toBase64(check),
    ciphertext: toBase64(new Uint8Array(ciphertext)),
  };
}

export async function openKey(sealed: SealedKey, passphrase: string): Promise<Opened> {
  const parts = readSealed(sealed);
  if (!parts) return { ok: false, reason: 'damaged' };
  const { aesKey, check } = await derive(passphrase, parts.salt, sealed.iterations);
  if (!sameBytes(check, parts.check)) return { ok: false, reason: 'wrong_passphrase' };
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: parts.iv }, aesKey, parts.ciphertext);
    return { ok: true, key: new TextDecoder('utf-8', { fatal: true }).decode(plain) };
  } catch (err) {
    // The passphrase is right, so a failed tag check means the stored bytes were changed.
    if (err instanceof Error && (err.name === 'OperationError' || err instanceof TypeError))
      return { ok: false, reason: 'damaged' };
    throw err;
  }
}

/** True for a value shaped like a sealed key (as read back from storage). */
export function isSealedKey(v: unknown): v is SealedKey {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    s.version === 1 &&
    s.kdf === 'PBKDF2-SHA-256' &&
    typeof s.iterations === 'number' &&
    ['salt', 'iv', 'check', 'ciphertext'].every((f) => typeof s[f] === 'string')
  );
}

function readSealed(sealed: SealedKey) {
  if (
    !isSealedKey(sealed) ||
    !Number.isSafeInteger(sealed.iterations) ||
    sealed.iterations < 1 ||
    sealed.iterations > MAX_ITERATIONS
  ) {
    return null;
  }
  const salt = fromBase64(sealed.salt);
  const iv = fromBase64(sealed.iv);
  const check = fromBase64(sealed.check);
  const ciphertext = fromBase64(sealed.ciphertext);
  if (!salt || !iv || !check || !ciphertext) return null;
  if (salt.length !== SALT_BYTES || iv.length !== IV_BYTES || check.length !== CHECK_BYTES || ciphertext.length <= 16)
    return null;
  return { salt, iv, check, ciphertext };
}

/** PBKDF2 stretches the passphrase once; HKDF splits the result into the AES key and the check. */
async function derive(passphrase: string, salt: Uint8Array<ArrayBuffer>, iterations: number) {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, [
    'deriveBits',
  ]);
  const stretched = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, 256);
  const hkdf = await crypto.subtle.importKey('raw', stretched, 'HKDF', false, ['deriveKey', 'deriveBits']);
  const info = (label: string) => ({
    name: 'HKDF',
    hash: 'SHA-256',
    salt: new Uint8Array(0),
    info: new TextEncoder().encode(label),
  });
  const aesKey = await crypto.subtle.deriveKey(
    info('pace key-vault v1 aes-gcm'),
    hkdf,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
  const check = new Uint8Array(await crypto.subtle.deriveBits(info('pace key-vault v1 check'), hkdf, CHECK_BYTES * 8));
  return { aesKey, check };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}
