import { spawn } from 'node:child_process';
import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';
import { type IssuerSimOptions, type IssuerSimSummary, runIssuerSim } from '../../src/sim/issuer.js';
import type { IssuerBehaviour } from '../../src/sim/issuer-policy.js';
import { type HostConnection, IssuerSwitch } from '../helpers/issuer-switch.js';
import { EVENTUALLY_MS, repoRoot, trackChild } from '../helpers/processes.js';
import type { Msg } from '../helpers/wire.js';

/*
 * `switchyard sim issuer` against the switch's side of an issuer connection
 * emulated on loopback TCP (test/helpers/issuer-switch.ts): it signs on,
 * answers forwarded requests as told, acknowledges advices, misbehaves on
 * demand, reconnects after a drop, and signs off with a summary. First the
 * module (runIssuerSim) for each behaviour, then the real CLI process.
 */

const ISSUER = 'iss-sim';
const issuerKeys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9));
const strangerKeys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(10));
const SECRET_BASE64 = Buffer.from(issuerKeys.secretKey).toString('base64');

const BEHAVIOUR: IssuerBehaviour = {
  latency: { p50Ms: 0, p99Ms: 0 },
  slowMs: 0,
  declineRatio: 0,
  declineRcs: ['05', '51'],
  partialRatio: 0,
  silent: false,
  lateRatio: 0,
  lateMs: 3_000,
  twiceRatio: 0,
  dropAfter: undefined,
  acknowledgeAdvices: true,
};

let emulator: IssuerSwitch;

afterEach(async () => {
  await emulator?.stop();
});

async function startEmulator(): Promise<IssuerSwitch> {
  emulator = new IssuerSwitch([{ id: ISSUER, publicKey: issuerKeys.publicKey }]);
  await emulator.start();
  return emulator;
}

interface Run {
  readonly controller: AbortController;
  readonly done: Promise<IssuerSimSummary>;
  readonly stdout: string[];
}

/** Starts the simulator in this process; the test stops it with `controller.abort()`. */
function runSim(behaviour: Partial<IssuerBehaviour> = {}, overrides: Partial<IssuerSimOptions> = {}): Run {
  const controller = new AbortController();
  const stdout: string[] = [];
  const sink = { write: (text: string) => stdout.push(text) > 0 } as unknown as NodeJS.WritableStream;
  const options: IssuerSimOptions = {
    connection: {
      transport: 'tcp',
      host: '127.0.0.1',
      port: emulator.port,
      path: '/',
      tls: undefined,
      institution: ISSUER,
      secretKey: issuerKeys.secretKey,
      requestTimeoutMs: EVENTUALLY_MS,
    },
    connections: 1,
    behaviour: { ...BEHAVIOUR, ...behaviour },
    durationS: undefined,
    seed: 4242,
    json: true,
    progress: false,
    handleSigint: false,
    signal: controller.signal,
    stdout: sink,
    stderr: { write: () => true } as unknown as NodeJS.WritableStream,
    ...overrides,
  };
  return { controller, done: runIssuerSim(options), stdout };
}

function authorization(stan: number, extra: Msg = {}): Msg {
  return {
    mti: '0100',
    stan,
    time: 1_767_225_600_000 + stan,
    pan: '5000000000000009',
    amount: 2_000,
    currency: 'USD',
    ...extra,
  };
}

function quietFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Forwards `count` authorizations and waits for an answer to each; returns the answers in order. */
async function forwardAll(connection: HostConnection, count: number, first = 1): Promise<Msg[]> {
  const ids = Array.from({ length: count }, (_, i) => emulator.forward(connection, authorization(first + i)));
  return Promise.all(ids.map((id) => connection.nextMessage((m) => m['id'] === id)));
}

