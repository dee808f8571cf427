import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { HotCounter2, HotHistogram1 } from './hot-metrics.js';

/**
 * The metrics of docs/protocol.md section 8 that the main thread owns. Those
 * recorded per message (responses, and forwards to issuers) are hot-metrics.ts
 * counters and histograms (one Map lookup and a few additions, no label
 * hashing); the rest are prom-client's. No per-card value is ever a label.
 */

export type ConnectionRoleLabel = 'acquirer' | 'issuer' | 'unauthenticated';

export interface MetricsSources {
  connectionsByRole(): Readonly<Record<ConnectionRoleLabel, number>>;
  inflightRequests(): number;
  /** Forwards with an issuer now, waiting for its answer or their timeout. */
  issuerForwardsInFlight(): number;
  /** The configured issuer institutions: their series exist from start, at 0. */
  issuers(): readonly string[];
  /** Advices queued and not yet acknowledged, per issuer (the deliveries this process runs). */
  adviceQueueDepths(): ReadonlyMap<string, number>;
}

/** What became of a forward (docs/protocol.md section 8's `outcome` label). */
export type IssuerRequestOutcome = 'approved' | 'declined' | 'timeout' | 'unavailable';
const ISSUER_OUTCOMES: readonly IssuerRequestOutcome[] = ['approved', 'declined', 'timeout', 'unavailable'];

