import type { StartErrorCode } from './codes.js';

/**
 * Which start-up refusal an error from Switch.start is. Typed errors carry
 * their code; the rest are recognised by Node's errno codes, which are stable
 * (a listen error only comes from binding a listener, an OpenSSL one only
 * from loading a listener's certificate or key). Anything else is
 * SWITCHYARD_START_FAILED, with the error in the log.
 */
export function startFailureCode(error: unknown): StartErrorCode {
  const code = (error as { code?: unknown } | null)?.code;
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  switch (code) {
    case 'SWITCHYARD_CONFIG_INVALID':
    case 'SWITCHYARD_DATA_DIR_LOCKED':
    case 'SWITCHYARD_REDIS_NOT_INSTALLED':
    case 'SWITCHYARD_REDIS_START_FAILED':
    case 'SWITCHYARD_REDIS_UNREACHABLE':
    case 'SWITCHYARD_REDIS_UNSUITABLE':
    case 'SWITCHYARD_PORT_IN_USE':
    case 'SWITCHYARD_LISTEN_FAILED':
    case 'SWITCHYARD_TLS_INVALID':
    case 'SWITCHYARD_KEY_FILE_INVALID':
    case 'SWITCHYARD_KEY_FILE_EXPOSED':
      return code;
    case 'EADDRINUSE':
      return 'SWITCHYARD_PORT_IN_USE';
    case 'EACCES':
    case 'EADDRNOTAVAIL':
      return syscall === 'listen' || syscall === 'bind'
        ? 'SWITCHYARD_LISTEN_FAILED'
        : 'SWITCHYARD_START_FAILED';
    // A listener's host that does not resolve (Redis errors arrive typed, never as a bare errno).
    case 'ENOTFOUND':
      return syscall === 'getaddrinfo' ? 'SWITCHYARD_LISTEN_FAILED' : 'SWITCHYARD_START_FAILED';
  }
  if (typeof code === 'string' && code.startsWith('ERR_OSSL')) return 'SWITCHYARD_TLS_INVALID';
  return 'SWITCHYARD_START_FAILED';
}
