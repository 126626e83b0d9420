/// <reference types="node" />
/**
 * A STAND-IN for a team's LiteLLM proxy, on 127.0.0.1, for tests: it is not LiteLLM, only a small
 * copy of what LiteLLM's documentation says the proxy does for a virtual key (docs.litellm.ai:
 * "Response Headers", "Virtual Keys" /key/info, and ../shared/claude-api.md "Gateways"):
 * - serves Anthropic's format at `/v1/messages` and the pass-through `/anthropic/v1/messages`,
 *   forwarding to "Anthropic" (here the local Claude test server, `upstream`) with its own key;
 * - authenticates the caller's virtual key (`Authorization: Bearer sk-...`);
 * - answers with OpenAI-style `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` describing
 *   the key's `rpm_limit` / `tpm_limit` (resets as durations such as "59s"), and per response
 *   `x-litellm-response-cost` (USD, by the proxy's own prices, not Anthropic's) and
 *   `x-litellm-key-spend` (the key's spend as the proxy knew it when the request arrived);
 * - `GET /key/info` (Bearer key) returns `{"key": ..., "info": {"spend", "max_budget",
 *   "budget_duration", "budget_reset_at", "rpm_limit", "tpm_limit", ...}}`;
 * - over the key's budget or rpm limit it answers 429.
 * The cost is known before the answer is sent because the stand-in reads the whole upstream answer
 * first, then replays it; a test can make `/key/info` absent (404) or junk.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startClaudeServer, TEST_KEY, type ClaudeServer } from './claude-server';

export const VIRTUAL_KEY = 'sk-litellm-team-key-0123';

export interface StandInOptions {
  /** The key's limits at the proxy; none by default (then no x-ratelimit-* headers). */
  rpmLimit?: number;
  tpmLimit?: number;
  /** USD; null for no budget. */
  maxBudget?: number | null;
  /** Spend already on the key. */
  spend?: number;
  budgetResetAt?: string | null;
  /** The proxy's own prices, USD per million tokens (deliberately not Pace's table). */
  price?: { input: number; output: number };
  keyInfo?: 'on' | 'absent' | 'junk';
}

interface StandInRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  at: number;
  /** For a message: the x-litellm-response-cost it was answered with. */
  cost?: number;
}

export interface LiteLLMStandIn {
  url: string;
  /** "Anthropic" behind it: script its answers here. */
  upstream: ClaudeServer;
  requests: StandInRequest[];
  /** The key's spend now, USD. */
  spend(): number;
  setKeyInfo(mode: 'on' | 'absent' | 'junk'): void;
  close(): Promise<void>;
}

const EXPOSED = [
  'request-id',
  'retry-after',
  ...['limit', 'remaining', 'reset'].flatMap((f) => [`x-ratelimit-${f}-requests`, `x-ratelimit-${f}-tokens`]),
  'x-litellm-response-cost',
  'x-litellm-key-spend',
].join(', ');

function flatten(req: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
  );
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Input and output tokens from a Messages answer, streamed or whole. */
function usageOf(text: string): { input: number; output: number } {
  const usage = { input: 0, output: 0 };
  const read = (u: Record<string, number> | undefined) => {
    if (!u) return;
    if (u.input_tokens !== undefined)
      usage.input = u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
    if (u.output_tokens !== undefined) usage.output = u.output_tokens;
  };
  if (text.startsWith('{')) {
    read((JSON.parse(text) as { usage?: Record<string, number> }).usage);
    return usage;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const event = JSON.parse(line.slice(6)) as {
      type: string;
      message?: { usage?: Record<string, number> };
      usage?: Record<string, number>;
    };
    read(
      event.type === 'message_start' ? event.message?.usage : event.type === 'message_delta' ? event.usage : undefined,
    );
  }
  return usage;
}

