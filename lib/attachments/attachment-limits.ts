/**
 * What the API takes in one message's images and PDFs, and the base64 they travel in: one place for
 * the page (components/attachments/, which checks before it reads a file) and the background
 * (./attachment-check.ts, which checks again). Imports nothing, so the popup's lazy chunk stays small.
 */

/** Attachments a message may carry (chat.send refuses more). */
export const MAX_ATTACHMENTS = 20;
/** Anthropic scales an image down to this long edge anyway: sending more only adds latency. */
export const IMAGE_LONG_EDGE = 1568;
/** The largest image side the API takes. */
export const MAX_IMAGE_PX = 8000;
/** The whole request's size the API takes. */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

/** Bytes as base64, in slices (a spread of millions of bytes would overflow the call stack). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
