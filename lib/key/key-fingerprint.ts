/**
 * A short fingerprint of an API key: the first 16 hex digits of its SHA-256. A record that must
 * know which key made it (a Message Batch is read only with the key that created it) keeps this,
 * never the key, which must stay out of IndexedDB rows, logs and messages.
 */
export async function keyFingerprint(apiKey: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(apiKey));
  return [...new Uint8Array(digest).slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
