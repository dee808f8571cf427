import { collectDefaultMetrics, Registry } from 'prom-client';
import type { BucketSnapshot } from './bucket-counts.js';
import { EventLoopSampler } from './event-loop-sampler.js';
import { bucketsOf } from './metric-buckets.js';
import {
  type CLEARING_STATUSES,
  CONNECTION_ROLES,
  type JOBS,
  type LabelUniverse,
  METRIC_FAMILIES,
  metricFamily,
} from './metric-catalog.js';
import { type Cell, type Collect, HistogramFamily, ValueFamily } from './plain-families.js';
import { ScrapeRead } from './scrape-read.js';

/**
 * The switch's /metrics: every family of metric-catalog.ts (name, type, help
 * and labels read from it, every label combination present from start, at
 * 0), counted across the main thread and every ledger worker. All of them
 * are plain numbers (plain-families.ts): those recorded per message
 * (responses, forwards to issuers) cost a lookup and an addition; the ledger
 * workers count in their own threads and send the main thread a snapshot
 * every second (workerStats); gauges read their source at scrape time, the
 * store's within a deadline and cached (scrape-read.ts). No per-card value
 * is ever a label.
 */

export type ConnectionRoleLabel = (typeof CONNECTION_ROLES)[number];
/** What became of a forward (docs/protocol.md section 8's `outcome` label). */
export type IssuerRequestOutcome = 'approved' | 'declined' | 'timeout' | 'unavailable';
export type JobLabel = (typeof JOBS)[number];

/** Redis's INFO memory and persistence, as /metrics exports them. */
export interface RedisInfo {
  readonly usedMemoryBytes: number;
  /** 0: no limit. */
  readonly maxMemoryBytes: number;
  readonly aofLastWriteOk: boolean;
}

/** Where clearing stands, on the store's clock. */
export interface ClearingProgress {
  /** The highest cycle that is done (0: none yet). */
  readonly lastDoneCycle: number;
  /** How long ago the oldest closed cycle not yet done was cut (0: none waiting). */
  readonly lagMs: number;
}

export interface MetricsSources {
  connectionsByRole(): Readonly<Record<ConnectionRoleLabel, number>>;
  inflightRequests(): number;
  /** Forwards with an issuer now, waiting for its answer or their timeout. */
  issuerForwardsInFlight(): number;
  /** Advices queued and not yet acknowledged, per issuer (the deliveries this process runs). */
  adviceQueueDepths(): ReadonlyMap<string, number>;
  /** May be slow or fail (Redis away): read within a deadline, at most once per SCRAPE_READ_FRESH_MS. */
  redisInfo(): Promise<RedisInfo>;
  /** Likewise. */
  clearingProgress(): Promise<ClearingProgress>;
}

export interface MetricsOptions {
  /** The running switch's label values: its ledger owners and configured issuers. */
  readonly universe: LabelUniverse;
  /**
   * false: the per-message calls (responseWritten, issuerRequest) do
   * nothing. Only for the paired benchmark of their cost
   * (SWITCHYARD_BENCH_METRICS_HOT=off); never in production.
   */
  readonly hotPath?: boolean;
  /** Overrides for tests: the store reads' deadline and how long an outcome serves scrapes. */
  readonly scrapeReadDeadlineMs?: number;
  readonly scrapeReadFreshMs?: number;
}

/** What a ledger owner sends once a second (the runtime's stats message carries it). */
export interface WorkerStats {
  readonly actorsActive: number;
  readonly mailboxDepth: number;
  readonly evictedKeys: number;
  /** Since the last stats, as the next three. */
  readonly recordReads: number;
  readonly commitFailures: number;
  readonly batchSize: BucketSnapshot;
  readonly commitSeconds: BucketSnapshot;
  /** Forwards approved by stand-in (released), by issuer. */
  readonly standInApprovals: readonly (readonly [issuer: string, approvals: number])[];
  /** Its thread's event loop (absent for an inline owner: the main thread's is measured here). */
  readonly eventLoopDelay?: BucketSnapshot;
}

/** Families another part of the switch registers (the readiness gauges of GET /readyz). */
export const FAMILIES_REGISTERED_ELSEWHERE: ReadonlySet<string> = new Set([
  'switchyard_ready',
  'switchyard_ready_check',
]);

/** A worker's series, found once. */
interface WorkerCells {
  readonly actors: Cell;
  readonly mailbox: Cell;
  readonly evictedKeys: Cell;
  readonly recordReads: Cell;
  readonly commitFailures: Cell;
  readonly restarts: Cell;
}

