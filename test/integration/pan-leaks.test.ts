/**
 * The PAN-leak scanner (test/helpers/pan-leaks.ts) that issue 16's leak test
 * runs over the switch's Redis, files and logs: it must find a PAN planted in
 * each place and form it looks in, and nothing in a store without one.
 */
import { describe, expect, it } from 'vitest';
import { leaksIn, panForms, rewriteUncompressed, scanFiles, scanRedis } from '../helpers/pan-leaks.js';
import { useRedisServer } from '../helpers/redis-fixture.js';

const PAN = '4111111111111111';
const OTHER = '5500000000000004';

describe('the PAN-leak scanner', () => {
  const redis = useRedisServer();

  it('knows a PAN as its digits and as a 64-bit integer both ways', () => {
    const forms = panForms(PAN);
    expect(forms.map((f) => f.form)).toEqual(['ascii', 'int64-be', 'int64-le']);
    const be = Buffer.concat([Buffer.from([0xcf]), forms[1]!.bytes]); // MessagePack uint64
    expect(leaksIn(be, [PAN, OTHER], 'x')).toEqual([{ where: 'x', pan: PAN, form: 'int64-be' }]);
    expect(leaksIn(Buffer.from(`a${PAN}b`), [PAN], 'y')).toEqual([{ where: 'y', pan: PAN, form: 'ascii' }]);
    expect(leaksIn(Buffer.from('411111******1111'), [PAN], 'z')).toEqual([]);
  });

  it('finds nothing in a store without card numbers, and a PAN planted in each kind of key and value', async () => {
    const { client } = redis;
    await client.set('clean:string', 'masked 411111******1111');
    expect(await scanRedis(client, [PAN, OTHER])).toEqual([]);

    const pan64 = panForms(PAN)[2]!.bytes;
    await client.set(`acct:${PAN}`, 'x');
    await client.hset('h', 'field', `pan=${PAN}`);
    await client.rpush('l', Buffer.concat([Buffer.from('#'), pan64]));
    await client.sadd('s', PAN);
    await client.zadd('z', 1, `m${PAN}`);
    await client.xadd('journal', '*', 'pan', PAN);
    // Stored by Redis as an integer (a listpack int64), read back through Redis as its digits.
    await client.hset('ints', 'pan', PAN);
    const found = await scanRedis(client, [PAN, OTHER]);
    const where = new Set(found.map((l) => l.where));
    for (const place of [
      `key acct:${PAN}`,
      'value of h',
      'value of l',
      'value of s',
      'value of z',
      'value of journal',
      'value of ints',
    ])
      expect(where, place).toContain(place);
    expect(found.every((l) => l.pan === PAN)).toBe(true);
  });

  it('finds a PAN in the AOF on disk once it is rewritten without compression', async () => {
    const { client, server } = redis;
    await client.set('long', `${'x'.repeat(200)}${OTHER}${'y'.repeat(200)}`);
    await rewriteUncompressed(client, 30_000);
    const files = scanFiles(server.dir, [OTHER]).filter((l) => l.where.includes('appendonly'));
    expect(files.length).toBeGreaterThan(0);
    expect(files[0]).toMatchObject({ pan: OTHER, form: 'ascii' });
  });
});
