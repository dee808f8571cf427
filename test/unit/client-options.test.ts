import { describe, expect, it } from 'vitest';
import { ClientError } from '../../src/client/errors.js';
import { isSwitchInitiatedRequest, isValidId, responseMtiFor } from '../../src/client/messages.js';
import { CLIENT_DEFAULTS, resolveClientOptions, type SwitchClientOptions } from '../../src/client/options.js';

const valid: SwitchClientOptions = {
  transport: 'tcp',
  host: '127.0.0.1',
  port: 8583,
  institution: 'acq-demo',
  role: 'acquirer',
  secretKey: new Uint8Array(64),
};

describe('resolveClientOptions', () => {
  it('fills the documented defaults', () => {
    const resolved = resolveClientOptions(valid);
    expect(resolved).toMatchObject({
      path: '/',
      tls: undefined,
      requestTimeoutMs: 30_000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 5_000 },
      frameBytesMax: 1024 * 1024,
      batchMax: 4096,
      coalesce: true,
    });
    expect(CLIENT_DEFAULTS.requestTimeoutMs).toBe(resolved.requestTimeoutMs);
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('keeps reconnect: false', () => {
    expect(resolveClientOptions({ ...valid, reconnect: false }).reconnect).toBe(false);
  });

  it('lists every problem in one INVALID_OPTIONS error', () => {
    let caught: unknown;
    try {
      resolveClientOptions({
        ...valid,
        transport: 'udp' as 'tcp',
        port: 0,
        role: 'merchant' as 'acquirer',
        secretKey: new Uint8Array(32),
        requestTimeoutMs: -1,
        reconnect: { initialDelayMs: 500, maxDelayMs: 100 },
        batchMax: 0,
        path: 'no-slash',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ClientError);
    const error = caught as ClientError;
    expect(error.code).toBe('INVALID_OPTIONS');
    for (const name of [
      'transport',
      'port',
      'role',
      'secretKey',
      'requestTimeoutMs',
      'maxDelayMs',
      'batchMax',
      'path',
    ]) {
      expect(error.message).toContain(name);
    }
  });
});

describe('message helpers', () => {
  it('tells switch requests and advices from responses by the MTI third digit', () => {
    for (const mti of ['0100', '0101', '0120', '0121', '0200', '0220', '0420', '0421']) {
      expect(isSwitchInitiatedRequest(mti), mti).toBe(true);
    }
    for (const mti of [
      '0110',
      '0130',
      '0210',
      '0230',
      '0410',
      '0430',
      '0800',
      '0810',
      '0620',
      '01x0',
      '100',
    ]) {
      expect(isSwitchInitiatedRequest(mti), mti).toBe(false);
    }
  });

  it('derives the response MTI, repeats answered as their original', () => {
    expect(['0100', '0101', '0120', '0121', '0220', '0420', '0421'].map(responseMtiFor)).toEqual([
      '0110',
      '0110',
      '0130',
      '0130',
      '0230',
      '0430',
      '0430',
    ]);
  });

  it('accepts ids per docs/protocol.md section 1', () => {
    expect([0, 1, 2 ** 53 - 1, 'x', 'a'.repeat(64)].every(isValidId)).toBe(true);
    expect([-1, 1.5, 2 ** 53, 'é'.repeat(33), null, {}, 10n].some(isValidId)).toBe(false);
  });
});
