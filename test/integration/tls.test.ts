/**
 * TLS on the listeners (docs/protocol.md section 1): TCP+TLS and WSS carry the same protocol; with
 * `requestCert` + `ca` (mutual TLS) only clients with a certificate signed by that CA get in.
 * Certificates are made with the openssl CLI into a temp dir.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CertFiles, makeCerts } from '../helpers/certs.js';
import { at, ClientPool } from '../helpers/harness.js';
import { byId, echo, tx } from '../helpers/messages.js';
import { EVENTUALLY_MS } from '../helpers/processes.js';
import { RawClient, type TlsClientOptions, type TransportKind } from '../helpers/raw-client.js';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { institutionEntry, makeInstitution, signOn } from '../helpers/signon.js';
import { type SwitchProcess, startSwitch } from '../helpers/switch-process.js';

const acq = makeInstitution('acq-tls', 'acquirer');

let certs: CertFiles | undefined;
let redis: RedisHandle | undefined;
/** TLS on both listeners, no client certificates. */
let plain: SwitchProcess | undefined;
/** Mutual TLS on both listeners. */
let mutual: SwitchProcess | undefined;
const pool = new ClientPool();

beforeAll(async () => {
  certs = makeCerts();
  redis = await startRedis();
  const tls = { cert: certs.serverCert, key: certs.serverKey };
  const mtls = { ...tls, ca: certs.caCert, requestCert: true };
  const listen = (t: typeof tls) => ({
    tcp: { host: '127.0.0.1', port: 0, tls: t },
    ws: { host: '127.0.0.1', port: 0, tls: t },
    admin: { host: '127.0.0.1', port: 0 },
  });
  const common = { institutions: [institutionEntry(acq)], redis: { url: redis.url } };
  plain = await startSwitch({ config: { ...common, listen: listen(tls) } });
  mutual = await startSwitch({ config: { ...common, listen: listen(mtls) } });
});

afterEach(() => pool.closeAll());

afterAll(async () => {
  pool.closeAll();
  await plain?.dispose();
  await mutual?.dispose();
  await redis?.stop();
  certs?.dispose();
});

/** Sign on, then one echo and one transaction; all over the given connection. */
async function exercise(client: RawClient): Promise<void> {
  expect(await signOn(client, acq)).toMatchObject({ mti: '0810', rc: '00' });
  client.send(echo('tls-echo'));
  expect(await client.nextMessage(byId('tls-echo'))).toMatchObject({ mti: '0810', rc: '00' });
  const request = tx('0100');
  client.send(request);
  expect(await client.nextMessage(byId(request['id']))).toMatchObject({
    mti: '0110',
    stan: request['stan'],
    // Past every check to the ledger, which holds no account for this PAN.
    rc: '14',
  });
}

/** The connection attempt fails, or the switch closes it without ever sending a challenge. */
async function expectRefused(connect: () => Promise<RawClient>): Promise<void> {
  let client: RawClient;
  try {
    client = pool.track(await connect());
  } catch {
    return;
  }
  const closed = await client.closedWithin(EVENTUALLY_MS);
  expect(closed).not.toBe('open');
  expect(client.received).toEqual([]);
}

describe.each<TransportKind>(['tcp', 'ws'])('TLS over %s', (transport) => {
  const trust = (): TlsClientOptions => ({ ca: certs!.read(certs!.caCert) });

  it('signs on and transacts over TLS', async () => {
    const client = await pool.connect(at(plain!, transport, { tls: trust() }));
    await exercise(client);
  });

  it('verifies as 127.0.0.1 and as localhost with the test CA', async () => {
    const byName = await pool.connect({
      ...at(plain!, transport, { tls: { ...trust(), servername: 'localhost' } }),
      host: 'localhost',
    });
    expect((await byName.challenge())['code']).toBe('challenge');
  });

  it('a client that does not trust the server certificate cannot connect', async () => {
    // No `ca`: the default trust store does not know the test CA.
    await expect(RawClient.connect(at(plain!, transport, { tls: {} }))).rejects.toThrow();
  });

  it('mutual TLS: a client with a CA-signed certificate signs on and transacts', async () => {
    const client = await pool.connect(
      at(mutual!, transport, {
        tls: { ...trust(), cert: certs!.read(certs!.clientCert), key: certs!.read(certs!.clientKey) },
      }),
    );
    await exercise(client);
  });

  it('mutual TLS: a client without a certificate is refused', async () => {
    await expectRefused(() => RawClient.connect(at(mutual!, transport, { tls: trust() })));
  });

  it('mutual TLS: a client with a certificate from another CA is refused', async () => {
    await expectRefused(() =>
      RawClient.connect(
        at(mutual!, transport, {
          tls: { ...trust(), cert: certs!.read(certs!.rogueCert), key: certs!.read(certs!.rogueKey) },
        }),
      ),
    );
  });
});