describe('sim issuer: answers', () => {
  it('approves every request at once by default, with the amount and a numeric auth code, and signs off at the end', async () => {
    await startEmulator();
    const run = runSim();
    const [connection] = await emulator.signedOn(1);

    const answers = await forwardAll(connection!, 20);
    for (const answer of answers) {
      expect(answer).toMatchObject({ mti: '0110', rc: '00', amount: 2_000 });
      expect(answer['authCode']).toMatch(/^\d{6}$/);
    }
    run.controller.abort();
    const summary = await run.done;

    expect(summary).toMatchObject({
      institution: ISSUER,
      transport: 'tcp',
      seed: 4242,
      received: 20,
      answered: 20,
      rcCounts: { '00': 20 },
      silent: 0,
      lost: 0,
    });
    expect(JSON.parse(run.stdout.join(''))).toMatchObject({ received: 20, answered: 20 });
    await connection!.closed;
    expect(connection!.signedOff).toBe(true);
  });

  it('declines about --decline-ratio of requests, with the codes given', async () => {
    await startEmulator();
    const run = runSim({ declineRatio: 0.5, declineRcs: ['05', '51'] });
    const [connection] = await emulator.signedOn(1);

    const answers = await forwardAll(connection!, 200);
    run.controller.abort();
    const summary = await run.done;

    const declined = answers.filter((a) => a['rc'] !== '00');
    expect(declined.length).toBeGreaterThan(60);
    expect(declined.length).toBeLessThan(140);
    expect(new Set(declined.map((a) => a['rc']))).toEqual(new Set(['05', '51']));
    expect(summary.rcCounts['05']! + summary.rcCounts['51']!).toBe(declined.length);
  });

  it('answers after the --latency-ms it is given', async () => {
    await startEmulator();
    const run = runSim({ latency: { p50Ms: 60, p99Ms: 60 } });
    const [connection] = await emulator.signedOn(1);

    const sentMs = performance.now();
    await forwardAll(connection!, 5);
    const elapsedMs = performance.now() - sentMs;
    run.controller.abort();
    const summary = await run.done;

    expect(elapsedMs).toBeGreaterThanOrEqual(55);
    expect(summary.answerDelayMs.p50).toBeGreaterThanOrEqual(55);
  });

  it('acknowledges advices and their repeats with the same id; --no-ack acknowledges none', async () => {
    await startEmulator();
    const run = runSim();
    const [connection] = await emulator.signedOn(1);
    emulator.advise(connection!, { ...authorization(1), mti: '0120', id: 'adv-1', authCode: 'S00001' });
    emulator.advise(connection!, { ...authorization(1), mti: '0121', id: 'adv-1', authCode: 'S00001' });
    emulator.advise(connection!, {
      ...authorization(2),
      mti: '0420',
      id: 'adv-2',
      orig: { stan: 2, time: 2 },
    });
    await expect.poll(() => connection!.received.length).toBe(3);
    expect(connection!.received).toEqual([
      { mti: '0130', id: 'adv-1', rc: '00' },
      { mti: '0130', id: 'adv-1', rc: '00' },
      { mti: '0430', id: 'adv-2', rc: '00' },
    ]);
    run.controller.abort();
    expect(await run.done).toMatchObject({ advices: 3, adviceRepeats: 1, advicesAcknowledged: 3 });

    await emulator.stop();
    await startEmulator();
    const withholding = runSim({ acknowledgeAdvices: false });
    const [second] = await emulator.signedOn(1);
    emulator.advise(second!, { ...authorization(3), mti: '0220', id: 'adv-3', orig: { stan: 3, time: 3 } });
    // An answer to a request after the advice shows the advice was read and passed over.
    await forwardAll(second!, 1, 4);
    expect(second!.answersTo('adv-3')).toEqual([]);
    withholding.controller.abort();
    expect(await withholding.done).toMatchObject({ advices: 1, advicesAcknowledged: 0 });
  });
});

