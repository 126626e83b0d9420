/** A pair of connected runtime.Port look-alikes (WXT's fake browser has no ports). */
import type { Browser } from 'wxt/browser';

type Port = Browser.runtime.Port;

class FakeEvent<F extends (...args: never[]) => void> {
  listeners = new Set<F>();
  addListener(f: F) {
    this.listeners.add(f);
  }
  removeListener(f: F) {
    this.listeners.delete(f);
  }
  hasListener(f: F) {
    return this.listeners.has(f);
  }
}

export interface PortEnd {
  port: Port;
  /** Everything this end posted, in order. */
  posted: unknown[];
  disconnected: boolean;
  /** Delivers a message to this end's listeners, as if the peer had posted it. */
  receive(message: unknown): void;
  /** Fires this end's onDisconnect, as when the peer goes away. */
  lose(): void;
}

function makeEnd(name: string, sender: Browser.runtime.MessageSender | undefined, peer: () => PortEnd): PortEnd {
  const onMessage = new FakeEvent<(m: unknown, p: Port) => void>();
  const onDisconnect = new FakeEvent<(p: Port) => void>();
  const end: PortEnd = {
    posted: [],
    disconnected: false,
    port: {
      name,
      sender,
      onMessage,
      onDisconnect,
      postMessage(message: unknown) {
        if (end.disconnected) throw new Error('Attempting to use a disconnected port object');
        end.posted.push(message);
        // Structured clone and asynchronous delivery, as between real extension contexts.
        const copy = structuredClone(message);
        queueMicrotask(() => peer().receive(copy));
      },
      disconnect() {
        if (end.disconnected) return;
        end.disconnected = true;
        peer().lose();
      },
    } as unknown as Port,
    receive(message) {
      if (end.disconnected) return;
      for (const l of onMessage.listeners) l(message, end.port);
    },
    lose() {
      if (end.disconnected) return;
      end.disconnected = true;
      for (const l of onDisconnect.listeners) l(end.port);
    },
  };
  return end;
}

/** The page's end (no sender) and the background's end (carrying `sender`). */
export function portPair(
  name: string,
  sender: Browser.runtime.MessageSender | undefined,
): { page: PortEnd; background: PortEnd } {
  const pair: { page?: PortEnd; background?: PortEnd } = {};
  pair.page = makeEnd(name, undefined, () => pair.background!);
  pair.background = makeEnd(name, sender, () => pair.page!);
  return { page: pair.page, background: pair.background };
}