export class SwitchMetrics {
  readonly registry = new Registry();
  private readonly messages: ValueFamily;
  private readonly duration: HistogramFamily;
  private readonly issuerRequests: ValueFamily;
  private readonly issuerResponse: HistogramFamily;
  private readonly standInApprovals: ValueFamily;
  private readonly batchSize: HistogramFamily;
  private readonly commitSeconds: HistogramFamily;
  private readonly eventLoop: HistogramFamily;
  private readonly clearingJob: HistogramFamily;
  private readonly clearingCycles: ValueFamily;
  private readonly jobPasses: ValueFamily;
  private readonly workers: WorkerCells[];
  private readonly worker: (id: number) => WorkerCells;
  private readonly sweep: { accounts: Cell; deleted: Cell; retries: Cell };
  private readonly holdExpiry: { asked: Cell; released: Cell; retries: Cell; behind: Cell };
  private readonly mainLoop: EventLoopSampler;

  constructor(sources: MetricsSources, options: MetricsOptions) {
    const { registry } = this;
    const universe = options.universe;
    collectDefaultMetrics({ register: registry });
    const value = (name: string, collect?: Collect): ValueFamily =>
      new ValueFamily(registry, metricFamily(name), universe, collect);
    const histogram = (name: string): HistogramFamily =>
      new HistogramFamily(registry, metricFamily(name), universe, bucketsOf(name));

    // Section 8 as first written.
    this.messages = value('switchyard_messages_total');
    this.duration = histogram('switchyard_request_duration_seconds');
    const connections = value('switchyard_connections', () => {
      const byRole = sources.connectionsByRole();
      for (const role of CONNECTION_ROLES) connections.cell(role).value = byRole[role];
    });
    const inflight = value('switchyard_inflight_requests', () => {
      inflight.cell().value = sources.inflightRequests();
    });
    const mailbox = value('switchyard_actor_mailbox_depth');
    const actors = value('switchyard_actors_active');
    this.batchSize = histogram('switchyard_persist_batch_size');
    this.commitSeconds = histogram('switchyard_persist_duration_seconds');
    this.issuerRequests = value('switchyard_issuer_requests_total');
    const saf = value('switchyard_saf_queue_depth', () => {
      for (const [issuer, depth] of sources.adviceQueueDepths()) saf.cell(issuer).value = depth;
    });
    this.clearingCycles = value('switchyard_clearing_cycles_total');
    // Issue 17.
    const forwards = value('switchyard_issuer_forwards_in_flight', () => {
      forwards.cell().value = sources.issuerForwardsInFlight();
    });
    this.issuerResponse = histogram('switchyard_issuer_response_seconds');
    // Issue 19.
    this.standInApprovals = value('switchyard_issuer_stand_in_approvals_total');
    this.eventLoop = histogram('switchyard_event_loop_delay_seconds');
    const commitFailures = value('switchyard_ledger_commit_failures_total');
    const restarts = value('switchyard_ledger_worker_restarts_total');
    this.jobPasses = value('switchyard_job_passes_total');
    this.clearingJob = histogram('switchyard_clearing_job_duration_seconds');
    const readOptions = [options.scrapeReadDeadlineMs, options.scrapeReadFreshMs] as const;
    const clearingRead = new ScrapeRead(() => sources.clearingProgress(), ...readOptions);
    const clearingLag = value('switchyard_clearing_lag_seconds', async () => {
      const { value: progress } = await clearingRead.current();
      if (progress !== undefined) clearingLag.cell().value = progress.lagMs / 1_000;
    });
    const lastDone = value('switchyard_clearing_last_done_cycle', async () => {
      const { value: progress } = await clearingRead.current();
      if (progress !== undefined) lastDone.cell().value = progress.lastDoneCycle;
    });
    const redisRead = new ScrapeRead(() => sources.redisInfo(), ...readOptions);
    const redisUp = value('switchyard_redis_up', async () => {
      redisUp.cell().value = (await redisRead.current()).ok ? 1 : 0;
    });
    // Each keeps its last value while Redis does not answer.
    const redisGauge = (name: string, of: (info: RedisInfo) => number): void => {
      const family = value(name, async () => {
        const { value: info } = await redisRead.current();
        if (info !== undefined) family.cell().value = of(info);
      });
    };
    redisGauge('switchyard_redis_memory_used_bytes', (info) => info.usedMemoryBytes);
    redisGauge('switchyard_redis_memory_max_bytes', (info) => info.maxMemoryBytes);
    redisGauge('switchyard_redis_aof_last_write_ok', (info) => (info.aofLastWriteOk ? 1 : 0));
    // switchyard's own, from earlier issues (docs/ledger.md).
    const evictedKeys = value('switchyard_ledger_evicted_keys');
    const recordReads = value('switchyard_ledger_record_reads_total');
    this.sweep = {
      accounts: value('switchyard_ledger_sweep_accounts_total').cell(),
      deleted: value('switchyard_ledger_sweep_deleted_records_total').cell(),
      retries: value('switchyard_ledger_sweep_retries_total').cell(),
    };
    this.holdExpiry = {
      asked: value('switchyard_ledger_hold_expiry_asked_total').cell(),
      released: value('switchyard_ledger_hold_expiry_released_total').cell(),
      retries: value('switchyard_ledger_hold_expiry_retries_total').cell(),
      behind: value('switchyard_ledger_hold_expiry_behind_seconds').cell(),
    };

    for (const family of METRIC_FAMILIES) {
      if (FAMILIES_REGISTERED_ELSEWHERE.has(family.name)) continue;
      if (registry.getSingleMetric(family.name) === undefined)
        throw new Error(`metric family ${family.name} of the catalog has no source in SwitchMetrics`);
    }

    this.worker = (id) => {
      const worker = String(id);
      return {
        actors: actors.cell(worker),
        mailbox: mailbox.cell(worker),
        evictedKeys: evictedKeys.cell(worker),
        recordReads: recordReads.cell(worker),
        commitFailures: commitFailures.cell(worker),
        restarts: restarts.cell(worker),
      };
    };
    this.workers = Array.from({ length: universe.workers }, (_, id) => this.worker(id));
    this.mainLoop = new EventLoopSampler(this.eventLoop.of('main'));
    this.mainLoop.start();

    if (options.hotPath === false) {
      // The paired benchmark's other arm: the same build without the per-message calls.
      this.responseWritten = () => {};
      this.issuerRequest = () => {};
    }
  }