describe('sim issuer: misbehaviour', () => {
  it('--silent answers no request, and still acknowledges advices', async () => {
    await startEmulator();
    const run = runSim({ silent: true });
    const [connection] = await emulator.signedOn(1);

    const ids = [1, 2, 3].map((stan) => emulator.forward(connection!, authorization(stan)));
    emulator.advise(connection!, { ...authorization(4), mti: '0120', id: 'adv-4' });
    await connection!.nextMessage((m) => m['id'] === 'adv-4');
    await quietFor(100);
    for (const id of ids) expect(connection!.answersTo(id)).toEqual([]);
    run.controller.abort();
    expect(await run.done).toMatchObject({ received: 3, answered: 0, silent: 3, advicesAcknowledged: 1 });
  });

  it('--slow-ms holds every answer at least that long', async () => {
    await startEmulator();
    const run = runSim({ slowMs: 150 });
    const [connection] = await emulator.signedOn(1);

    const sentMs = performance.now();
    const id = emulator.forward(connection!, authorization(1));
    await quietFor(100);
    expect(connection!.answersTo(id)).toEqual([]);
    await connection!.nextMessage((m) => m['id'] === id);
    expect(performance.now() - sentMs).toBeGreaterThanOrEqual(145);
    run.controller.abort();
    await run.done;
  });

  it('--late-ratio 1 answers everything --late-ms after the request', async () => {
    await startEmulator();
    const run = runSim({ lateRatio: 1, lateMs: 300 });
    const [connection] = await emulator.signedOn(1);

    const sentMs = performance.now();
    const [answer] = await forwardAll(connection!, 1);
    expect(performance.now() - sentMs).toBeGreaterThanOrEqual(295);
    expect(answer).toMatchObject({ rc: '00' });
    run.controller.abort();
    expect(await run.done).toMatchObject({ received: 1, answered: 1, late: 1 });
  });

  it('--twice-ratio 1 sends every answer twice, the same both times', async () => {
    await startEmulator();
    const run = runSim({ twiceRatio: 1 });
    const [connection] = await emulator.signedOn(1);

    const ids = [1, 2].map((stan) => emulator.forward(connection!, authorization(stan)));
    await expect.poll(() => connection!.received.length).toBe(4);
    for (const id of ids) {
      const [first, second] = connection!.answersTo(id);
      expect(second).toEqual(first);
    }
    run.controller.abort();
    expect(await run.done).toMatchObject({ received: 2, answered: 2, twice: 2 });
  });

  it('--drop-after 3 drops the connection at its third request, unanswered, then signs on again and counts afresh', async () => {
    await startEmulator();
    const run = runSim({ dropAfter: 3 });
    const [first] = await emulator.signedOn(1);

    const answered = await forwardAll(first!, 2);
    expect(answered.every((a) => a['rc'] === '00')).toBe(true);
    const third = emulator.forward(first!, authorization(3));
    await first!.closed;
    expect(first!.answersTo(third)).toEqual([]);
    expect(first!.signedOff).toBe(false);

    const [, second] = await emulator.signedOn(2);
    expect((await forwardAll(second!, 2, 10)).every((a) => a['rc'] === '00')).toBe(true);
    run.controller.abort();
    expect(await run.done).toMatchObject({ received: 5, answered: 4, drops: 1, reconnects: 1 });
  });

  it('on stop, answers already scheduled still go out before the sign-off', async () => {
    await startEmulator();
    const progress: string[] = [];
    const stderr = { write: (text: string) => progress.push(text) > 0 } as unknown as NodeJS.WritableStream;
    const run = runSim(
      { latency: { p50Ms: 300, p99Ms: 300 } },
      { progress: true, progressIntervalMs: 10, stderr },
    );
    const [connection] = await emulator.signedOn(1);

    const id = emulator.forward(connection!, authorization(1));
    // The progress line says when the simulator has the request (and has scheduled its answer).
    await expect.poll(() => progress.some((line) => line.startsWith('received 1 answered 0'))).toBe(true);
    run.controller.abort();
    const summary = await run.done;

    expect(connection!.answersTo(id)).toHaveLength(1);
    expect(connection!.signedOff).toBe(true);
    expect(summary).toMatchObject({ received: 1, answered: 1, lost: 0 });
  });
});