export async function startLiteLLMStandIn(opts: StandInOptions = {}): Promise<LiteLLMStandIn> {
  const upstream = await startClaudeServer({ requireBrowserHeader: false });
  const price = opts.price ?? { input: 3, output: 15 };
  const requests: StandInRequest[] = [];
  let spend = opts.spend ?? 0;
  let keyInfo = opts.keyInfo ?? 'on';
  let windowStart = Date.now();
  let usedRequests = 0;
  let usedTokens = 0;

  /** The key's limits as LiteLLM reports them: what is left in the current minute, and when it turns. */
  function limitHeaders(): Record<string, string> {
    const now = Date.now();
    if (now - windowStart >= 60_000) [windowStart, usedRequests, usedTokens] = [now, 0, 0];
    const reset = `${Math.max(1, Math.ceil((windowStart + 60_000 - now) / 1000))}s`;
    return {
      ...(opts.rpmLimit === undefined
        ? {}
        : {
            'x-ratelimit-limit-requests': String(opts.rpmLimit),
            'x-ratelimit-remaining-requests': String(Math.max(0, opts.rpmLimit - usedRequests)),
            'x-ratelimit-reset-requests': reset,
          }),
      ...(opts.tpmLimit === undefined
        ? {}
        : {
            'x-ratelimit-limit-tokens': String(opts.tpmLimit),
            'x-ratelimit-remaining-tokens': String(Math.max(0, opts.tpmLimit - usedTokens)),
            'x-ratelimit-reset-tokens': reset,
          }),
    };
  }

  function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const record: StandInRequest = { method: req.method ?? 'GET', path, headers: flatten(req), at: Date.now() };
    requests.push(record);
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', EXPOSED);
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
    const raw = await body(req);
    const bearer =
      /^Bearer\s+(.+)$/i.exec(record.headers.authorization ?? '')?.[1]?.trim() ?? record.headers['x-api-key'];
    if (bearer !== VIRTUAL_KEY) {
      json(res, 401, {
        error: {
          message: 'Authentication Error, Invalid proxy server token passed.',
          type: 'auth_error',
          param: 'None',
          code: '401',
        },
      });
      return;
    }
    if (req.method === 'GET' && path === '/key/info') {
      if (keyInfo === 'absent') return json(res, 404, { detail: 'Not Found' });
      if (keyInfo === 'junk') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>LiteLLM Admin UI</body></html>');
        return;
      }
      json(res, 200, {
        key: 'b7c1e0a9d5f2c3e4a6b8d0f1e2c3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1',
        info: {
          key_name: `sk-...${VIRTUAL_KEY.slice(-4)}`,
          key_alias: 'team',
          spend,
          max_budget: opts.maxBudget === undefined ? 50 : opts.maxBudget,
          budget_duration: '30d',
          budget_reset_at: opts.budgetResetAt === undefined ? '2026-12-01T00:00:00Z' : opts.budgetResetAt,
          rpm_limit: opts.rpmLimit ?? null,
          tpm_limit: opts.tpmLimit ?? null,
          models: [],
          metadata: {},
        },
      });
      return;
    }
    if (req.method !== 'POST' || !(path === '/v1/messages' || path === '/anthropic/v1/messages')) {
      json(res, 404, { detail: 'Not Found' });
      return;
    }
    const max = opts.maxBudget === undefined ? 50 : opts.maxBudget;
    if (max !== null && spend >= max) {
      json(res, 429, {
        error: {
          message: `Budget has been exceeded! Current cost: ${spend}, Max budget: ${max}`,
          type: 'budget_exceeded',
          param: null,
          code: '429',
        },
      });
      return;
    }
    const limits = limitHeaders();
    if (opts.rpmLimit !== undefined && usedRequests >= opts.rpmLimit) {
      json(
        res,
        429,
        { error: { message: 'Max parallel request limit reached.', type: 'rate_limit_error', code: '429' } },
        { ...limits, 'retry-after': limits['x-ratelimit-reset-requests']!.replace('s', '') },
      );
      return;
    }
    const spendBefore = spend;
    usedRequests++;
    const answer = await fetch(`${upstream.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': TEST_KEY,
        'anthropic-version': record.headers['anthropic-version'] ?? '2023-06-01',
      },
      body: raw,
    });
    const text = await answer.text();
    const headers: Record<string, string> = {
      'content-type': answer.headers.get('content-type') ?? 'application/json',
      ...limitHeaders(),
      'x-litellm-key-spend': String(spendBefore),
    };
    if (answer.ok) {
      const used = usageOf(text);
      usedTokens += used.input + used.output;
      const cost = (used.input * price.input + used.output * price.output) / 1_000_000;
      spend += cost;
      record.cost = cost;
      headers['x-litellm-response-cost'] = String(cost);
    }
    res.writeHead(answer.status, headers);
    res.end(text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        json(res, 500, {
          error: {
            message: `stand-in failure: ${err instanceof Error ? err.message : String(err)}`,
            type: 'api_error',
          },
        });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    upstream,
    requests,
    spend: () => spend,
    setKeyInfo: (mode) => {
      keyInfo = mode;
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await upstream.close();
    },
  };
}
