import { RC } from '../protocol/rc.js';

/**
 * Every metric family the switch exports besides Node's default process
 * metrics: its name, type, help and labels, and where each label's values
 * come from. The one list that the registry, the docs (docs/protocol.md
 * section 8, docs/operations.md), the dashboards' check and the Prometheus
 * test read, so a family cannot be added in one place and forgotten in
 * another.
 *
 * Every label is bounded: its values are a fixed list, the configured
 * workers, or the configured issuers. Every combination of them is exported
 * from start, at 0, so a panel or an alert about something that has not
 * happened yet still has a series. No PAN or other per-card value is ever a
 * label.
 */

/** Where a label's values come from. */
export type LabelValues =
  /** A fixed list, known at build time. */
  | { readonly kind: 'fixed'; readonly values: readonly string[] }
  /** The ledger owners: "0" to "<workers - 1>", on worker threads or (`ledger.inline`) on the main thread. */
  | { readonly kind: 'workers' }
  /** The threads whose event loops are watched: "main" and "ledger-<worker>" (none of those when inline). */
  | { readonly kind: 'threads' }
  /** The configured issuer institutions' ids. */
  | { readonly kind: 'issuers' };

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: Readonly<Record<string, LabelValues>>;
  /**
   * Where it comes from: docs/protocol.md section 8 as first written, a
   * contract change of a switchyard issue (marked there), or switchyard's own.
   */
  readonly contract: 'original' | 'issue-17' | 'issue-19' | 'own';
}

/** Response MTIs the switch writes to hosts (docs/protocol.md sections 2-3). */
export const RESPONSE_MTIS = ['0110', '0210', '0230', '0410', '0810', '0620'] as const;
/**
 * The `rc` label: every response code of section 3, and `none` for an
 * answer that carries no rc (none does today: the 0800 challenge and the
 * switch's own echoes are not answers, and are not counted).
 */
export const RC_LABELS = [...Object.values(RC), 'none'] as const;
export const CONNECTION_ROLES = ['acquirer', 'issuer', 'unauthenticated'] as const;
export const ISSUER_OUTCOMES = ['approved', 'declined', 'timeout', 'unavailable'] as const;
export const CLEARING_STATUSES = ['done', 'failed'] as const;
/** The parts /readyz checks (docs/protocol.md section 6). */
export const READY_CHECKS = ['listening', 'store', 'ledger', 'ledger_store'] as const;
/** Scheduled jobs whose passes are counted. */
export const JOBS = ['hold_expiry', 'record_sweep', 'journal_trim'] as const;

const fixed = (values: readonly string[]): LabelValues => ({ kind: 'fixed', values });
const WORKERS: LabelValues = { kind: 'workers' };
const ISSUERS: LabelValues = { kind: 'issuers' };
const THREADS: LabelValues = { kind: 'threads' };