describe('sim issuer: connections', () => {
  it('signs on --connections times and answers on each', async () => {
    await startEmulator();
    const run = runSim({}, { connections: 3 });
    const connections = await emulator.signedOn(3);

    for (const [index, connection] of connections.entries()) {
      const [answer] = await forwardAll(connection, 1, index + 1);
      expect(answer).toMatchObject({ rc: '00' });
    }
    run.controller.abort();
    expect(await run.done).toMatchObject({ connections: 3, received: 3, answered: 3 });
  });

  it('rejects SIGNON_REFUSED when the switch refuses the key', async () => {
    await startEmulator();
    const run = runSim(
      {},
      {
        connection: {
          transport: 'tcp',
          host: '127.0.0.1',
          port: emulator.port,
          path: '/',
          tls: undefined,
          institution: ISSUER,
          secretKey: strangerKeys.secretKey,
          requestTimeoutMs: EVENTUALLY_MS,
        },
      },
    );
    await expect(run.done).rejects.toMatchObject({ code: 'SIGNON_REFUSED', rc: '63' });
  });
});

interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `switchyard sim issuer` (dist/) with `args`; the test sends it signals by its PID. */
function spawnSim(args: readonly string[]): {
  pid: number;
  result: Promise<ProcessResult>;
  stderr: () => string;
} {
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'sim', 'issuer', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const result = new Promise<ProcessResult>((resolve) => {
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { pid: child.pid!, result, stderr: () => stderr };
}

describe('switchyard sim issuer (the CLI process)', () => {
  const address = (): string[] => [
    '--host',
    '127.0.0.1',
    '--port',
    String(emulator.port),
    '--institution',
    ISSUER,
    '--secret-key',
    SECRET_BASE64,
  ];

  it('answers as told, shows a progress line, and on Ctrl-C signs off and prints the summary as JSON, exit 0', async () => {
    await startEmulator();
    const sim = spawnSim([
      ...address(),
      '--decline-ratio',
      '0.5',
      '--decline-rc',
      '51',
      '--seed',
      '7',
      '--json',
    ]);
    const [connection] = await emulator.signedOn(1);

    const answers = await forwardAll(connection!, 40);
    emulator.advise(connection!, {
      ...authorization(99),
      mti: '0221',
      id: 'adv-99',
      orig: { stan: 1, time: 1 },
    });
    await connection!.nextMessage((m) => m['id'] === 'adv-99');
    await expect.poll(() => sim.stderr(), { timeout: EVENTUALLY_MS }).toMatch(/received 40 answered 40/);
    process.kill(sim.pid, 'SIGINT');
    const result = await sim.result;

    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as IssuerSimSummary;
    const declined = answers.filter((a) => a['rc'] === '51').length;
    expect(declined).toBeGreaterThan(5);
    expect(summary).toMatchObject({
      institution: ISSUER,
      seed: 7,
      received: 40,
      answered: 40,
      rcCounts: { '00': 40 - declined, '51': declined },
      advices: 1,
      adviceRepeats: 1,
      advicesAcknowledged: 1,
    });
    expect(result.stderr).toMatch(
      /^received \d+ answered \d+ rc .* advices \d+ acked \d+ rate \d+\/s delay p50/m,
    );
    await connection!.closed;
    expect(connection!.signedOff).toBe(true);
  });

  it('stops by itself after --duration and prints the text summary', async () => {
    await startEmulator();
    const sim = spawnSim([...address(), '--duration', '0.5', '--quiet', '--seed', '11']);
    const result = await sim.result;

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(
      /^issuer iss-sim over tcp: 1 connection\(s\), seed 11\nreceived 0, answered 0/,
    );
  });

  it('a switch that cannot be reached is one line naming the address, exit 1', async () => {
    await startEmulator();
    const { port } = emulator;
    await emulator.stop();
    const sim = spawnSim(address());
    const result = await sim.result;

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `switchyard sim issuer: SWITCHYARD_SWITCH_UNREACHABLE: cannot reach the switch at 127.0.0.1:${port} (ECONNREFUSED)\n`,
    );
  });
});
