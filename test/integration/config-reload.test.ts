/**
 * docs/protocol.md section 4, config reload: `routes` and `institutions` re-read
 * from the file the switch was started with on `POST /config/reload` and on
 * SIGHUP, swapped whole (new transactions route by the new table, sign-ons
 * check the new keys at once), connections kept except those of institutions
 * no longer configured (or whose role or key changed), an invalid or
 * unreadable file refused with every problem and the running config kept,
 * settings that take a restart named and not applied, and reloads serialized.
 * Black box: real switch processes, real sockets, the raw client.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SwitchConfig } from '../../src/config/types.js';
import { admin, at, ClientPool, endpoint, type HttpAnswer } from '../helpers/harness.js';
import { byId, echo, makePan, tx } from '../helpers/messages.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import type { RawClient } from '../helpers/raw-client.js';
import { runCli } from '../helpers/restartable.js';
import { type Institution, institutionEntry, makeInstitution, signOn } from '../helpers/signon.js';
import { type StartOptions, type SwitchProcess, startSwitch } from '../helpers/switch-process.js';
import type { Msg } from '../helpers/wire.js';

const TOKEN = 'config-reload-token-5b9e1f';
const acq = makeInstitution('acq-1', 'acquirer');
const acq2 = makeInstitution('acq-2', 'acquirer');
const iss = makeInstitution('iss-1', 'issuer');
/** Not in the config the switches start with. */
const newcomer = makeInstitution('acq-new', 'acquirer');

const switches: SwitchProcess[] = [];
const pool = new ClientPool();

afterEach(async () => {
  pool.closeAll();
  for (const sw of switches.splice(0)) await sw.dispose();
});

async function start(options: StartOptions = {}): Promise<SwitchProcess> {
  const sw = await startSwitch({
    ...options,
    config: {
      admin: { token: TOKEN },
      institutions: [institutionEntry(acq), institutionEntry(acq2), institutionEntry(iss)],
      routes: [{ prefix: '4', issuer: 'local' }],
      ...options.config,
    },
  });
  switches.push(sw);
  return sw;
}

type Config = Partial<SwitchConfig>;

/** Rewrites the switch's own config file: its config at start, changed by `change` (wrong on purpose, at times). */
function rewrite(sw: SwitchProcess, change: (config: Config) => Record<string, unknown>): void {
  const config = structuredClone(sw.config) as Config;
  writeFileSync(sw.configPath, `${JSON.stringify(change(config), null, 2)}\n`);
}

function reload(sw: SwitchProcess): Promise<HttpAnswer> {
  return admin(sw, 'POST', '/config/reload', { token: TOKEN });
}

function logLines(sw: SwitchProcess, msg: string): Record<string, unknown>[] {
  return sw.stdout
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['msg'] === msg);
}

/** The lines with `msg` once there are `count` (stdout may trail an HTTP answer); earlier lines are there too. */
async function logged(sw: SwitchProcess, msg: string, count = 1): Promise<Record<string, unknown>[]> {
  expect(await waitFor(() => logLines(sw, msg).length >= count, EVENTUALLY_MS), msg).toBe(true);
  return logLines(sw, msg);
}