export const METRIC_FAMILIES: readonly MetricFamily[] = [
  // docs/protocol.md section 8 as first written.
  {
    name: 'switchyard_messages_total',
    type: 'counter',
    help: 'Responses written, by response MTI and response code.',
    labels: { mti: fixed(RESPONSE_MTIS), rc: fixed(RC_LABELS) },
    contract: 'original',
  },
  {
    name: 'switchyard_request_duration_seconds',
    type: 'histogram',
    help: 'Frame received to response written, by response MTI.',
    labels: { mti: fixed(RESPONSE_MTIS) },
    contract: 'original',
  },
  {
    name: 'switchyard_connections',
    type: 'gauge',
    help: 'Open host connections by signed-on role.',
    labels: { role: fixed(CONNECTION_ROLES) },
    contract: 'original',
  },
  {
    name: 'switchyard_inflight_requests',
    type: 'gauge',
    help: 'Requests read from hosts and not yet answered.',
    labels: {},
    contract: 'original',
  },
  {
    name: 'switchyard_actor_mailbox_depth',
    type: 'gauge',
    help: 'Work items waiting in account actor mailboxes, per ledger worker.',
    labels: { worker: WORKERS },
    contract: 'original',
  },
  {
    name: 'switchyard_actors_active',
    type: 'gauge',
    help: 'Account actors in memory, per ledger worker.',
    labels: { worker: WORKERS },
    contract: 'original',
  },
  {
    name: 'switchyard_persist_batch_size',
    type: 'histogram',
    help: 'Work items per group commit.',
    labels: {},
    contract: 'original',
  },
  {
    name: 'switchyard_persist_duration_seconds',
    type: 'histogram',
    help: 'Group commit duration: the commit script sent to its reply, after the AOF fsync (the Redis commit duration).',
    labels: {},
    contract: 'original',
  },
  {
    name: 'switchyard_issuer_requests_total',
    type: 'counter',
    help: 'Forwards to issuers by what became of them: approved, declined, timeout, unavailable (no connection).',
    labels: { issuer: ISSUERS, outcome: fixed(ISSUER_OUTCOMES) },
    contract: 'original',
  },
  {
    name: 'switchyard_saf_queue_depth',
    type: 'gauge',
    help: 'Store-and-forward advices queued and not yet acknowledged, per issuer.',
    labels: { issuer: ISSUERS },
    contract: 'original',
  },
  {
    name: 'switchyard_clearing_cycles_total',
    type: 'counter',
    help: 'Clearing cycles whose job ended in this process: done (files written), failed (for good).',
    labels: { status: fixed(CLEARING_STATUSES) },
    contract: 'original',
  },
  // Issue 17.
  {
    name: 'switchyard_issuer_forwards_in_flight',
    type: 'gauge',
    help: 'Forwards with an issuer now, waiting for its answer or their timeout.',
    labels: {},
    contract: 'issue-17',
  },
  {
    name: 'switchyard_issuer_response_seconds',
    type: 'histogram',
    help: "Forward written to the issuer's answer read, answers that keep the contract only.",
    labels: { issuer: ISSUERS },
    contract: 'issue-17',
  },
  // Issue 19: what an SRE needs beyond section 8.
  {
    name: 'switchyard_event_loop_delay_seconds',
    type: 'histogram',
    help: "How late a thread's event loop ran a timer: the main thread and each ledger worker.",
    labels: { thread: THREADS },
    contract: 'issue-19',
  },
  {
    name: 'switchyard_ledger_commit_failures_total',
    type: 'counter',
    help: 'Group commits that failed or went unconfirmed (their work answered 96), per ledger worker.',
    labels: { worker: WORKERS },
    contract: 'issue-19',
  },
  {
    name: 'switchyard_ledger_worker_restarts_total',
    type: 'counter',
    help: 'Ledger workers that died and were started again (what they had in flight answered 96).',
    labels: { worker: WORKERS },
    contract: 'issue-19',
  },
  {
    name: 'switchyard_job_passes_total',
    type: 'counter',
    help: 'Passes of the scheduled jobs that ended in this process: hold expiry, record sweep, journal trim.',
    labels: { task: fixed(JOBS) },
    contract: 'issue-19',
  },
  {
    name: 'switchyard_clearing_job_duration_seconds',
    type: 'histogram',
    help: 'A clearing job run that ended in this process, started to done or failed.',
    labels: {},
    contract: 'issue-19',
  },
  {
    name: 'switchyard_clearing_lag_seconds',
    type: 'gauge',
    help: 'How long ago the oldest closed clearing cycle that is not done was cut (0: none waiting).',
    labels: {},
    contract: 'issue-19',
  },
  {
    name: 'switchyard_clearing_last_done_cycle',
    type: 'gauge',
    help: 'The highest clearing cycle number that is done (0: none yet).',
    labels: {},
    contract: 'issue-19',
  },
  {
    name: 'switchyard_redis_up',
    type: 'gauge',
    help: "1 when the switch's Redis answered INFO at this scrape, else 0 (the other switchyard_redis_* then keep their last values).",
    labels: {},
    contract: 'issue-19',
  },
  {
    name: 'switchyard_redis_memory_used_bytes',
    type: 'gauge',
    help: "Redis's used_memory.",
    labels: {},
    contract: 'issue-19',
  },
  {
    name: 'switchyard_redis_memory_max_bytes',
    type: 'gauge',
    help: "Redis's maxmemory (0: no limit but the machine's).",
    labels: {},
    contract: 'issue-19',
  },
  {
    name: 'switchyard_redis_aof_last_write_ok',
    type: 'gauge',
    help: "1 when Redis's last AOF write succeeded (aof_last_write_status ok), else 0: Redis then refuses writes.",
    labels: {},
    contract: 'issue-19',
  },
  // Stand-in is decided on the actor (a timeout or no connection, then the limits), so no other
  // family tells a stand-in approval from the issuer's: the issuers dashboard's stand-in share needs
  // this. Counted where the decision is made; a duplicate answered again from its record is not.
  {
    name: 'switchyard_issuer_stand_in_approvals_total',
    type: 'counter',
    help: "Forwards the switch approved by stand-in (no answer in time, or no connection, within the issuer's standIn limits), per issuer.",
    labels: { issuer: ISSUERS },
    contract: 'issue-19',
  },
  {
    name: 'switchyard_ready',
    type: 'gauge',
    help: 'What GET /readyz answers: 1 when a transaction would be processed, else 0.',
    labels: {},
    contract: 'issue-19',
  },
  {
    name: 'switchyard_ready_check',
    type: 'gauge',
    help: 'Each part /readyz checks: 1 ready, 0 not.',
    labels: { check: fixed(READY_CHECKS) },
    contract: 'issue-19',
  },
  // switchyard's own, from earlier issues (docs/ledger.md).
  {
    name: 'switchyard_ledger_evicted_keys',
    type: 'gauge',
    help: 'Keys of records evicted from actor memory that a ledger worker remembers (ledger.evictedKeysMax).',
    labels: { worker: WORKERS },
    contract: 'own',
  },
  {
    name: 'switchyard_ledger_record_reads_total',
    type: 'counter',
    help: 'Transaction records read back from Redis by a ledger worker (evicted from memory, or looked up past the evicted-key budget).',
    labels: { worker: WORKERS },
    contract: 'own',
  },
  {
    name: 'switchyard_ledger_sweep_accounts_total',
    type: 'counter',
    help: 'Account hashes the record sweep looked at (a full cycle is every account once).',
    labels: {},
    contract: 'own',
  },
  {
    name: 'switchyard_ledger_sweep_deleted_records_total',
    type: 'counter',
    help: 'Transaction records past the dedupe window the record sweep deleted from Redis.',
    labels: {},
    contract: 'own',
  },
  {
    name: 'switchyard_ledger_sweep_retries_total',
    type: 'counter',
    help: 'Accounts the record sweep could not sweep (worker unavailable); asked again next cycle.',
    labels: {},
    contract: 'own',
  },
  {
    name: 'switchyard_ledger_hold_expiry_asked_total',
    type: 'counter',
    help: 'Holds the hold expiry job asked their actors about (due by the journal, or filed in a bucket).',
    labels: {},
    contract: 'own',
  },
  {
    name: 'switchyard_ledger_hold_expiry_released_total',
    type: 'counter',
    help: 'Holds the hold expiry job released (journaled as expire).',
    labels: {},
    contract: 'own',
  },
  {
    name: 'switchyard_ledger_hold_expiry_retries_total',
    type: 'counter',
    help: 'Holds whose worker could not answer the hold expiry job; asked again on a later pass.',
    labels: {},
    contract: 'own',
  },
  {
    name: 'switchyard_ledger_hold_expiry_behind_seconds',
    type: 'gauge',
    help: 'After the last hold expiry pass: how long past due the oldest hold not yet asked about is (0: caught up).',
    labels: {},
    contract: 'own',
  },
];

