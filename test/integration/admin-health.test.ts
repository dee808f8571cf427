/**
 * docs/protocol.md section 6 (health, readiness, metrics, the admin token) and section 9's private Redis:
 * a switch without `redis.url` starts its own redis-server under dataDir and stops it on SIGTERM.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, at, ClientPool, type Stack, startStack } from '../helpers/harness.js';
import { EVENTUALLY_MS, pidAlive, waitFor } from '../helpers/processes.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import { type SwitchProcess, startSwitch } from '../helpers/switch-process.js';

const TOKEN = 'admin-token-for-tests-7f3a9c';
const acq = makeInstitution('acq-admin', 'acquirer');

function expectJsonError(answer: { status: number; contentType: string; json: unknown }, status: number) {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toMatch(/^application\/json/);
  const error = (answer.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  expect(error).toBeDefined();
  expect(['string', 'number']).toContain(typeof error?.code);
  expect(typeof error?.message).toBe('string');
}

describe('admin HTTP with an external Redis', () => {
  let stack: Stack;
  const pool = new ClientPool();

  beforeAll(async () => {
    // Worker-owned slots (ledger.adaptive off): the readiness reasons below are a worker's.
    stack = await startStack({
      config: { admin: { token: TOKEN }, institutions: [institutionEntry(acq)], ledger: { adaptive: false } },
    });
  });

  afterAll(async () => {
    pool.closeAll();
    await stack?.dispose();
  });

  it('GET /healthz answers 200 without a token', async () => {
    expect((await admin(stack.sw, 'GET', '/healthz')).status).toBe(200);
  });

  it('GET /readyz answers 200 once the switch is ready, without a token, every check passing', async () => {
    const answer = await admin(stack.sw, 'GET', '/readyz');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.json).toEqual({
      status: 'ready',
      checks: { listening: true, store: true, ledger: true, ledger_store: true },
      notReady: [],
      reasons: {},
    });
  });

  it('switchyard_ready is 1 and switchyard_ready_check is 1 for every check', async () => {
    const text = (await admin(stack.sw, 'GET', '/metrics')).text;
    expect(text).toMatch(/^# TYPE switchyard_ready gauge$/m);
    expect(text).toMatch(/^switchyard_ready 1$/m);
    for (const check of ['listening', 'store', 'ledger', 'ledger_store'])
      expect(text).toMatch(new RegExp(`^switchyard_ready_check\\{check="${check}"\\} 1$`, 'm'));
  });

  it('GET /metrics is Prometheus text with the process metrics and switchyard_connections', async () => {
    const answer = await admin(stack.sw, 'GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^text\/plain/);
    expect(answer.text).toMatch(/^# (HELP|TYPE) /m);
    expect(answer.text).toMatch(/^process_cpu_user_seconds_total(\{[^}]*\})? [0-9.e+-]+$/m);
    expect(answer.text).toMatch(/^# TYPE switchyard_connections /m);
  });

  it('switchyard_connections counts a signed-on acquirer under role="acquirer"', async () => {
    await pool.signedOn(at(stack.sw, 'tcp'), acq);
    const sample = /^switchyard_connections\{[^}]*role="acquirer"[^}]*\} ([0-9.e+]+)$/m;
    let value = 0;
    await waitFor(async () => {
      const match = sample.exec((await admin(stack.sw, 'GET', '/metrics')).text);
      value = match ? Number(match[1]) : 0;
      return value >= 1;
    }, EVENTUALLY_MS);
    expect(value).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['GET', '/accounts/4111111111111111'],
    ['GET', '/'],
    ['GET', '/nope'],
    ['POST', '/config/reload'],
    ['POST', '/clearing/cutoff'],
  ])('%s %s without a token -> 401 JSON error', async (method, path) => {
    expectJsonError(await admin(stack.sw, method, path), 401);
  });

  it('a wrong token -> 401 JSON error', async () => {
    expectJsonError(await admin(stack.sw, 'GET', '/accounts/4111111111111111', { token: `${TOKEN}x` }), 401);
    expectJsonError(await admin(stack.sw, 'GET', '/nope', { token: 'wrong' }), 401);
  });

  it('the token without the Bearer scheme -> 401 JSON error', async () => {
    expectJsonError(await admin(stack.sw, 'GET', '/nope', { authorization: TOKEN }), 401);
  });

  it('with the token, an unknown path -> 404 JSON error', async () => {
    expectJsonError(await admin(stack.sw, 'GET', '/no/such/endpoint', { token: TOKEN }), 404);
  });

  it('GET /readyz answers 503 naming the store once its Redis is gone, while /healthz stays 200', async () => {
    await stack.redis.stop();
    let answer = await admin(stack.sw, 'GET', '/readyz');
    const body = () => answer.json as { notReady: string[] };
    await waitFor(
      async () => {
        answer = await admin(stack.sw, 'GET', '/readyz');
        return body().notReady.includes('store') && body().notReady.includes('ledger_store');
      },
      20_000,
      200,
    );
    expect(answer.status).toBe(503);
    expect(answer.json).toEqual({
      status: 'not ready',
      checks: { listening: true, store: false, ledger: true, ledger_store: false },
      notReady: ['store', 'ledger_store'],
      reasons: {
        store: expect.stringMatching(/^redis /),
        ledger_store: expect.stringMatching(/^worker 0: redis (writer|reader) /),
      },
    });
    expect(answer.text).not.toContain(stack.redis.url);
    expect((await admin(stack.sw, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('a switch with its own private redis-server (no redis.url)', () => {
  let sw: SwitchProcess | undefined;
  let redisPid = -1;

  beforeAll(async () => {
    sw = await startSwitch({
      config: { admin: { token: TOKEN }, institutions: [institutionEntry(acq)], redis: { url: undefined } },
      readyTimeoutMs: 45_000,
    });
  });

  afterAll(async () => {
    await sw?.dispose();
    // If the switch failed to stop its redis-server, do not leave it behind.
    if (redisPid > 0 && pidAlive(redisPid)) process.kill(redisPid, 'SIGKILL');
  });

  it('reaches ready and /readyz answers 200', async () => {
    expect((await admin(sw!, 'GET', '/readyz')).status).toBe(200);
  });

  it('says that it started its own redis-server', () => {
    expect(sw!.stdout.some((line) => line.includes('redis-server'))).toBe(true);
  });

  it('runs redis-server under dataDir, and SIGTERM exits 0 and stops it', async () => {
    const pidFile = join(sw!.config.dataDir!, 'redis', 'redis.pid');
    expect(existsSync(pidFile)).toBe(true);
    redisPid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(Number.isInteger(redisPid) && redisPid > 0).toBe(true);
    expect(pidAlive(redisPid)).toBe(true);
    const exit = await sw!.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await waitFor(() => !pidAlive(redisPid), EVENTUALLY_MS)).toBe(true);
  });
});
