import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import type { TlsConfig } from '../config/types.js';

/** Reads the PEM files of a listener's `tls` block (paths already absolute after config validation). */
export function loadTlsOptions(tls: TlsConfig): TlsOptions {
  return {
    cert: readFileSync(tls.cert),
    key: readFileSync(tls.key),
    ...(tls.ca === undefined ? {} : { ca: readFileSync(tls.ca) }),
    // Mutual TLS: ask for a client certificate and refuse the handshake without a valid one.
    requestCert: tls.requestCert === true,
    rejectUnauthorized: tls.requestCert === true,
    minVersion: 'TLSv1.2',
  };
}
