/**
 * Reads a team gateway's budget for the key from its `GET /key/info` (LiteLLM) and keeps it in
 * IndexedDB (lib/usage/gateway-budget.ts) for the popup. Background only: the request carries the
 * key and the gateway headers, under the same rules as messages: only to the saved base URL's
 * origin once the user confirmed it (`credentials` gives none otherwise), never to Anthropic's API
 * (it has no such endpoint), never following a redirect. It asks at most once a minute, and again
 * after an answer that moved the key's spend. A gateway without the endpoint (404), or that answers
 * junk, shows nothing and makes no noise.
 */
import { refuseRedirects, type Credentials } from '../claude/client';
import { MAX_KEY_INFO_BYTES, readCapped } from '../claude/read-capped';
import { ANTHROPIC_ORIGIN } from '../settings/key-origins';
import { parseHeaderLines, type Settings } from '../settings/validate';
import type { PaceDB } from '../storage/db';
import { parseKeyInfo, readGatewayBudget, saveGatewayBudget } from './gateway-budget';
import type { GatewayBudgetRow } from '../storage/rows';

const KEY_INFO_EVERY_MS = 60_000;
const KEY_INFO_TIMEOUT_MS = 5000;

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface GatewayBudgetDeps {
  db: PaceDB;
  credentials: () => Promise<(Credentials & { demo: boolean }) | null>;
  settings: () => Promise<Pick<Settings, 'extraHeaders'>>;
  now: () => number;
  fetch?: Fetch;
  log?: (message: string, detail?: unknown) => void;
}

/**
 * `{gateway}/key/info`, on the base URL's own origin: LiteLLM serves it beside `/v1/messages`, and
 * beside the pass-through's `/anthropic` prefix, which is left out.
 */
export function keyInfoURL(baseURL: string): string {
  const url = new URL(baseURL);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/anthropic$/, '');
  return `${url.origin}${path}/key/info`;
}

export function createGatewayBudget(deps: GatewayBudgetDeps) {
  const log = deps.log ?? ((m: string, d?: unknown) => console.info(`[pace] ${m}`, d ?? ''));
  const send = refuseRedirects(deps.fetch ?? ((input, init) => fetch(input, init)));
  /** Refreshes run one after another, each deciding on what the one before saved. */
  let queue: Promise<unknown> = Promise.resolve();

  async function ask(creds: Credentials, extraHeaders: string): Promise<GatewayBudgetRow['budget'] | undefined> {
    try {
      const response = await send(keyInfoURL(creds.baseURL), {
        method: 'GET',
        headers: {
          ...parseHeaderLines(extraHeaders).headers,
          authorization: `Bearer ${creds.apiKey}`,
          accept: 'application/json',
        },
        credentials: 'omit',
        cache: 'no-store',
        signal: AbortSignal.timeout(KEY_INFO_TIMEOUT_MS),
      });
      if (!response.ok) {
        await response.body?.cancel();
        return null;
      }
      // A `/key/info` answer is a few hundred bytes: past the cap the rest is not downloaded, and there is no budget to show.
      const { text, cut } = await readCapped(response, MAX_KEY_INFO_BYTES);
      return cut ? null : parseKeyInfo(JSON.parse(text));
    } catch (err) {
      // Junk (no budget), or a redirect, a timeout, a refused connection (undefined: nothing new learned).
      log('no team budget from the gateway', err instanceof Error ? err.name : typeof err);
      return err instanceof SyntaxError ? null : undefined;
    }
  }

  async function refresh(reason: 'asked' | 'answered'): Promise<GatewayBudgetRow | null> {
    const creds = await deps.credentials();
    if (!creds || creds.demo || new URL(creds.baseURL).origin === ANTHROPIC_ORIGIN) return null;
    const row = await readGatewayBudget(deps.db);
    const same = row?.baseURL === creds.baseURL ? row : null;
    const fresh = same !== null && deps.now() - same.checkedAt < KEY_INFO_EVERY_MS;
    // After an answer the spend has moved: a gateway known to have a budget is asked again at once.
    if (fresh && !(reason === 'answered' && same.budget !== null)) return same;
    const budget = await ask(creds, (await deps.settings()).extraHeaders);
    // Unreachable this time: what was known stays, and the gateway is not asked again for a minute either.
    const next = {
      baseURL: creds.baseURL,
      checkedAt: deps.now(),
      budget: budget === undefined ? (same?.budget ?? null) : budget,
    };
    await saveGatewayBudget(deps.db, next);
    return next;
  }

  return {
    /** The budget of the saved gateway for the saved key, asked again if it is older than a minute ('asked') or an answer moved it ('answered'); null for none. */
    refresh(reason: 'asked' | 'answered'): Promise<GatewayBudgetRow | null> {
      // One at a time: a popup opening while an answer ends asks the gateway once, not twice.
      const next = queue.then(() => refresh(reason));
      queue = next.catch(() => undefined);
      return next;
    },
  };
}