  /** One response written: counts it and observes its latency (frame received to response written). */
  responseWritten(mti: string, rc: string | undefined, durationSeconds: number): void {
    // An answer without an rc counts under "none" (none is written today: the 0800 challenge and echo are not answers).
    this.messages.cell(mti, rc ?? 'none').value++;
    this.duration.of(mti).observe(durationSeconds);
  }

  /** A forward ended: `seconds` from sending to the answer, for answered ones. */
  issuerRequest(issuer: string, outcome: IssuerRequestOutcome, seconds?: number): void {
    this.issuerRequests.cell(issuer, outcome).value++;
    if (seconds !== undefined) this.issuerResponse.of(issuer).observe(seconds);
  }

  /** A ledger worker's snapshot (inline owners send theirs the same way). */
  workerStats(workerId: number, stats: WorkerStats): void {
    const w = this.workerCells(workerId);
    w.actors.value = stats.actorsActive;
    w.mailbox.value = stats.mailboxDepth;
    w.evictedKeys.value = stats.evictedKeys;
    w.recordReads.value += stats.recordReads;
    w.commitFailures.value += stats.commitFailures;
    this.batchSize.of().add(stats.batchSize);
    this.commitSeconds.of().add(stats.commitSeconds);
    // Worker threads only: an inline owner runs on the main thread, whose sampler is here.
    for (const [issuer, approvals] of stats.standInApprovals)
      this.standInApprovals.cell(issuer).value += approvals;
    if (stats.eventLoopDelay !== undefined) this.eventLoop.of(`ledger-${workerId}`).add(stats.eventLoopDelay);
  }

  /** A ledger worker died and is being started again. */
  workerRestarted(workerId: number): void {
    this.workerCells(workerId).restarts.value++;
  }

  /** One pass of the record sweep. */
  recordSweepPass(pass: { accounts: number; deleted: number; retries: number }): void {
    this.sweep.accounts.value += pass.accounts;
    this.sweep.deleted.value += pass.deleted;
    this.sweep.retries.value += pass.retries;
    this.jobPass('record_sweep');
  }

  /** One pass of the hold expiry job. */
  holdExpiryPass(pass: { asked: number; released: number; retries: number; behindMs: number }): void {
    this.holdExpiry.asked.value += pass.asked;
    this.holdExpiry.released.value += pass.released;
    this.holdExpiry.retries.value += pass.retries;
    this.holdExpiry.behind.value = pass.behindMs / 1_000;
    this.jobPass('hold_expiry');
  }

  /** One pass of the journal trim. */
  journalTrimPass(): void {
    this.jobPass('journal_trim');
  }

  /** A clearing cycle's job ended for good. */
  clearingCycle(status: (typeof CLEARING_STATUSES)[number]): void {
    this.clearingCycles.cell(status).value++;
  }

  /** A clearing job run (an attempt) ended, done or failed, after `seconds`. */
  clearingJobRan(seconds: number): void {
    this.clearingJob.of().observe(seconds);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Stops the main thread's event-loop sampler. */
  close(): void {
    this.mainLoop.stop();
  }

  private jobPass(job: JobLabel): void {
    this.jobPasses.cell(job).value++;
  }

  private workerCells(workerId: number): WorkerCells {
    // A worker beyond the universe (none today) still gets its series.
    let cells = this.workers[workerId];
    if (cells === undefined) {
      cells = this.worker(workerId);
      this.workers[workerId] = cells;
    }
    return cells;
  }
}
