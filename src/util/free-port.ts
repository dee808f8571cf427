import { createServer } from 'node:net';

/**
 * A TCP port on `host` that was free a moment ago (the OS picks it with
 * listen(0)). Another process may take it before the caller binds it: use
 * it for servers that can retry, and for tests that need a closed port.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}
