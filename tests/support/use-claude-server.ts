/** One local Claude server for a test file: started before its tests, reset before each, closed after. */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startClaudeServer, type ClaudeServer, type ClaudeServerOptions } from './claude-server';

export function useClaudeServer(receive: (server: ClaudeServer) => void, opts?: ClaudeServerOptions): void {
  let server: ClaudeServer | undefined;
  beforeAll(async () => {
    server = await startClaudeServer(opts);
    receive(server);
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    server?.reset();
  });
}
