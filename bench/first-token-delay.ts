/**
 * A pass-through in front of the local Claude server that holds an answer's first text back: the
 * events before the first `content_block_delta` (message_start, the block's start, a ping) go at
 * once, as the API sends them; the first delta and all after it wait until `delayMs` after the
 * request arrived, as when the model takes that long to its first token. With 0 it only passes through,
 * so both cases of the first-word bench go the same way and differ only in the wait.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FirstTokenDelay {
  url: string;
  /** From now on, hold each answer's first text this long after its request arrived. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

export async function startFirstTokenDelay(target: string): Promise<FirstTokenDelay> {
  const upstream = new URL(target);
  let delayMs = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const arrived = performance.now();
    const held = delayMs;
    const out = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.flushHeaders();
        let released = held === 0;
        let waiting: Buffer[] | null = null;
        const release = () => {
          released = true;
          for (const piece of waiting ?? []) res.write(piece);
          waiting = null;
          if (answer.readableEnded) res.end();
        };
        answer.on('data', (piece: Buffer) => {
          if (released) return res.write(piece);
          if (waiting) return waiting.push(piece);
          const text = piece.toString('latin1');
          const at = text.indexOf('event: content_block_delta');
          if (at < 0) return res.write(piece);
          res.write(piece.subarray(0, at));
          waiting = [piece.subarray(at)];
          setTimeout(release, Math.max(0, arrived + held - performance.now()));
        });
        answer.on('end', () => {
          if (released) res.end();
        });
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setDelay: (ms) => void (delayMs = ms),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
