import { afterAll, describe, expect, it } from 'vitest';
import { BucketCounts, type BucketSnapshot } from '../../src/observability/bucket-counts.js';
import {
  BATCH_SIZE_BUCKETS,
  EVENT_LOOP_DELAY_BUCKETS_S,
  LATENCY_BUCKETS_S,
} from '../../src/observability/metric-buckets.js';
import type { LabelUniverse } from '../../src/observability/metric-catalog.js';
import {
  FAMILIES_REGISTERED_ELSEWHERE,
  type MetricsSources,
  type RedisInfo,
  SwitchMetrics,
} from '../../src/observability/switch-metrics.js';
import { catalogProblems } from '../helpers/catalog-series.js';
import { parsePromText, sampleValue } from '../helpers/prom-text.js';

const UNIVERSE: LabelUniverse = { workers: 2, inline: false, issuers: ['iss-a', 'iss-b'] };
const INFO: RedisInfo = { usedMemoryBytes: 1_500_000, maxMemoryBytes: 0, aofLastWriteOk: true };

function sources(overrides: Partial<MetricsSources> = {}): MetricsSources {
  return {
    connectionsByRole: () => ({ acquirer: 2, issuer: 0, unauthenticated: 1 }),
    inflightRequests: () => 7,
    issuerForwardsInFlight: () => 3,
    adviceQueueDepths: () => new Map([['iss-a', 4]]),
    redisInfo: async () => INFO,
    clearingProgress: async () => ({ lastDoneCycle: 12, lagMs: 2_500 }),
    ...overrides,
  };
}

const live: SwitchMetrics[] = [];
function metrics(
  s: MetricsSources = sources(),
  options: { universe?: LabelUniverse; hotPath?: boolean; freshMs?: number } = {},
): SwitchMetrics {
  const m = new SwitchMetrics(s, {
    universe: options.universe ?? UNIVERSE,
    ...(options.hotPath === undefined ? {} : { hotPath: options.hotPath }),
    scrapeReadDeadlineMs: 200,
    scrapeReadFreshMs: options.freshMs ?? 0,
  });
  live.push(m);
  return m;
}

async function page(m: SwitchMetrics) {
  return parsePromText((await m.render()).body);
}

function snapshot(bounds: readonly number[], values: readonly number[]): BucketSnapshot {
  const counts = new BucketCounts(bounds);
  for (const v of values) counts.observe(v);
  return counts.take();
}

const idleWorker = {
  actorsActive: 0,
  mailboxDepth: 0,
  evictedKeys: 0,
  recordReads: 0,
  commitFailures: 0,
  batchSize: snapshot(BATCH_SIZE_BUCKETS, []),
  commitSeconds: snapshot(LATENCY_BUCKETS_S, []),
  standInApprovals: [],
};

describe('SwitchMetrics: every catalog family from start', () => {
  const quiet = sources({
    connectionsByRole: () => ({ acquirer: 0, issuer: 0, unauthenticated: 0 }),
    inflightRequests: () => 0,
    issuerForwardsInFlight: () => 0,
    adviceQueueDepths: () => new Map(),
    redisInfo: () => Promise.reject(new Error('no Redis here')),
    clearingProgress: () => Promise.reject(new Error('no Redis here')),
  });

  it.each<[string, LabelUniverse]>([
    ['worker threads', UNIVERSE],
    ['inline owners', { workers: 2, inline: true, issuers: ['iss-a'] }],
    ['no issuers', { workers: 1, inline: false, issuers: [] }],
  ])('exports every label combination at 0, histograms with every bucket (%s)', async (_, universe) => {
    const m = metrics(quiet, { universe });
    // The main thread's event-loop sampler may have fired already: its counts are the one live value.
    const problems = catalogProblems(await page(m), universe, {
      skip: FAMILIES_REGISTERED_ELSEWHERE,
      value: (family, sample) =>
        family.name === 'switchyard_event_loop_delay_seconds' || sample.value === 0
          ? undefined
          : `${sample.value}, not 0`,
    });
    expect(problems).toEqual([]);
    m.close();
  });

  it('leaves out only the readiness families (GET /readyz registers them)', async () => {
    const names = [...(await page(metrics(quiet))).keys()].filter((n) => n.startsWith('switchyard_'));
    expect(names).not.toContain('switchyard_ready');
    expect(names).not.toContain('switchyard_ready_check');
    expect([...FAMILIES_REGISTERED_ELSEWHERE].sort()).toEqual(['switchyard_ready', 'switchyard_ready_check']);
  });
});