/** Every log line's msg, in order. */
function messages(sw: SwitchProcess): string[] {
  return sw.stdout
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

/** A 0100 for `pan` and its answer. */
async function authorize(client: RawClient, pan: string): Promise<Msg> {
  const request = tx('0100', { pan, amount: 500 });
  client.send(request);
  return client.nextMessage(byId(request['id']));
}

async function echoAnswered(client: RawClient): Promise<boolean> {
  const request = echo();
  client.send(request);
  const answer = await client.nextMessage(byId(request['id']));
  return answer['rc'] === '00';
}

/** Connects and tries to sign on; the switch's 0810 (rc 00 or 63). */
async function trySignOn(sw: SwitchProcess, inst: Institution): Promise<{ client: RawClient; rc: unknown }> {
  const client = await pool.connect(at(sw, 'tcp'));
  const answer = await signOn(client, inst);
  return { client, rc: answer['rc'] };
}

async function openAccount(sw: SwitchProcess, pan: string): Promise<void> {
  const answer = await admin(sw, 'PUT', `/accounts/${pan}`, {
    token: TOKEN,
    body: { currency: 'EUR', balance: 100_000 },
  });
  expect(answer.status, answer.text).toBe(201);
}

describe('POST /config/reload with a good file', () => {
  it('swaps routes and institutions at once, keeps every connection, and answers the counts', async () => {
    const sw = await start();
    const acquirer = await pool.signedOn(at(sw, 'tcp'), acq);
    const issuer = await pool.signedOn(at(sw, 'ws'), iss);
    const pan = makePan('49');
    await openAccount(sw, pan);
    expect(await authorize(acquirer, pan)).toMatchObject({ rc: '00' });
    expect(await authorize(acquirer, makePan('5'))).toMatchObject({ rc: '15' });
    const refused = await trySignOn(sw, newcomer);
    expect(refused.rc).toBe('63');

    rewrite(sw, (config) => ({
      ...config,
      institutions: [...(config.institutions ?? []), institutionEntry(newcomer)],
      routes: [
        { prefix: '4', issuer: 'local' },
        { prefix: '49', issuer: iss.id },
        { prefix: '5', issuer: 'local' },
      ],
    }));
    const answer = await reload(sw);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toEqual({ routes: 3, institutions: 4, needsRestart: [], sessionsClosed: 0 });

    // The prefix moved from the on-us ledger to an issuer: the next transaction goes there
    // (91 until forwarding is built, issue 17); the same connection carries it.
    expect(await authorize(acquirer, pan)).toMatchObject({ rc: '91' });
    // A prefix with no route before has one now (an unknown on-us card is 14, not 15).
    expect(await authorize(acquirer, makePan('5'))).toMatchObject({ rc: '14' });
    expect(await authorize(acquirer, makePan('4'))).toMatchObject({ rc: '14' });
    const welcomed = await trySignOn(sw, newcomer);
    expect(welcomed.rc).toBe('00');
    expect(await echoAnswered(issuer)).toBe(true);
    expect(acquirer.isClosed || issuer.isClosed).toBe(false);
    expect(await logged(sw, 'config reloaded')).toEqual([
      expect.objectContaining({ routes: 3, institutions: 4, sessionsClosed: 0 }),
    ]);
    expect(logLines(sw, 'reloading the config')).toEqual([
      expect.objectContaining({ trigger: 'POST /config/reload', file: sw.configPath }),
    ]);
  });

  it('needs the admin token', async () => {
    const sw = await start();
    const answer = await admin(sw, 'POST', '/config/reload');
    expect(answer.status).toBe(401);
    expect(await admin(sw, 'GET', '/config/reload', { token: TOKEN })).toMatchObject({ status: 405 });
    expect(logLines(sw, 'reloading the config')).toEqual([]);
  });
});

describe('institutions no longer configured', () => {
  it('closes their sessions (removed, role changed, key changed), keeps the others, and refuses their sign-on', async () => {
    const flipper = makeInstitution('flipper', 'acquirer');
    const rekeyed = makeInstitution('rekeyed', 'acquirer');
    const sw = await start({
      config: {
        institutions: [
          institutionEntry(acq),
          institutionEntry(acq2),
          institutionEntry(iss),
          institutionEntry(flipper),
          institutionEntry(rekeyed),
        ],
      },
    });
    const kept = await pool.signedOn(at(sw, 'tcp'), acq);
    const keptIssuer = await pool.signedOn(at(sw, 'tcp'), iss);
    const removed = await pool.signedOn(at(sw, 'tcp'), acq2);
    const removedWs = await pool.signedOn(at(sw, 'ws'), acq2);
    const flipped = await pool.signedOn(at(sw, 'tcp'), flipper);
    const oldKey = await pool.signedOn(at(sw, 'ws'), rekeyed);
    const rekeyedNow = makeInstitution(rekeyed.id, 'acquirer');

    rewrite(sw, (config) => ({
      ...config,
      institutions: [
        institutionEntry(acq),
        institutionEntry(iss),
        { ...institutionEntry(flipper), role: 'issuer' },
        institutionEntry(rekeyedNow),
      ],
    }));
    const answer = await reload(sw);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ routes: 1, institutions: 4, sessionsClosed: 4 });

    for (const client of [removed, removedWs, flipped, oldKey])
      expect(await client.closedWithin(EVENTUALLY_MS)).not.toBe('open');
    // Closed in the same step as the swap: the others, answering now, were kept.
    expect(await echoAnswered(kept)).toBe(true);
    expect(await echoAnswered(keptIssuer)).toBe(true);
    expect(await authorize(kept, makePan('4'))).toMatchObject({ rc: '14' });
    await logged(sw, 'config reloaded');
    const reasons = logLines(sw, 'config reload: closing a session').map((line) => [
      line['institution'],
      line['role'],
      line['reason'],
    ]);
    expect(reasons.sort()).toEqual(
      [
        [acq2.id, 'acquirer', 'institution no longer configured'],
        [acq2.id, 'acquirer', 'institution no longer configured'],
        [flipper.id, 'acquirer', 'role no longer configured'],
        [rekeyed.id, 'acquirer', 'public key changed'],
      ].sort(),
    );

    // They cannot sign on again as they were; the new key and the new role can.
    for (const inst of [acq2, flipper, rekeyed]) {
      const again = await trySignOn(sw, inst);
      expect(again.rc, inst.id).toBe('63');
      expect(await again.client.closedWithin(EVENTUALLY_MS)).not.toBe('open');
    }
    expect((await trySignOn(sw, rekeyedNow)).rc).toBe('00');
    expect((await trySignOn(sw, { ...flipper, role: 'issuer' })).rc).toBe('00');
  });
});

