import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssuerSimSummary } from '../../src/sim/issuer.js';
import { endpoint, type Stack, startStack } from '../helpers/harness.js';
import { runCli } from '../helpers/restartable.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';

/*
 * `switchyard sim issuer` against the real switch process. Until the switch
 * forwards (issue 17, in progress) it sends issuers nothing but heartbeat
 * echoes, so this holds what already can be held: the simulator's issuer
 * sign-on is the one the switch accepts, it answers the switch's echoes and
 * so stays signed on across several heartbeats, it signs off at the end, and
 * a refused sign-on is one line and exit 1. The end-to-end test with an
 * acquirer comes with forwarding.
 */

const HEARTBEAT_MS = 300;
const iss = makeInstitution('iss-sim-e2e', 'issuer');
const stranger = makeInstitution('iss-sim-e2e', 'issuer');

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ config: { institutions: [institutionEntry(iss)], heartbeatMs: HEARTBEAT_MS } });
});

afterAll(async () => {
  await stack?.dispose();
});

function simArgs(secretKey: Uint8Array, transport: 'tcp' | 'ws'): string[] {
  const { host, port } = endpoint(stack.sw, transport);
  return [
    'sim',
    'issuer',
    '--host',
    host,
    '--port',
    String(port),
    '--transport',
    transport,
    '--institution',
    iss.id,
    '--secret-key',
    Buffer.from(secretKey).toString('base64'),
  ];
}

describe('sim issuer against the switch', () => {
  it.each(['tcp', 'ws'] as const)(
    'signs on over %s, stays signed on across heartbeats, signs off, exit 0',
    async (transport) => {
      const result = await runCli([
        ...simArgs(iss.keys.secretKey, transport),
        '--duration',
        String((HEARTBEAT_MS * 6) / 1000),
        '--json',
        '--quiet',
      ]);

      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      const summary = JSON.parse(result.stdout) as IssuerSimSummary;
      // A host that did not answer the switch's echo would have been closed and signed on again.
      expect(summary).toMatchObject({ institution: iss.id, received: 0, reconnects: 0, lost: 0 });
    },
  );

  it('a refused sign-on is one line naming the address, exit 1', async () => {
    const { host, port } = endpoint(stack.sw, 'tcp');
    const result = await runCli([...simArgs(stranger.keys.secretKey, 'tcp'), '--duration', '1']);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `switchyard sim issuer: SWITCHYARD_SIGNON_REFUSED: switch refused the sign-on of ${iss.id}: rc 63 (at ${host}:${port})\n`,
    );
  });
});
