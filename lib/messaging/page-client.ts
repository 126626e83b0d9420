/**
 * The pages' end of the protocol (lib/protocol.ts): one port to the background, opened lazily and
 * reopened when the background restarts. `request` always resolves to a Result; it never throws.
 * Each reply is parsed with its request's schema (./replies.ts): a malformed one resolves as an
 * `internal` error; a malformed event is dropped with a warning.
 */
import { browser, type Browser } from 'wxt/browser';
import { isObject } from '../is-object';
import { warn } from '../warn';
import type { PaceEvent, PageToBackground, ReplyOf, RequestOf, RequestType, Result } from '../protocol';
import { PORT_NAME } from './port-name';
import * as z from '../schema';
import { paceError, paceEvent, replies } from './replies';

type Port = Browser.runtime.Port;

const refusal = z.object({ ok: z.literal(false), error: paceError });

/**
 * A reply's `result` as the page may use it: the request's reply data or the error it was refused
 * with; anything else becomes an `internal` error that names the reply and the field that is wrong.
 */
export function parseReply<K extends RequestType>(type: K, result: unknown): Result<ReplyOf<K>> {
  const schema =
    isObject(result) && result.ok === false ? refusal : z.object({ ok: z.literal(true), data: replies[type] });
  const parsed = schema.safeParse(result);
  if (parsed.success) return parsed.data as Result<ReplyOf<K>>;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return {
    ok: false,
    error: {
      code: 'internal',
      message: `Pace's background sent a reply to ${type} that this page cannot read (${where}${issue?.message ?? 'not valid'}). Reload the page and try again.`,
    },
  };
}

export interface BackgroundClient {
  request<K extends RequestType>(type: K, payload: RequestOf<K>): Promise<Result<ReplyOf<K>>>;
  /** Listens to pushed events; keeps a port open (and reopens it) while anyone listens. */
  subscribe(listener: (event: PaceEvent) => void): () => void;
}

export function createBackgroundClient(
  connect: () => Port = () => browser.runtime.connect({ name: PORT_NAME }),
  reconnectDelayMs = 500,
  log: (message: string, detail?: unknown) => void = warn,
): BackgroundClient {
  let port: Port | null = null;
  let nextId = 1;
  const pending = new Map<number, { type: RequestType; resolve: (result: Result<unknown>) => void }>();
  const listeners = new Set<(event: PaceEvent) => void>();

  function onMessage(message: unknown): void {
    if (isObject(message) && message.kind === 'reply' && typeof message.id === 'number') {
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      waiting?.resolve(parseReply(waiting.type, message.result));
    } else if (isObject(message) && message.kind === 'event') {
      const parsed = paceEvent.safeParse(message.event);
      if (parsed.success) for (const listener of listeners) listener(parsed.data);
      else log('dropped an event this page cannot read', parsed.error.issues[0]);
    } else {
      log('dropped a message this page cannot read', message);
    }
  }

  function open(): Port {
    if (port) return port;
    const opened = connect();
    port = opened;
    opened.onMessage.addListener(onMessage);
    opened.onDisconnect.addListener(() => {
      if (port === opened) port = null;
      for (const { resolve } of pending.values()) {
        resolve({
          ok: false,
          error: { code: 'internal', message: 'Pace restarted in the background before it could answer. Try again.' },
        });
      }
      pending.clear();
      if (listeners.size > 0) setTimeout(() => listeners.size > 0 && open(), reconnectDelayMs);
    });
    return opened;
  }

  return {
    request(type, payload) {
      const id = nextId++;
      const message: PageToBackground = { kind: 'request', id, type, payload };
      return new Promise((resolve) => {
        pending.set(id, { type, resolve: resolve as (r: Result<unknown>) => void });
        try {
          open().postMessage(message);
        } catch (err) {
          pending.delete(id);
          port = null;
          resolve({
            ok: false,
            error: {
              code: 'internal',
              message: `Could not reach Pace's background: ${err instanceof Error ? err.message : String(err)}`,
            },
          });
        }
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      open();
      return () => listeners.delete(listener);
    },
  };
}