/** The concrete values of each label for one running switch. */
export interface LabelUniverse {
  /** Ledger owners (the resolved `workers`): inline ones too, each its own series. */
  readonly workers: number;
  readonly inline: boolean;
  readonly issuers: readonly string[];
}

export function labelValues(source: LabelValues, universe: LabelUniverse): readonly string[] {
  switch (source.kind) {
    case 'fixed':
      return source.values;
    case 'workers':
      return Array.from({ length: universe.workers }, (_, i) => String(i));
    case 'threads':
      return universe.inline
        ? ['main']
        : ['main', ...Array.from({ length: universe.workers }, (_, i) => `ledger-${i}`)];
    case 'issuers':
      return universe.issuers;
  }
}

/** Every label set of `family` that exists from start: the product of its labels' values. */
export function labelSets(family: MetricFamily, universe: LabelUniverse): Record<string, string>[] {
  let sets: Record<string, string>[] = [{}];
  for (const [label, source] of Object.entries(family.labels)) {
    const values = labelValues(source, universe);
    sets = sets.flatMap((set) => values.map((value) => ({ ...set, [label]: value })));
  }
  return sets;
}

export function metricFamily(name: string): MetricFamily {
  const family = METRIC_FAMILIES.find((f) => f.name === name);
  if (family === undefined) throw new Error(`no metric family ${name} in the catalog`);
  return family;
}