describe('a file the switch cannot use', () => {
  it('is refused with 400 invalid_config listing every problem with its path; the running config stays', async () => {
    const sw = await start();
    const acquirer = await pool.signedOn(at(sw, 'tcp'), acq);
    const pan = makePan('49');
    await openAccount(sw, pan);

    rewrite(sw, (config) => ({
      ...config,
      surprise: true,
      limits: { ...config.limits, batchMaxx: 10 },
      institutions: [institutionEntry(acq), institutionEntry(newcomer), { id: 'x', role: 'banker' }],
      routes: [
        { prefix: '49', issuer: 'nobody' },
        { prefix: '4', issuer: 'local' },
        { prefix: '4', issuer: 'local' },
      ],
    }));
    const answer = await reload(sw);
    expect(answer.status, answer.text).toBe(400);
    const error = (answer.json as { error: { code: string; message: string; problems: string[] } }).error;
    expect(error.code).toBe('invalid_config');
    expect(error.problems).toEqual([
      'surprise: unknown key',
      'institutions[2].role: must be one of "acquirer", "issuer", got "banker"',
      'institutions[2].publicKey: is required',
      'routes[0].issuer: must be "local" or the id of an institution with role "issuer", got "nobody"',
      'routes[2].prefix: duplicate of routes[1].prefix ("4")',
      'limits.batchMaxx: unknown key',
    ]);
    expect(error.message).toContain(`invalid configuration in ${sw.configPath} (6 problems)`);
    for (const problem of error.problems) expect(error.message).toContain(problem);
    expect(await logged(sw, 'config reload refused; the running config stays')).toEqual([
      expect.objectContaining({ file: sw.configPath, problems: error.problems }),
    ]);

    // Nothing of the bad file is in force: routes, institutions, connections as before.
    expect(await authorize(acquirer, pan)).toMatchObject({ rc: '00' });
    expect(await authorize(acquirer, makePan('5'))).toMatchObject({ rc: '15' });
    expect((await trySignOn(sw, newcomer)).rc).toBe('63');
    expect((await trySignOn(sw, acq2)).rc).toBe('00');
    expect(logLines(sw, 'config reloaded')).toEqual([]);
  });

  it('is refused when it cannot be read, or is not JSON; a good file afterwards is taken', async () => {
    const sw = await start();
    const acquirer = await pool.signedOn(at(sw, 'tcp'), acq);
    const aside = `${sw.configPath}.aside`;
    renameSync(sw.configPath, aside);
    const unreadable = await reload(sw);
    expect(unreadable.status).toBe(400);
    expect(unreadable.json).toMatchObject({
      error: { code: 'invalid_config', problems: [`(file): cannot read ${sw.configPath} (ENOENT)`] },
    });

    writeFileSync(sw.configPath, '{"switchId": ');
    const broken = await reload(sw);
    expect(broken.status).toBe(400);
    expect(broken.json).toMatchObject({
      error: {
        code: 'invalid_config',
        problems: [expect.stringMatching(/^\(file\): invalid JSON in /)],
      },
    });
    expect(await echoAnswered(acquirer)).toBe(true);

    renameSync(aside, sw.configPath);
    expect(await reload(sw)).toMatchObject({ status: 200, json: { routes: 1, institutions: 3 } });
    expect(await authorize(acquirer, makePan('4'))).toMatchObject({ rc: '14' });
  });
});

describe('settings other than routes and institutions', () => {
  it('are not applied: the answer and a warning name them, and the switch runs as started', async () => {
    const sw = await start();
    rewrite(sw, (config) => ({
      ...config,
      heartbeatMs: 45_000,
      // Started on port 0 (any free port): a fixed one is a change.
      listen: { ...config.listen, tcp: { host: '127.0.0.1', port: 1 } },
      admin: { token: 'a-new-token-that-is-long-enough' },
      routes: [],
    }));
    const answer = await reload(sw);
    expect(answer.status, answer.text).toBe(200);
    const needsRestart = ['heartbeatMs', 'listen.tcp.port', 'admin.token'];
    expect(answer.json).toEqual({
      routes: 0,
      institutions: 3,
      needsRestart: expect.arrayContaining(needsRestart),
      sessionsClosed: 0,
    });
    expect((answer.json as { needsRestart: string[] }).needsRestart).toHaveLength(3);
    await logged(sw, 'config reloaded');
    expect(
      logLines(sw, 'config reload: settings other than routes and institutions take a restart; not applied'),
    ).toEqual([expect.objectContaining({ settings: expect.arrayContaining(needsRestart) })]);
    // Never a value: the new token is a secret.
    expect(sw.stdout.join('\n')).not.toContain('a-new-token-that-is-long-enough');

    // The old token still opens the admin API; the old port still takes connections; routes are new.
    const acquirer = await pool.signedOn(at(sw, 'tcp'), acq);
    expect(await authorize(acquirer, makePan('4'))).toMatchObject({ rc: '15' });
    expect((await reload(sw)).status).toBe(200);
  });
});

