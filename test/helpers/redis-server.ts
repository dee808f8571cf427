import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, terminate, trackChild, trackDir, waitFor } from './processes.js';

export interface RedisHandle {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Kills the server by PID (SIGTERM, then SIGKILL) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One inline-protocol PING; true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

async function startOnce(): Promise<RedisHandle | undefined> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-redis-'));
  trackDir(dir);
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  trackChild(child);
  const output: string[] = [];
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await terminate(child, 'SIGTERM', 5000);
    removeDir(dir);
  };
  const up = await waitFor(
    async () => spawnError !== undefined || child.exitCode !== null || (await ping(port)),
    10_000,
  );
  if (spawnError) {
    await stop();
    throw new Error(`cannot start redis-server (is it installed?): ${spawnError.message}`);
  }
  if (!up || child.exitCode !== null) {
    await stop();
    // Most likely the port was taken between freePort() and bind: the caller retries.
    if (output.join('').includes('Address already in use')) return undefined;
    throw new Error(`redis-server did not answer PING on port ${port}:\n${output.join('')}`);
  }
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid ?? -1, stop };
}

/** Starts a private redis-server (AOF, fsync always) on a free port in a temp dir. */
export async function startRedis(): Promise<RedisHandle> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const handle = await startOnce();
    if (handle) return handle;
  }
  throw new Error('redis-server: no free port after 5 attempts');
}
