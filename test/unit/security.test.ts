import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type DataKey, open, SealError, seal, sealedKeyId } from '../../src/security/aead.js';
import {
  KeyFileError,
  KeyFileExposedError,
  keyFileText,
  newKeyFileText,
  parseKeyFile,
  readKeyFile,
} from '../../src/security/key-file.js';
import { panToken, TOKEN_BYTES } from '../../src/security/pan-token.js';
import { ShardHash, sipHashAscii32 } from '../../src/security/shard-hash.js';
import { SHARD_COUNT } from '../../src/store/keys.js';

const PAN = '4111111111111111';
const key = (id: string, fill: number): DataKey => ({ id, key: Buffer.alloc(32, fill) });

describe('seal and open (AES-256-GCM, key id and record id bound)', () => {
  const d1 = key('d1', 1);
  const keyOf = (id: string): Buffer | undefined => ({ d1: d1.key, d2: Buffer.alloc(32, 2) })[id];

  it('opens what it sealed, under the key it names; each seal is fresh', () => {
    const sealed = seal(d1, 'acct:t1.abc', Buffer.from(PAN));
    expect(sealedKeyId(sealed)).toBe('d1');
    expect(open(sealed, 'acct:t1.abc', keyOf).toString()).toBe(PAN);
    expect(seal(d1, 'acct:t1.abc', Buffer.from(PAN)).equals(sealed)).toBe(false);
    expect(sealed.includes(Buffer.from(PAN))).toBe(false);
  });

  it('does not open with a wrong key, a wrong key id, moved to another record, or altered', () => {
    const sealed = seal(d1, 'acct:t1.abc', Buffer.from(PAN));
    expect(() => open(sealed, 'acct:t1.abc', () => Buffer.alloc(32, 9))).toThrow(SealError);
    // The key id rewritten to another key that exists: the id is bound too.
    const renamed = Buffer.from(sealed);
    renamed.write('d2', 2, 'ascii');
    expect(() => open(renamed, 'acct:t1.abc', keyOf)).toThrow(SealError);
    expect(() => open(sealed, 'acct:t1.xyz', keyOf)).toThrow(SealError);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => open(flipped, 'acct:t1.abc', keyOf)).toThrow(SealError);
    expect(() => open(sealed, 'acct:t1.abc', () => undefined)).toThrow(/no data key with id d1/);
    expect(() => open(sealed.subarray(0, 10), 'acct:t1.abc', keyOf)).toThrow(/cut short/);
  });
});

describe('panToken (HMAC-SHA256, 128 bits kept)', () => {
  it('is deterministic per key, differs across keys and PANs, and shows nothing of the PAN', () => {
    const t1 = { id: 't1', key: Buffer.alloc(32, 1) };
    const t2 = { id: 't2', key: Buffer.alloc(32, 2) };
    const token = panToken(t1, PAN);
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(TOKEN_BYTES);
    expect(panToken(t1, PAN)).toBe(token);
    expect(panToken(t2, PAN)).not.toBe(token);
    expect(panToken(t1, '4111111111111129')).not.toBe(token);
    expect(token).not.toContain('1111');
  });
});

describe('ShardHash (SipHash-2-4)', () => {
  it('matches the reference vectors (key 00..0f, messages 00..n-1: the low 32 bits)', () => {
    // From the SipHash paper's vectors.c: 64-bit results, little-endian; low halves here.
    const expected = [
      0xdd0e0e31, 0x93dc67fd, 0xd9a94f5a, 0xd7fb7e2d, 0x277187b7, 0xcd99a68d, 0x58fee3ce, 0x8b01d137,
    ];
    const k = (at: number): number => at | ((at + 1) << 8) | ((at + 2) << 16) | ((at + 3) << 24);
    // Past one 8-byte block too: the whole-block path, and a block plus a partial one.
    const longer: [number, number][] = [
      [8, 0x9a932462],
      [9, 0x0ba9e4b0],
      [10, 0x94ddb9f3],
      [15, 0x49be45e5],
    ];
    for (const [n, value] of longer) {
      const message = String.fromCharCode(...Array.from({ length: n }, (_, i) => i));
      expect(sipHashAscii32(k(4) >>> 0, k(0) >>> 0, k(12) >>> 0, k(8) >>> 0, message), `length ${n}`).toBe(
        value,
      );
    }
    for (let n = 0; n < expected.length; n++) {
      const message = String.fromCharCode(...Array.from({ length: n }, (_, i) => i));
      expect(sipHashAscii32(k(4) >>> 0, k(0) >>> 0, k(12) >>> 0, k(8) >>> 0, message), `length ${n}`).toBe(
        expected[n],
      );
    }
  });

  it('spreads PANs over every shard, and a different key gives different shards', () => {
    const a = new ShardHash(Buffer.alloc(16, 7));
    const b = new ShardHash(Buffer.alloc(16, 8));
    const counts = new Array<number>(SHARD_COUNT).fill(0);
    let same = 0;
    for (let i = 0; i < 102_400; i++) {
      const pan = `4000${String(i).padStart(12, '0')}`;
      const shard = a.shardOf(pan);
      counts[shard]!++;
      if (b.shardOf(pan) === shard) same++;
    }
    // 100 per shard expected; a fair hash keeps every shard within 50..160 here.
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(160);
    expect(same).toBeLessThan(400);
  });
});

describe('the key file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses what newKeyFileText writes, and keyFileText round-trips it', () => {
    const keys = parseKeyFile(newKeyFileText(false), 'test');
    expect(keys).toMatchObject({ development: false, currentTokenKey: 't1', currentDataKey: 'd1' });
    expect(keys.shardKey).toHaveLength(16);
    expect(parseKeyFile(keyFileText(keys), 'again')).toEqual(keys);
  });

  it('lists every problem with its path', () => {
    const text = JSON.stringify({
      development: 'yes',
      shardKey: '!!!',
      tokenKeys: { 'bad id!': 'AAAA', t1: Buffer.alloc(31).toString('base64') },
      currentTokenKey: 't1',
      previousTokenKey: 't1',
      dataKeys: { d1: Buffer.alloc(32).toString('base64') },
      currentDataKey: 'd2',
      extra: 1,
    });
    let error: KeyFileError | undefined;
    try {
      parseKeyFile(text, 'f.json');
    } catch (e) {
      error = e as KeyFileError;
    }
    expect(error).toBeInstanceOf(KeyFileError);
    expect(error!.problems).toEqual([
      'extra: unknown field',
      'development: must be true or false',
      'shardKey: must be base64 of exactly 16 bytes',
      'tokenKeys.bad id!: a key id is 1 to 32 of A-Z a-z 0-9 . _ -',
      'tokenKeys.t1: must be base64 of exactly 32 bytes',
      'currentTokenKey: no key with id "t1"',
      'previousTokenKey: no key with id "t1"',
      'previousTokenKey: must differ from currentTokenKey',
      'currentDataKey: no key with id "d2"',
    ]);
    expect(() => parseKeyFile('{', 'f.json')).toThrow(/not JSON/);
  });

  it('refuses a file others can read unless it is marked for development', () => {
    const secret = join(dir, 'prod.json');
    writeFileSync(secret, newKeyFileText(false));
    chmodSync(secret, 0o640);
    expect(() => readKeyFile(secret)).toThrow(KeyFileExposedError);
    chmodSync(secret, 0o600);
    expect(readKeyFile(secret).development).toBe(false);
    const dev = join(dir, 'dev.json');
    writeFileSync(dev, newKeyFileText(true));
    chmodSync(dev, 0o644);
    expect(readKeyFile(dev).development).toBe(true);
  });
});
