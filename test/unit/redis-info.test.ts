import { describe, expect, it } from 'vitest';
import { parseRedisInfo } from '../../src/store/redis-info.js';

// Excerpts of Redis 7.0's INFO memory and INFO persistence, as it answers them (CRLF lines).
const MEMORY = [
  '# Memory',
  'used_memory:1188616',
  'used_memory_human:1.13M',
  'maxmemory:104857600',
  'maxmemory_policy:noeviction',
  '',
].join('\r\n');
const PERSISTENCE = [
  '# Persistence',
  'aof_enabled:1',
  'aof_rewrite_in_progress:0',
  'aof_last_write_status:ok',
  '',
].join('\r\n');

describe('parseRedisInfo', () => {
  it('reads used_memory, maxmemory and the AOF’s last write status', () => {
    expect(parseRedisInfo(MEMORY, PERSISTENCE)).toEqual({
      usedMemoryBytes: 1_188_616,
      maxMemoryBytes: 104_857_600,
      aofLastWriteOk: true,
    });
  });

  it('says the AOF write failed when Redis says err', () => {
    const failing = PERSISTENCE.replace('aof_last_write_status:ok', 'aof_last_write_status:err');
    expect(parseRedisInfo(MEMORY, failing).aofLastWriteOk).toBe(false);
  });

  it('refuses an answer without the memory figures rather than report 0', () => {
    expect(() => parseRedisInfo('# Memory\r\n', PERSISTENCE)).toThrow(/used_memory/);
  });
});
