/// <reference types="node" />
/**
 * A base URL that answers every request with a redirect to `target` (the same path), as a moved or
 * hostile gateway would. It answers CORS preflights itself, as a gateway does, so a browser sends
 * the real request, and records each request it received.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RedirectServer {
  url: string;
  requests: { method: string; path: string; headers: Record<string, string> }[];
  close(): Promise<void>;
}

export async function startRedirectServer(target: string, status = 307): Promise<RedirectServer> {
  const requests: RedirectServer['requests'] = [];
  const server = createServer((req, res) => {
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers });
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
        ...(req.headers['access-control-request-private-network'] === 'true'
          ? { 'access-control-allow-private-network': 'true' }
          : {}),
      });
      res.end();
      return;
    }
    res.writeHead(status, { location: `${target}${req.url ?? '/'}` });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
