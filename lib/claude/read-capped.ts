/**
 * Reads a response body as text, at most `maxBytes` of it: what a server sends is never read
 * unbounded (an error page, a gateway's `/key/info`, a batch's results). Past the cap the rest is
 * cancelled, not downloaded, and `cut` says so; the text is the UTF-8 of the bytes kept (a
 * character cut in two at the end is dropped).
 */
export interface CappedText {
  text: string;
  /** The body was longer than the cap: `text` is only its beginning. */
  cut: boolean;
}

export async function readCapped(response: Response, maxBytes: number): Promise<CappedText> {
  if (!response.body) return { text: '', cut: false };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: text + decoder.decode(), cut: false };
      const room = maxBytes - read;
      if (value.byteLength > room) {
        text += decoder.decode(value.subarray(0, room), { stream: true });
        await reader
          .cancel()
          .catch((err: unknown) => console.info('[pace] could not cancel the rest of a response', err));
        return { text, cut: true };
      }
      read += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
}

/** An error response's body: an API error is a few hundred bytes, a gateway's HTML page a few kilobytes. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** A gateway's `/key/info` answer: a few hundred bytes. */
export const MAX_KEY_INFO_BYTES = 64 * 1024;

/**
 * A batch's results file (JSON Lines). Pace gathers a few questions at a time, each answer at most
 * 128k output tokens (about 500 KB of text, MAX_ANSWER_CHARS bounds the stream at 4 Mi characters):
 * 64 MiB holds any batch Pace sends many times over, and a larger file fails its questions instead.
 */
export const MAX_BATCH_RESULTS_BYTES = 64 * 1024 * 1024;
