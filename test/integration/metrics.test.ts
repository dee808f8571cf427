/**
 * GET /metrics of a real switch (2 ledger worker threads, one configured
 * issuer) on a real Redis, read with a strict parser of the exposition
 * format: every family of the metric catalog (docs/protocol.md section 8)
 * but the two readiness ones, with its type, help and every label set, at 0
 * right after start; after traffic, the worker-side families (actors,
 * commits, each worker thread's event loop) moved and the per-message ones
 * counted exactly; a commit Redis refuses is counted; a cleared cycle shows;
 * and with Redis stopped /metrics still answers within a second, with
 * switchyard_redis_up 0.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabelUniverse } from '../../src/observability/metric-catalog.js';
import { FAMILIES_REGISTERED_ELSEWHERE } from '../../src/observability/switch-metrics.js';
import { catalogProblems } from '../helpers/catalog-series.js';
import { admin, at, ClientPool, type Stack, startStack } from '../helpers/harness.js';
import { Accounts, RrnBook, req, Teller } from '../helpers/ledger.js';
import { makePan } from '../helpers/messages.js';
import { EVENTUALLY_MS, waitFor } from '../helpers/processes.js';
import { type PromFamily, parsePromText, sampleValue } from '../helpers/prom-text.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';

const TOKEN = 'metrics-admin-token-9c41e7';
const acq = makeInstitution('acq-metrics', 'acquirer');
/** Configured, never signed on: what is routed to it is stood in for (outcome "unavailable"). */
const issuer = makeInstitution('iss-metrics', 'issuer');
const UNIVERSE: LabelUniverse = { workers: 2, inline: false, issuers: [issuer.id] };
/** What docs/protocol.md section 8 asks of a scrape while Redis is away. */
const SCRAPE_WITHOUT_REDIS_MS = 1_000;

type Page = ReadonlyMap<string, PromFamily>;

/** The sum of a sample over every label set (say, over workers). */
function total(page: Page, name: string): number {
  let sum = 0;
  for (const family of page.values()) for (const s of family.samples) if (s.name === name) sum += s.value;
  return sum;
}

