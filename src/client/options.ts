import type { Role } from '../protocol/mti.js';
import { ROLES } from '../protocol/mti.js';
import { ClientError } from './errors.js';

export type TransportKind = 'tcp' | 'ws';

/** PEM material; the presence of a `tls` block means TLS (TCP) or WSS (WebSocket). */
export interface ClientTlsOptions {
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Default true: verify the switch's certificate. */
  readonly rejectUnauthorized?: boolean;
  /** SNI name and the name the certificate is checked against; defaults to `host` when it is a DNS name. */
  readonly servername?: string;
}

export interface ReconnectPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export interface SwitchClientOptions {
  readonly transport: TransportKind;
  readonly host: string;
  readonly port: number;
  /** WebSocket path (the switch accepts any); default "/". */
  readonly path?: string;
  readonly tls?: ClientTlsOptions;
  readonly institution: string;
  readonly role: Role;
  /** tweetnacl Ed25519 secret key, 64 bytes (seed || public key). Used once per connection, at sign-on. */
  readonly secretKey: Uint8Array;
  /** Per request, and for each step of connect(). Default 30000. */
  readonly requestTimeoutMs?: number;
  /** Re-connect and sign on again after a drop. Default { initialDelayMs: 100, maxDelayMs: 5000 }. */
  readonly reconnect?: false | ReconnectPolicy;
  /** Largest frame sent or accepted. Default 1 MiB (the switch's default). */
  readonly frameBytesMax?: number;
  /** Largest number of messages in one frame. Default 4096 (the switch's default). */
  readonly batchMax?: number;
  /** Send the requests of one event-loop turn together. Default true. */
  readonly coalesce?: boolean;
  /** Jitter source for the back-off, in [0, 1). Default Math.random; tests pass a seeded one. */
  readonly random?: () => number;
  /**
   * Issuer hosts: acknowledge each advice when the onAdvice handler has
   * taken it (or at once, without a handler). Default true; false leaves it
   * to `context.acknowledge()`.
   */
  readonly autoAcknowledgeAdvices?: boolean;
}

export interface ResolvedClientOptions {
  readonly transport: TransportKind;
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly tls: ClientTlsOptions | undefined;
  readonly institution: string;
  readonly role: Role;
  readonly secretKey: Uint8Array;
  readonly requestTimeoutMs: number;
  readonly reconnect: ReconnectPolicy | false;
  readonly frameBytesMax: number;
  readonly batchMax: number;
  readonly coalesce: boolean;
  readonly random: () => number;
  readonly autoAcknowledgeAdvices: boolean;
}

export const CLIENT_DEFAULTS = {
  requestTimeoutMs: 30_000,
  reconnect: { initialDelayMs: 100, maxDelayMs: 5_000 },
  frameBytesMax: 1024 * 1024,
  batchMax: 4_096,
  coalesce: true,
  autoAcknowledgeAdvices: true,
} as const;

const SECRET_KEY_BYTES = 64;
// A frame must at least hold a small message; a frame length is a uint32.
const FRAME_BYTES_MIN = 64;
const FRAME_BYTES_LIMIT = 0xffff_ffff;
const TIMER_MS_MAX = 2_147_483_647;

/** Validates once and freezes; every problem is listed in one INVALID_OPTIONS error. */
export function resolveClientOptions(options: SwitchClientOptions): ResolvedClientOptions {
  const problems: string[] = [];
  const positiveInt = (name: string, value: number, min: number, max: number): void => {
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(`${name} must be an integer in ${min}..${max}`);
  };

  if (options.transport !== 'tcp' && options.transport !== 'ws')
    problems.push("transport must be 'tcp' or 'ws'");
  if (typeof options.host !== 'string' || options.host.length === 0)
    problems.push('host must be a non-empty string');
  positiveInt('port', options.port, 1, 65_535);
  const path = options.path ?? '/';
  if (typeof path !== 'string' || !path.startsWith('/')) problems.push("path must start with '/'");
  if (typeof options.institution !== 'string' || options.institution.length === 0) {
    problems.push('institution must be a non-empty string');
  }
  if (!ROLES.includes(options.role)) problems.push("role must be 'acquirer' or 'issuer'");
  if (!(options.secretKey instanceof Uint8Array) || options.secretKey.length !== SECRET_KEY_BYTES) {
    problems.push(`secretKey must be a ${SECRET_KEY_BYTES}-byte Uint8Array (tweetnacl sign secret key)`);
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs;
  positiveInt('requestTimeoutMs', requestTimeoutMs, 1, TIMER_MS_MAX);
  const frameBytesMax = options.frameBytesMax ?? CLIENT_DEFAULTS.frameBytesMax;
  positiveInt('frameBytesMax', frameBytesMax, FRAME_BYTES_MIN, FRAME_BYTES_LIMIT);
  const batchMax = options.batchMax ?? CLIENT_DEFAULTS.batchMax;
  positiveInt('batchMax', batchMax, 1, 0xffff_ffff);
  const reconnect = options.reconnect ?? CLIENT_DEFAULTS.reconnect;
  if (reconnect !== false) {
    positiveInt('reconnect.initialDelayMs', reconnect.initialDelayMs, 1, TIMER_MS_MAX);
    positiveInt('reconnect.maxDelayMs', reconnect.maxDelayMs, 1, TIMER_MS_MAX);
    if (reconnect.maxDelayMs < reconnect.initialDelayMs)
      problems.push('reconnect.maxDelayMs must be >= initialDelayMs');
  }
  const coalesce = options.coalesce ?? CLIENT_DEFAULTS.coalesce;
  if (typeof coalesce !== 'boolean') problems.push('coalesce must be a boolean');
  const autoAcknowledgeAdvices = options.autoAcknowledgeAdvices ?? CLIENT_DEFAULTS.autoAcknowledgeAdvices;
  if (typeof autoAcknowledgeAdvices !== 'boolean') problems.push('autoAcknowledgeAdvices must be a boolean');

  if (problems.length > 0) {
    throw new ClientError('INVALID_OPTIONS', `invalid SwitchClient options: ${problems.join('; ')}`);
  }
  return Object.freeze({
    transport: options.transport,
    host: options.host,
    port: options.port,
    path,
    tls: options.tls,
    institution: options.institution,
    role: options.role,
    secretKey: options.secretKey,
    requestTimeoutMs,
    reconnect: reconnect === false ? false : Object.freeze({ ...reconnect }),
    frameBytesMax,
    batchMax,
    coalesce,
    random: options.random ?? Math.random,
    autoAcknowledgeAdvices,
  });
}