// Seconds; from 50 us (an in-memory answer) to 10 s (well past any issuer timeout).
const DURATION_BUCKETS_S = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export class SwitchMetrics {
  readonly registry = new Registry();
  private readonly messages: HotCounter2;
  private readonly duration: HotHistogram1;
  private readonly mailboxDepth: Gauge<'worker'>;
  private readonly actorsActive: Gauge<'worker'>;
  private readonly evictedKeys: Gauge<'worker'>;
  private readonly recordReads: Counter<'worker'>;
  private readonly sweptAccounts: Counter;
  private readonly sweptRecords: Counter;
  private readonly sweepRetries: Counter;
  private readonly holdsAsked: Counter;
  private readonly holdsReleased: Counter;
  private readonly holdRetries: Counter;
  private readonly holdExpiryBehind: Gauge;
  private readonly persistBatchSize: Histogram;
  private readonly persistDuration: Histogram;
  private readonly clearingCycles: Counter<'status'>;
  private readonly issuerRequests: HotCounter2;
  private readonly issuerResponse: HotHistogram1;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.messages = new HotCounter2(
      this.registry,
      'switchyard_messages_total',
      'Responses written, by response MTI and response code.',
      ['mti', 'rc'],
    );
    this.duration = new HotHistogram1(
      this.registry,
      'switchyard_request_duration_seconds',
      'Frame received to response written, by response MTI.',
      'mti',
      DURATION_BUCKETS_S,
    );
    new Gauge({
      name: 'switchyard_connections',
      help: 'Open host connections by signed-on role.',
      labelNames: ['role'],
      registers,
      collect() {
        const byRole = sources.connectionsByRole();
        for (const role of Object.keys(byRole) as ConnectionRoleLabel[]) this.set({ role }, byRole[role]);
      },
    });
    this.mailboxDepth = new Gauge({
      name: 'switchyard_actor_mailbox_depth',
      help: 'Work items waiting in account actor mailboxes (accounts loading from Redis), per ledger worker.',
      labelNames: ['worker'],
      registers,
    });
    this.actorsActive = new Gauge({
      name: 'switchyard_actors_active',
      help: 'Account actors in memory, per ledger worker.',
      labelNames: ['worker'],
      registers,
    });
    // Not in docs/protocol.md section 8 (switchyard's own): the evicted-key budget (ledger.evictedKeysMax)
    // and what running past it costs, record reads from Redis.
    this.evictedKeys = new Gauge({
      name: 'switchyard_ledger_evicted_keys',
      help: 'Keys of records evicted from actor memory that a ledger worker remembers (ledger.evictedKeysMax).',
      labelNames: ['worker'],
      registers,
    });
    this.recordReads = new Counter({
      name: 'switchyard_ledger_record_reads_total',
      help: 'Transaction records read back from Redis by a ledger worker (evicted from memory, or looked up past the evicted-key budget).',
      labelNames: ['worker'],
      registers,
    });
    // switchyard's own too: the record sweep (docs/ledger.md), so that an SRE can see it keep up.
    this.sweptAccounts = new Counter({
      name: 'switchyard_ledger_sweep_accounts_total',
      help: 'Account hashes the record sweep looked at (a full cycle is every account once).',
      registers,
    });
    this.sweptRecords = new Counter({
      name: 'switchyard_ledger_sweep_deleted_records_total',
      help: 'Transaction records past the dedupe window the record sweep deleted from Redis.',
      registers,
    });
    this.sweepRetries = new Counter({
      name: 'switchyard_ledger_sweep_retries_total',
      help: 'Accounts the record sweep could not sweep (worker unavailable); asked again next cycle.',
      registers,
    });
    // And hold expiry's (docs/ledger.md): how much it does, and whether it keeps up.
    this.holdsAsked = new Counter({
      name: 'switchyard_ledger_hold_expiry_asked_total',
      help: 'Holds the hold expiry job asked their actors about (due by the journal, or filed in a bucket).',
      registers,
    });
    this.holdsReleased = new Counter({
      name: 'switchyard_ledger_hold_expiry_released_total',
      help: 'Holds the hold expiry job released (journaled as expire).',
      registers,
    });
    this.holdRetries = new Counter({
      name: 'switchyard_ledger_hold_expiry_retries_total',
      help: 'Holds whose worker could not answer the hold expiry job; asked again on a later pass.',
      registers,
    });
    this.holdExpiryBehind = new Gauge({
      name: 'switchyard_ledger_hold_expiry_behind_seconds',
      help: 'After the last hold expiry pass: how long past due the oldest hold not yet asked about is (0: caught up).',
      registers,
    });
    this.persistBatchSize = new Histogram({
      name: 'switchyard_persist_batch_size',
      help: 'Work items per group commit.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
      registers,
    });
    this.persistDuration = new Histogram({
      name: 'switchyard_persist_duration_seconds',
      help: 'Group commit duration: script call sent to reply (after the AOF fsync).',
      buckets: DURATION_BUCKETS_S,
      registers,
    });
    this.issuerRequests = new HotCounter2(
      this.registry,
      'switchyard_issuer_requests_total',
      'Forwards to issuers by what became of them: approved, declined, timeout, unavailable (no connection).',
      ['issuer', 'outcome'],
    );
    this.clearingCycles = new Counter({
      name: 'switchyard_clearing_cycles_total',
      help: 'Clearing cycles whose job ended in this process: done (files written), failed (for good).',
      labelNames: ['status'],
      registers,
    });
    for (const status of ['done', 'failed']) this.clearingCycles.labels(status).inc(0);
    this.issuerResponse = new HotHistogram1(
      this.registry,
      'switchyard_issuer_response_seconds',
      "Forward written to the issuer's answer read, answers that keep the contract only.",
      'issuer',
      DURATION_BUCKETS_S,
    );
    // The histogram's series appear with the first answer, as prom-client's did.
    for (const issuer of sources.issuers())
      for (const outcome of ISSUER_OUTCOMES) this.issuerRequests.inc(issuer, outcome, 0);
    new Gauge({
      name: 'switchyard_saf_queue_depth',
      help: 'Store-and-forward advices queued and not yet acknowledged, per issuer.',
      labelNames: ['issuer'],
      registers,
      collect() {
        for (const [issuer, depth] of sources.adviceQueueDepths()) this.labels(issuer).set(depth);
      },
    });
    new Gauge({
      name: 'switchyard_issuer_forwards_in_flight',
      help: 'Forwards with an issuer now, waiting for its answer or their timeout.',
      registers,
      collect() {
        this.set(sources.issuerForwardsInFlight());
      },
    });
    new Gauge({
      name: 'switchyard_inflight_requests',
      help: 'Requests read from hosts and not yet answered.',
      registers,
      collect() {
        this.set(sources.inflightRequests());
      },
    });
  }

  /** A ledger worker's periodic snapshot (workers keep plain counters; prom-client lives here). */
  workerStats(
    workerId: number,
    stats: {
      actorsActive: number;
      mailboxDepth: number;
      evictedKeys: number;
      recordReads: number;
      batchSize: readonly number[];
      commitSeconds: readonly number[];
    },
  ): void {
    const worker = String(workerId);
    this.actorsActive.set({ worker }, stats.actorsActive);
    this.mailboxDepth.set({ worker }, stats.mailboxDepth);
    this.evictedKeys.set({ worker }, stats.evictedKeys);
    this.recordReads.inc({ worker }, stats.recordReads);
    for (const size of stats.batchSize) this.persistBatchSize.observe(size);
    for (const seconds of stats.commitSeconds) this.persistDuration.observe(seconds);
  }

  /** One pass of the record sweep. */
  recordSweepPass(pass: { accounts: number; deleted: number; retries: number }): void {
    this.sweptAccounts.inc(pass.accounts);
    this.sweptRecords.inc(pass.deleted);
    this.sweepRetries.inc(pass.retries);
  }

  /** One pass of the hold expiry job. */
  holdExpiryPass(pass: { asked: number; released: number; retries: number; behindMs: number }): void {
    this.holdsAsked.inc(pass.asked);
    this.holdsReleased.inc(pass.released);
    this.holdRetries.inc(pass.retries);
    this.holdExpiryBehind.set(pass.behindMs / 1_000);
  }

  /** One response written: counts it and, for requests, observes its latency. */
  /** A forward ended: `seconds` from sending to the answer, for answered ones. */
  clearingCycle(status: 'done' | 'failed'): void {
    this.clearingCycles.labels(status).inc();
  }

  issuerRequest(issuer: string, outcome: IssuerRequestOutcome, seconds?: number): void {
    this.issuerRequests.inc(issuer, outcome);
    if (seconds !== undefined) this.issuerResponse.observe(issuer, seconds);
  }

  responseWritten(mti: string, rc: string, durationSeconds: number): void {
    this.messages.inc(mti, rc);
    this.duration.observe(mti, durationSeconds);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