describe('GET /metrics of a running switch', () => {
  let stack: Stack;
  let redis: Redis;
  const pool = new ClientPool();
  const accounts = new Accounts(() => stack.sw, TOKEN);

  beforeAll(async () => {
    stack = await startStack({
      config: {
        admin: { token: TOKEN },
        institutions: [
          institutionEntry(acq),
          { ...institutionEntry(issuer), standIn: { perTxnMax: 100_000, dailyMax: 10_000_000 } },
        ],
        routes: [
          { prefix: '4', issuer: 'local' },
          { prefix: '5', issuer: issuer.id },
        ],
        workers: 2,
        // Passes of every scheduled job within the test (journal trim runs as often as hold expiry).
        // On the worker threads (ledger.adaptive off): the worker-side families are what this checks.
        ledger: { holdExpiryIntervalMs: 1_000, recordSweepIntervalMs: 1_000, adaptive: false },
      },
    });
    redis = new Redis(stack.redis.url);
    // The last test stops Redis: this client's reconnect attempts are expected.
    redis.on('error', () => {});
  });

  afterAll(async () => {
    pool.closeAll();
    redis?.disconnect();
    await stack?.dispose();
  });

  async function scrape(): Promise<Page> {
    const answer = await admin(stack.sw, 'GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePromText(answer.text);
  }

  it('exports every catalog family with every label set right after start, at 0', async () => {
    const page = await scrape();
    const problems = catalogProblems(page, UNIVERSE, {
      skip: FAMILIES_REGISTERED_ELSEWHERE,
      value: (family, sample) => {
        switch (family.name) {
          // Live from the first scrape: the samplers fire every 50 ms, a scheduled pass may have
          // ended already, and Redis's figures are read (checked below).
          case 'switchyard_event_loop_delay_seconds':
          case 'switchyard_job_passes_total':
          case 'switchyard_redis_up':
          case 'switchyard_redis_aof_last_write_ok':
          case 'switchyard_redis_memory_used_bytes':
            return sample.value >= 0 ? undefined : `${sample.value}`;
          default:
            return sample.value === 0 ? undefined : `${sample.value}, not 0`;
        }
      },
    });
    expect(problems).toEqual([]);
    // The main thread's sampler already ran; the workers' snapshots follow within a second or two.
    expect(
      sampleValue(page, 'switchyard_event_loop_delay_seconds_count', { thread: 'main' }),
    ).toBeGreaterThan(0);
    // Redis is up, with its AOF (a first read slower than its deadline on a busy machine shows 0 until the next).
    const redisShown = await waitFor(async () => {
      const now = await scrape();
      return (
        sampleValue(now, 'switchyard_redis_up') === 1 &&
        sampleValue(now, 'switchyard_redis_aof_last_write_ok') === 1 &&
        sampleValue(now, 'switchyard_redis_memory_used_bytes') > 0 &&
        sampleValue(now, 'switchyard_redis_memory_max_bytes') === 0
      );
    }, EVENTUALLY_MS);
    expect(redisShown, 'Redis up, AOF ok, memory used, no maxmemory').toBe(true);
  });

  it('after traffic: the worker-side families moved on both workers, the per-message ones counted exactly', async () => {
    // 40 accounts: both workers own some (each PAN's shard is a keyed hash; all on one worker is 2^-39).
    const pans: string[] = [];
    for (let i = 0; i < 40; i++) pans.push(await accounts.create({ balance: 100_000 }));
    const teller = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), new RrnBook(), acq.id);
    const holds = pans.map((pan) => req('0100', { pan, amount: 1_000 }));
    teller.client.send(holds);
    for (const hold of holds) expect((await teller.answer(hold))['rc']).toBe('00');
    const stoodIn = await teller.ask(req('0100', { pan: makePan('5'), amount: 700 }));
    expect(stoodIn['rc']).toBe('00');

    let page: Page = new Map();
    const moved = await waitFor(async () => {
      page = await scrape();
      const perWorker = (name: string, labels: (w: string) => Record<string, string>) =>
        ['0', '1'].every((w) => sampleValue(page, name, labels(w)) > 0);
      return (
        perWorker('switchyard_actors_active', (worker) => ({ worker })) &&
        perWorker('switchyard_event_loop_delay_seconds_count', (w) => ({ thread: `ledger-${w}` })) &&
        // The 40 account writes, the 40 holds and the stand-in, in however many commits.
        sampleValue(page, 'switchyard_persist_batch_size_sum') >= 81 &&
        sampleValue(page, 'switchyard_issuer_stand_in_approvals_total', { issuer: issuer.id }) === 1
      );
    }, EVENTUALLY_MS);
    expect(moved, 'actors, every commit and both workers’ event loops in /metrics').toBe(true);
    // Every commit has its batch size and its duration.
    expect(sampleValue(page, 'switchyard_persist_batch_size_count')).toBeGreaterThan(0);
    expect(sampleValue(page, 'switchyard_persist_duration_seconds_count')).toBe(
      sampleValue(page, 'switchyard_persist_batch_size_count'),
    );
    // Per message, exactly: 41 approvals (40 on-us, one stood in), the sign-on's 0810.
    expect(sampleValue(page, 'switchyard_messages_total', { mti: '0110', rc: '00' })).toBe(41);
    expect(total(page, 'switchyard_messages_total')).toBe(42);
    expect(sampleValue(page, 'switchyard_messages_total', { mti: '0810', rc: '00' })).toBe(1);
    expect(sampleValue(page, 'switchyard_request_duration_seconds_count', { mti: '0110' })).toBe(41);
    expect(
      sampleValue(page, 'switchyard_issuer_requests_total', { issuer: issuer.id, outcome: 'unavailable' }),
    ).toBe(1);
    expect(total(page, 'switchyard_issuer_requests_total')).toBe(1);
    expect(sampleValue(page, 'switchyard_connections', { role: 'acquirer' })).toBe(1);
    // Still exactly the catalog's series: nothing the traffic added outside it.
    expect(catalogProblems(page, UNIVERSE, { skip: FAMILIES_REGISTERED_ELSEWHERE })).toEqual([]);
    // The stand-in queued an advice for the issuer.
    expect(
      await waitFor(
        async () => sampleValue(await scrape(), 'switchyard_saf_queue_depth', { issuer: issuer.id }) === 1,
        EVENTUALLY_MS,
      ),
    ).toBe(true);
  });

  it('counts each scheduled job’s passes', async () => {
    const passed = await waitFor(async () => {
      const page = await scrape();
      return ['hold_expiry', 'record_sweep', 'journal_trim'].every(
        (job) => sampleValue(page, 'switchyard_job_passes_total', { task: job }) > 0,
      );
    }, EVENTUALLY_MS);
    expect(passed).toBe(true);
  });

  it('counts a commit Redis refuses as a failure of its worker, and shows Redis’s maxmemory', async () => {
    const pan = await accounts.create({ balance: 10_000 });
    const teller = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), new RrnBook(), acq.id);
    const before = total(await scrape(), 'switchyard_ledger_commit_failures_total');
    // Under noeviction, a maxmemory below what Redis uses refuses every write: the commit fails.
    await redis.config('SET', 'maxmemory', '1');
    try {
      expect((await teller.ask(req('0100', { pan, amount: 100 })))['rc']).toBe('96');
    } finally {
      await redis.config('SET', 'maxmemory', '2gb');
    }
    let page: Page = new Map();
    const shown = await waitFor(async () => {
      page = await scrape();
      return (
        total(page, 'switchyard_ledger_commit_failures_total') > before &&
        sampleValue(page, 'switchyard_redis_memory_max_bytes') === 2 * 1024 ** 3
      );
    }, EVENTUALLY_MS);
    expect(shown, 'a commit failure and maxmemory 2gb in /metrics').toBe(true);
    expect(sampleValue(page, 'switchyard_redis_up')).toBe(1);
  });

  it('shows a cleared cycle: the last done cycle, its job’s duration, no lag left', async () => {
    const cut = await admin(stack.sw, 'POST', '/clearing/cutoff', { token: TOKEN });
    expect(cut.status, cut.text).toBe(200);
    const cycle = (cut.json as { cycle: number }).cycle;
    let page: Page = new Map();
    const cleared = await waitFor(async () => {
      page = await scrape();
      // The settlement (read from Redis) is done a moment before BullMQ reports the job completed.
      return (
        sampleValue(page, 'switchyard_clearing_last_done_cycle') === cycle &&
        sampleValue(page, 'switchyard_clearing_cycles_total', { status: 'done' }) === 1
      );
    }, EVENTUALLY_MS);
    expect(cleared, `cycle ${cycle} done in /metrics`).toBe(true);
    expect(sampleValue(page, 'switchyard_clearing_lag_seconds')).toBe(0);
    expect(sampleValue(page, 'switchyard_clearing_job_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(page, 'switchyard_clearing_job_duration_seconds_sum')).toBeGreaterThan(0);
  });

  it('answers within a second with switchyard_redis_up 0 when Redis is stopped, keeping the last memory figures', async () => {
    await stack.redis.stop();
    let page: Page = new Map();
    const slowest: number[] = [];
    const down = await waitFor(async () => {
      const startedMs = performance.now();
      page = await scrape();
      slowest.push(performance.now() - startedMs);
      return sampleValue(page, 'switchyard_redis_up') === 0;
    }, EVENTUALLY_MS);
    expect(down, 'switchyard_redis_up 0').toBe(true);
    expect(Math.max(...slowest)).toBeLessThan(SCRAPE_WITHOUT_REDIS_MS);
    expect(sampleValue(page, 'switchyard_redis_memory_used_bytes')).toBeGreaterThan(0);
    expect(sampleValue(page, 'switchyard_redis_memory_max_bytes')).toBe(2 * 1024 ** 3);
    expect(sampleValue(page, 'switchyard_redis_aof_last_write_ok')).toBe(1);
    // And scrapes stay prompt while it stays away (each one now waits on a read that fails fast, or its deadline).
    for (let i = 0; i < 3; i++) {
      const startedMs = performance.now();
      expect(sampleValue(await scrape(), 'switchyard_redis_up')).toBe(0);
      expect(performance.now() - startedMs).toBeLessThan(SCRAPE_WITHOUT_REDIS_MS);
    }
    // A switch whose Redis is gone does not finish a graceful stop (it waits on the store until
    // the helper's 15 s SIGKILL): end it as a crash would, its work here is done.
    await stack.sw.kill9();
  });
});

