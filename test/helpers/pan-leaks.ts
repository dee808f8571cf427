import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Redis } from 'ioredis';

/**
 * Looks for full PANs where card data must not be readable (issue 16,
 * docs/security.md): Redis key names and values of every type, files on disk
 * (the AOF and RDB, the data directory), and log text. A PAN is looked for as
 * its ASCII digits and as a 64-bit integer (big- and little-endian, which
 * covers MessagePack's uint64/int64 and Redis's listpack and RDB integer
 * encodings). Compressed bytes hide a PAN from any byte search: scanRedis
 * reads values through Redis, and a caller that scans Redis's files first
 * turns off RDB compression and the AOF's RDB preamble (noCompression).
 */

export interface Leak {
  /** Where: `key <name>`, `value of <name>`, `file <path>`, `log`. */
  readonly where: string;
  readonly pan: string;
  readonly form: 'ascii' | 'int64-be' | 'int64-le';
}

/** The byte patterns a PAN can take: its digits, and its value as 8 bytes each way. */
export function panForms(pan: string): { form: Leak['form']; bytes: Buffer }[] {
  const forms: { form: Leak['form']; bytes: Buffer }[] = [
    { form: 'ascii', bytes: Buffer.from(pan, 'ascii') },
  ];
  const value = BigInt(pan);
  const be = Buffer.alloc(8);
  be.writeBigUInt64BE(value);
  const le = Buffer.alloc(8);
  le.writeBigUInt64LE(value);
  forms.push({ form: 'int64-be', bytes: be }, { form: 'int64-le', bytes: le });
  return forms;
}

/** Every PAN of `pans` that `bytes` holds in any of its forms. */
export function leaksIn(bytes: Uint8Array, pans: readonly string[], where: string): Leak[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const leaks: Leak[] = [];
  for (const pan of pans) {
    for (const { form, bytes: pattern } of panForms(pan)) {
      if (buffer.includes(pattern)) leaks.push({ where, pan, form });
    }
  }
  return leaks;
}

/** Key names and values of every key in the Redis, read through Redis (so never compressed). */
export async function scanRedis(redis: Redis, pans: readonly string[]): Promise<Leak[]> {
  const leaks: Leak[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scanBuffer(cursor, 'COUNT', 1000);
    cursor = String(next);
    for (const key of keys) {
      const name = key.toString('latin1');
      leaks.push(...leaksIn(key, pans, `key ${name}`));
      for (const part of await valueParts(redis, key)) leaks.push(...leaksIn(part, pans, `value of ${name}`));
    }
  } while (cursor !== '0');
  return leaks;
}

async function valueParts(redis: Redis, key: Buffer): Promise<Buffer[]> {
  const type = await redis.type(key);
  switch (type) {
    case 'string': {
      const value = await redis.getBuffer(key);
      return value === null ? [] : [value];
    }
    case 'hash':
      return redis
        .hgetallBuffer(key)
        .then((h) => Object.entries(h).flatMap(([f, v]) => [Buffer.from(f, 'latin1'), v]));
    case 'list':
      return redis.lrangeBuffer(key, 0, -1);
    case 'set':
      return redis.smembersBuffer(key);
    case 'zset':
      return redis.zrangeBuffer(key, 0, -1, 'WITHSCORES');
    case 'stream': {
      const entries = (await redis.xrangeBuffer(key, '-', '+')) as [Buffer, Buffer[]][];
      return entries.flatMap(([id, fields]) => [id, ...fields]);
    }
    default:
      return [];
  }
}

/**
 * Makes Redis write its files without compression, then rewrites the AOF and
 * waits for it, so a byte search of the files sees every value as stored.
 */
export async function rewriteUncompressed(redis: Redis, timeoutMs: number): Promise<void> {
  await redis.config('SET', 'rdbcompression', 'no');
  await redis.config('SET', 'aof-use-rdb-preamble', 'no');
  await redis.bgrewriteaof();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await redis.info('persistence');
    if (/aof_rewrite_in_progress:0/.test(info) && !/aof_rewrite_scheduled:1/.test(info)) return;
    if (Date.now() > deadline) throw new Error(`AOF rewrite not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every regular file under `dir`, searched whole. */
export function scanFiles(dir: string, pans: readonly string[]): Leak[] {
  const leaks: Leak[] = [];
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) leaks.push(...leaksIn(readFileSync(path), pans, `file ${relative(dir, path)}`));
    }
  };
  walk(dir);
  return leaks;
}
