import type { Server } from 'node:http';

/** Close a test's HTTP server now: keep-alive connections would otherwise hold `close` open. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