describe('GET /metrics with SWITCHYARD_BENCH_METRICS_HOT=off (the paired benchmark’s other arm)', () => {
  let stack: Stack;
  const pool = new ClientPool();

  beforeAll(async () => {
    stack = await startStack({
      config: { admin: { token: TOKEN }, institutions: [institutionEntry(acq)], workers: 1 },
      env: { SWITCHYARD_BENCH_METRICS_HOT: 'off' },
    });
  });

  afterAll(async () => {
    pool.closeAll();
    await stack?.dispose();
  });

  it('counts no response, says so in the log, and keeps every other family', async () => {
    const client = await pool.signedOn(at(stack.sw, 'tcp'), acq);
    const teller = new Teller(client, new RrnBook(), acq.id);
    // No account: answered 14 by the ledger, through a worker.
    expect((await teller.ask(req('0100', { pan: makePan('4'), amount: 100 })))['rc']).toBe('14');
    const page = parsePromText((await admin(stack.sw, 'GET', '/metrics')).text);
    expect(total(page, 'switchyard_messages_total')).toBe(0);
    expect(total(page, 'switchyard_request_duration_seconds_count')).toBe(0);
    expect(sampleValue(page, 'switchyard_connections', { role: 'acquirer' })).toBe(1);
    expect(stack.sw.stdout.some((line) => line.includes('per-message counting is off'))).toBe(true);
  });
});
