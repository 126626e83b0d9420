/**
 * The background's end of the page protocol (lib/protocol.ts): accepts ports only from this
 * extension's own pages, routes each parsed request to its handler and replies once, and pushes
 * events to every open page.
 */
import type { Browser } from 'wxt/browser';
import {
  PORT_NAME,
  PaceFailure,
  parseRequest,
  type BackgroundToPage,
  type Handlers,
  type PaceEvent,
  type Result,
} from '../protocol';
import { errorText } from '../error-text';
import { warn } from '../warn';

type Port = Browser.runtime.Port;
type Sender = Browser.runtime.MessageSender;

export interface PortServer {
  onConnect(port: Port): void;
  publish(event: PaceEvent): void;
  readonly connections: number;
}

export function isOwnPage(sender: Sender | undefined, extensionId: string, extensionOrigin: string): boolean {
  return (
    !!sender && sender.id === extensionId && typeof sender.url === 'string' && sender.url.startsWith(extensionOrigin)
  );
}

export function createPortServer(
  handlers: Handlers,
  isTrusted: (sender: Sender | undefined) => boolean,
  log: (message: string, detail?: unknown) => void = warn,
): PortServer {
  const ports = new Set<Port>();

  function post(port: Port, message: BackgroundToPage): void {
    try {
      port.postMessage(message);
    } catch (err) {
      // The page closed between the request and the reply: nothing is waiting for it.
      ports.delete(port);
      log('a page went away before its reply', err instanceof Error ? err.message : err);
    }
  }

  async function handle(port: Port, raw: unknown): Promise<void> {
    const parsed = parseRequest(raw);
    if (!parsed.ok) {
      log('refused a malformed request', parsed.error.message);
      if (parsed.id !== null) post(port, { kind: 'reply', id: parsed.id, result: { ok: false, error: parsed.error } });
      return;
    }
    const { id, request } = parsed;
    let result: Result<unknown>;
    try {
      const handler = handlers[request.type] as (p: unknown) => Promise<unknown>;
      result = { ok: true, data: await handler(request.payload) };
    } catch (err) {
      if (err instanceof PaceFailure) {
        result = { ok: false, error: err.error };
      } else {
        log(`${request.type} failed`, err);
        result = {
          ok: false,
          error: { code: 'internal', message: `Pace could not do that: ${errorText(err)}`.slice(0, 300) },
        };
      }
    }
    post(port, { kind: 'reply', id, result });
  }

  return {
    onConnect(port) {
      if (port.name !== PORT_NAME || !isTrusted(port.sender)) {
        log('refused a connection from outside Pace', port.sender?.url ?? port.sender?.id);
        port.disconnect();
        return;
      }
      ports.add(port);
      port.onDisconnect.addListener(() => ports.delete(port));
      port.onMessage.addListener((raw: unknown) => {
        void handle(port, raw);
      });
    },
    publish(event) {
      for (const port of ports) post(port, { kind: 'event', event });
    },
    get connections() {
      return ports.size;
    },
  };
}