describe('SIGHUP', () => {
  it('reloads the data keys and then the config, each logging its outcome', async () => {
    const sw = await start();
    const acquirer = await pool.signedOn(at(sw, 'tcp'), acq);
    const pan = makePan('49');
    await openAccount(sw, pan);
    rewrite(sw, (config) => ({
      ...config,
      institutions: [institutionEntry(acq), institutionEntry(iss), institutionEntry(newcomer)],
      routes: [
        { prefix: '4', issuer: 'local' },
        { prefix: '49', issuer: iss.id },
      ],
    }));
    process.kill(sw.pid, 'SIGHUP');
    expect((await logged(sw, 'config reloaded'))[0]).toMatchObject({ routes: 2, institutions: 3 });
    expect(logLines(sw, 'reloading the config')).toEqual([expect.objectContaining({ trigger: 'SIGHUP' })]);
    // The key reload ran first (the same key file: the same ids).
    expect(logLines(sw, 'data keys loaded')).toHaveLength(2);
    const order = messages(sw);
    expect(order.indexOf('data keys reloaded')).toBeGreaterThan(0);
    expect(order.indexOf('data keys reloaded')).toBeLessThan(order.indexOf('reloading the config'));

    expect(await authorize(acquirer, pan)).toMatchObject({ rc: '91' });
    expect((await trySignOn(sw, newcomer)).rc).toBe('00');

    // A bad file on SIGHUP: refused, logged, the switch runs on with what it had.
    rewrite(sw, (config) => ({ ...config, routes: [{ prefix: '', issuer: 'local' }] }));
    process.kill(sw.pid, 'SIGHUP');
    expect((await logged(sw, 'config reload refused; the running config stays'))[0]).toMatchObject({
      problems: ['routes[0].prefix: must be 1 to 19 digits 0-9, got ""'],
    });
    expect(sw.running()).toBe(true);
    expect(await authorize(acquirer, pan)).toMatchObject({ rc: '91' });
  });
});

describe('reloads at the same time', () => {
  it('run one after another: each ends before the next begins, and all are answered', async () => {
    const sw = await start();
    rewrite(sw, (config) => ({
      ...config,
      routes: [...(config.routes ?? []), { prefix: '5', issuer: 'local' }],
    }));
    process.kill(sw.pid, 'SIGHUP');
    const answers = await Promise.all([reload(sw), reload(sw), reload(sw)]);
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, json: { routes: 2 } });
    await logged(sw, 'config reloaded', 4);

    // Every reload's begin line is followed by its own outcome before the next begins.
    const begins = new Set(['reloading the data keys', 'reloading the config']);
    const ends = new Set([
      'data keys reloaded',
      'key reload refused; the keys in use stay',
      'config reloaded',
      'config reload refused; the running config stays',
    ]);
    const kinds = messages(sw)
      .filter((msg) => begins.has(msg) || ends.has(msg))
      .map((msg) => (begins.has(msg) ? 'begin' : 'end'));
    expect(kinds).toEqual(Array.from({ length: 5 }, () => ['begin', 'end']).flat());
  });
});

describe('switchyard config reload', () => {
  it('calls POST /config/reload: the answer as JSON, or every problem and exit 1', async () => {
    const sw = await start();
    const { host, port } = endpoint(sw, 'admin');
    const target = ['--admin', `http://${host}:${port}`, '--token', TOKEN];
    rewrite(sw, (config) => ({ ...config, routes: [] }));
    const good = await runCli(['config', 'reload', ...target]);
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({
      routes: 0,
      institutions: 3,
      needsRestart: [],
      sessionsClosed: 0,
    });

    rewrite(sw, (config) => ({
      ...config,
      routes: [{ prefix: '4', issuer: 'nobody' }],
      heartbeatMs: 'soon',
    }));
    const bad = await runCli(['config', 'reload', ...target]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^switchyard config reload: SWITCHYARD_ADMIN_ERROR: 400 invalid_config: /);
    expect(bad.stderr).toContain('routes[0].issuer: must be "local" or the id of an institution');
    expect(bad.stderr).toContain('heartbeatMs: must be an integer, got string');
  });
});