describe('SwitchMetrics: what each family counts', () => {
  it('counts responses by mti and rc, an answer without rc under "none"', async () => {
    const m = metrics();
    m.responseWritten('0210', '00', 0.001);
    m.responseWritten('0210', '00', 0.002);
    m.responseWritten('0210', '51', 0.002);
    m.responseWritten('0110', '00', 0.0001);
    m.responseWritten('0810', undefined, 0.0001);
    const p = await page(m);
    expect(sampleValue(p, 'switchyard_messages_total', { mti: '0210', rc: '00' })).toBe(2);
    expect(sampleValue(p, 'switchyard_messages_total', { mti: '0210', rc: '51' })).toBe(1);
    expect(sampleValue(p, 'switchyard_messages_total', { mti: '0110', rc: '00' })).toBe(1);
    expect(sampleValue(p, 'switchyard_messages_total', { mti: '0810', rc: 'none' })).toBe(1);
    const total = p.get('switchyard_messages_total')!.samples.reduce((sum, s) => sum + s.value, 0);
    expect(total).toBe(5);
  });

  it('exports the request duration histogram with cumulative buckets, sum and count per mti', async () => {
    const m = metrics();
    m.responseWritten('0210', '00', 0.00004); // <= 50 us
    m.responseWritten('0210', '00', 0.001); // exactly on the 1 ms bound: counted in le="0.001"
    m.responseWritten('0210', '00', 0.003);
    m.responseWritten('0210', '00', 20); // beyond the last bound: +Inf only
    const p = await page(m);
    const bucket = (le: string) =>
      sampleValue(p, 'switchyard_request_duration_seconds_bucket', { mti: '0210', le });
    expect([bucket('0.00005'), bucket('0.0005'), bucket('0.001'), bucket('0.005')]).toEqual([1, 1, 2, 3]);
    expect([bucket('10'), bucket('+Inf')]).toEqual([3, 4]);
    expect(sampleValue(p, 'switchyard_request_duration_seconds_count', { mti: '0210' })).toBe(4);
    expect(sampleValue(p, 'switchyard_request_duration_seconds_sum', { mti: '0210' })).toBeCloseTo(
      20.00404,
      9,
    );
    expect(sampleValue(p, 'switchyard_request_duration_seconds_count', { mti: '0110' })).toBe(0);
  });

  it('reads the gauges it does not record per message from their sources at scrape time', async () => {
    const p = await page(metrics());
    expect(sampleValue(p, 'switchyard_connections', { role: 'acquirer' })).toBe(2);
    expect(sampleValue(p, 'switchyard_connections', { role: 'unauthenticated' })).toBe(1);
    expect(sampleValue(p, 'switchyard_inflight_requests')).toBe(7);
    expect(sampleValue(p, 'switchyard_issuer_forwards_in_flight')).toBe(3);
    expect(sampleValue(p, 'switchyard_saf_queue_depth', { issuer: 'iss-a' })).toBe(4);
    expect(sampleValue(p, 'switchyard_saf_queue_depth', { issuer: 'iss-b' })).toBe(0);
    expect(sampleValue(p, 'switchyard_clearing_last_done_cycle')).toBe(12);
    expect(sampleValue(p, 'switchyard_clearing_lag_seconds')).toBe(2.5);
    expect(sampleValue(p, 'switchyard_redis_up')).toBe(1);
    expect(sampleValue(p, 'switchyard_redis_memory_used_bytes')).toBe(1_500_000);
    expect(sampleValue(p, 'switchyard_redis_memory_max_bytes')).toBe(0);
    expect(sampleValue(p, 'switchyard_redis_aof_last_write_ok')).toBe(1);
  });

  it('shows Redis down (up 0) and keeps the last memory and AOF values while it does not answer', async () => {
    let answer: () => Promise<RedisInfo> = async () => ({ ...INFO, aofLastWriteOk: false });
    const m = metrics(sources({ redisInfo: () => answer() }));
    let p = await page(m);
    expect(sampleValue(p, 'switchyard_redis_aof_last_write_ok')).toBe(0);
    answer = () => Promise.reject(new Error('connection refused'));
    p = await page(m);
    expect(sampleValue(p, 'switchyard_redis_up')).toBe(0);
    expect(sampleValue(p, 'switchyard_redis_memory_used_bytes')).toBe(1_500_000);
    // A Redis that never answers: the scrape answers after the deadline (200 ms here), up 0.
    answer = () => new Promise(() => {});
    const startedMs = performance.now();
    p = await page(m);
    expect(performance.now() - startedMs).toBeLessThan(10_000);
    expect(sampleValue(p, 'switchyard_redis_up')).toBe(0);
    expect(sampleValue(p, 'switchyard_redis_memory_used_bytes')).toBe(1_500_000);
  });

  it('reads Redis once per scrape for its four families, and not again while the reading is fresh', async () => {
    let reads = 0;
    const m = metrics(
      sources({
        redisInfo: async () => {
          reads++;
          return INFO;
        },
      }),
      { freshMs: 60_000 },
    );
    await m.render();
    await m.render();
    expect(reads).toBe(1);
  });

  it('adds up worker snapshots: gauges set, counters and histograms added, event loop per thread', async () => {
    const m = metrics();
    m.workerStats(0, {
      ...idleWorker,
      actorsActive: 12,
      mailboxDepth: 3,
      evictedKeys: 40,
      recordReads: 5,
      commitFailures: 1,
      batchSize: snapshot(BATCH_SIZE_BUCKETS, [64, 128]),
      commitSeconds: snapshot(LATENCY_BUCKETS_S, [0.002]),
      eventLoopDelay: snapshot(EVENT_LOOP_DELAY_BUCKETS_S, [0.0005, 0.3]),
      standInApprovals: [['iss-a', 2]],
    });
    m.workerStats(0, { ...idleWorker, actorsActive: 11, evictedKeys: 38, recordReads: 2, commitFailures: 2 });
    m.workerStats(1, {
      ...idleWorker,
      actorsActive: 4,
      batchSize: snapshot(BATCH_SIZE_BUCKETS, [1]),
      eventLoopDelay: snapshot(EVENT_LOOP_DELAY_BUCKETS_S, [0.002]),
      standInApprovals: [['iss-a', 1]],
    });
    m.workerRestarted(1);
    const p = await page(m);
    expect(sampleValue(p, 'switchyard_actors_active', { worker: '0' })).toBe(11);
    expect(sampleValue(p, 'switchyard_actors_active', { worker: '1' })).toBe(4);
    expect(sampleValue(p, 'switchyard_actor_mailbox_depth', { worker: '0' })).toBe(0);
    expect(sampleValue(p, 'switchyard_ledger_evicted_keys', { worker: '0' })).toBe(38);
    expect(sampleValue(p, 'switchyard_ledger_record_reads_total', { worker: '0' })).toBe(7);
    expect(sampleValue(p, 'switchyard_ledger_commit_failures_total', { worker: '0' })).toBe(3);
    expect(sampleValue(p, 'switchyard_ledger_commit_failures_total', { worker: '1' })).toBe(0);
    expect(sampleValue(p, 'switchyard_ledger_worker_restarts_total', { worker: '0' })).toBe(0);
    expect(sampleValue(p, 'switchyard_ledger_worker_restarts_total', { worker: '1' })).toBe(1);
    expect(sampleValue(p, 'switchyard_persist_batch_size_count')).toBe(3);
    expect(sampleValue(p, 'switchyard_persist_batch_size_bucket', { le: '1' })).toBe(1);
    expect(sampleValue(p, 'switchyard_persist_batch_size_bucket', { le: '64' })).toBe(2);
    expect(sampleValue(p, 'switchyard_persist_batch_size_sum')).toBe(193);
    expect(sampleValue(p, 'switchyard_persist_duration_seconds_count')).toBe(1);
    const loop = (thread: string, le: string) =>
      sampleValue(p, 'switchyard_event_loop_delay_seconds_bucket', { thread, le });
    expect([loop('ledger-0', '0.001'), loop('ledger-0', '0.25'), loop('ledger-0', '0.5')]).toEqual([1, 1, 2]);
    expect([loop('ledger-1', '0.001'), loop('ledger-1', '0.0025')]).toEqual([0, 1]);
    expect(sampleValue(p, 'switchyard_issuer_stand_in_approvals_total', { issuer: 'iss-a' })).toBe(3);
    expect(sampleValue(p, 'switchyard_issuer_stand_in_approvals_total', { issuer: 'iss-b' })).toBe(0);
  });

  it('counts job passes, with the record sweep and hold expiry figures of each pass', async () => {
    const m = metrics();
    m.recordSweepPass({ accounts: 500, deleted: 3, retries: 0 });
    m.recordSweepPass({ accounts: 120, deleted: 0, retries: 2 });
    m.holdExpiryPass({ asked: 300, released: 120, retries: 4, behindMs: 90_500 });
    m.holdExpiryPass({ asked: 50, released: 7, retries: 0, behindMs: 2_250 });
    m.journalTrimPass();
    const p = await page(m);
    expect(sampleValue(p, 'switchyard_job_passes_total', { task: 'record_sweep' })).toBe(2);
    expect(sampleValue(p, 'switchyard_job_passes_total', { task: 'hold_expiry' })).toBe(2);
    expect(sampleValue(p, 'switchyard_job_passes_total', { task: 'journal_trim' })).toBe(1);
    expect(sampleValue(p, 'switchyard_ledger_sweep_accounts_total')).toBe(620);
    expect(sampleValue(p, 'switchyard_ledger_sweep_deleted_records_total')).toBe(3);
    expect(sampleValue(p, 'switchyard_ledger_sweep_retries_total')).toBe(2);
    expect(sampleValue(p, 'switchyard_ledger_hold_expiry_asked_total')).toBe(350);
    expect(sampleValue(p, 'switchyard_ledger_hold_expiry_released_total')).toBe(127);
    expect(sampleValue(p, 'switchyard_ledger_hold_expiry_retries_total')).toBe(4);
    // The last pass's lag, not a sum.
    expect(sampleValue(p, 'switchyard_ledger_hold_expiry_behind_seconds')).toBe(2.25);
  });

  it('counts clearing cycles by status and observes each job run', async () => {
    const m = metrics();
    m.clearingCycle('done');
    m.clearingJobRan(0.4);
    m.clearingJobRan(75);
    const p = await page(m);
    expect(sampleValue(p, 'switchyard_clearing_cycles_total', { status: 'done' })).toBe(1);
    expect(sampleValue(p, 'switchyard_clearing_cycles_total', { status: 'failed' })).toBe(0);
    expect(sampleValue(p, 'switchyard_clearing_job_duration_seconds_count')).toBe(2);
    expect(sampleValue(p, 'switchyard_clearing_job_duration_seconds_bucket', { le: '0.5' })).toBe(1);
    expect(sampleValue(p, 'switchyard_clearing_job_duration_seconds_bucket', { le: '120' })).toBe(2);
  });

  it('counts forwards per issuer by outcome, and the answer time of the answered ones', async () => {
    const m = metrics();
    m.issuerRequest('iss-a', 'approved', 0.002);
    m.issuerRequest('iss-a', 'timeout');
    // An issuer added by a config reload after start gets its series on first use.
    m.issuerRequest('iss-new', 'declined', 0.001);
    const p = await page(m);
    expect(sampleValue(p, 'switchyard_issuer_requests_total', { issuer: 'iss-a', outcome: 'approved' })).toBe(
      1,
    );
    expect(sampleValue(p, 'switchyard_issuer_requests_total', { issuer: 'iss-a', outcome: 'timeout' })).toBe(
      1,
    );
    expect(sampleValue(p, 'switchyard_issuer_requests_total', { issuer: 'iss-b', outcome: 'timeout' })).toBe(
      0,
    );
    expect(
      sampleValue(p, 'switchyard_issuer_requests_total', { issuer: 'iss-new', outcome: 'declined' }),
    ).toBe(1);
    expect(sampleValue(p, 'switchyard_issuer_response_seconds_count', { issuer: 'iss-a' })).toBe(1);
    expect(sampleValue(p, 'switchyard_issuer_response_seconds_count', { issuer: 'iss-b' })).toBe(0);
  });

  it('with the hot path off (the paired benchmark), counts no response and no forward', async () => {
    const m = metrics(sources(), { hotPath: false });
    m.responseWritten('0210', '00', 0.001);
    m.issuerRequest('iss-a', 'approved', 0.002);
    const p = await page(m);
    expect(sampleValue(p, 'switchyard_messages_total', { mti: '0210', rc: '00' })).toBe(0);
    expect(sampleValue(p, 'switchyard_request_duration_seconds_count', { mti: '0210' })).toBe(0);
    expect(sampleValue(p, 'switchyard_issuer_requests_total', { issuer: 'iss-a', outcome: 'approved' })).toBe(
      0,
    );
  });
});

// Each SwitchMetrics runs the main thread's event-loop sampler (unref'd); stop them all the same.
afterAll(() => {
  for (const m of live) m.close();
});
