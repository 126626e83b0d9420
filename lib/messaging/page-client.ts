/**
 * The pages' end of the protocol (lib/protocol.ts): one port to the background, opened lazily and
 * reopened when the background restarts. `request` always resolves to a Result; it never throws.
 */
import { browser, type Browser } from 'wxt/browser';
import {
  PORT_NAME,
  type BackgroundToPage,
  type PaceEvent,
  type PageToBackground,
  type ReplyOf,
  type RequestOf,
  type RequestType,
  type Result,
} from '../protocol';

type Port = Browser.runtime.Port;

export interface BackgroundClient {
  request<K extends RequestType>(type: K, payload: RequestOf<K>): Promise<Result<ReplyOf<K>>>;
  /** Listens to pushed events; keeps a port open (and reopens it) while anyone listens. */
  subscribe(listener: (event: PaceEvent) => void): () => void;
}

export function createBackgroundClient(
  connect: () => Port = () => browser.runtime.connect({ name: PORT_NAME }),
  reconnectDelayMs = 500,
): BackgroundClient {
  let port: Port | null = null;
  let nextId = 1;
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const listeners = new Set<(event: PaceEvent) => void>();

  function onMessage(message: BackgroundToPage): void {
    if (message.kind === 'reply') {
      pending.get(message.id)?.(message.result);
      pending.delete(message.id);
    } else if (message.kind === 'event') {
      for (const listener of listeners) listener(message.event);
    }
  }

  function open(): Port {
    if (port) return port;
    const opened = connect();
    port = opened;
    opened.onMessage.addListener(onMessage);
    opened.onDisconnect.addListener(() => {
      if (port === opened) port = null;
      for (const resolve of pending.values()) {
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
        pending.set(id, resolve as (r: Result<unknown>) => void);
        try {
          open().postMessage(message);
        } catch (err) {
          pending.delete(id);
          port = null;
          resolve({
            ok: false,
            error: { code: 'internal', message: `Could not reach Pace's background: ${err instanceof Error ? err.message : String(err)}` },
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
