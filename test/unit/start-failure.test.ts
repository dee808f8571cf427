import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { startFailureCode } from '../../src/errors/start-failure.js';
import { SwitchyardError } from '../../src/errors/switchyard-error.js';
import { DataDirLockedError } from '../../src/store/data-dir-lock.js';
import { RedisNotInstalledError, RedisStartError } from '../../src/store/redis-server.js';

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
}

describe('startFailureCode', () => {
  it.each([
    [new ConfigError(['x: is required']), 'SWITCHYARD_CONFIG_INVALID'],
    [new DataDirLockedError('locked'), 'SWITCHYARD_DATA_DIR_LOCKED'],
    [new RedisNotInstalledError(), 'SWITCHYARD_REDIS_NOT_INSTALLED'],
    [new RedisStartError('no'), 'SWITCHYARD_REDIS_START_FAILED'],
    [new SwitchyardError('SWITCHYARD_REDIS_UNREACHABLE', 'down'), 'SWITCHYARD_REDIS_UNREACHABLE'],
    [errno('EADDRINUSE', 'listen'), 'SWITCHYARD_PORT_IN_USE'],
    [errno('EACCES', 'listen'), 'SWITCHYARD_LISTEN_FAILED'],
    [errno('EADDRNOTAVAIL', 'listen'), 'SWITCHYARD_LISTEN_FAILED'],
    [errno('ENOTFOUND', 'getaddrinfo'), 'SWITCHYARD_LISTEN_FAILED'],
    [errno('ERR_OSSL_PEM_NO_START_LINE', 'x'), 'SWITCHYARD_TLS_INVALID'],
    [errno('EACCES', 'open'), 'SWITCHYARD_START_FAILED'],
    [new Error('something else'), 'SWITCHYARD_START_FAILED'],
    ['a string', 'SWITCHYARD_START_FAILED'],
    [null, 'SWITCHYARD_START_FAILED'],
  ])('classifies %s as %s', (error, code) => {
    expect(startFailureCode(error)).toBe(code);
  });
});
