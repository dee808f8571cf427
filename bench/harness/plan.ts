import type { IssuerAnswering } from '../procs/issuer-run.js';
import type { SimLoad } from '../procs/sim-run.js';
import { ISSUER_PREFIX } from '../procs/switch-proc.js';
import type { FsyncMode } from './redis.js';

/**
 * What `npm run bench` runs (full) and `npm run bench:quick` runs: the same
 * scenarios, shorter and once each in the quick run.
 */

export type RunKind = 'full' | 'quick';

/** One measured load against one target. */
export interface Scenario {
  /** Overrides the plan's repeat count for this scenario. */
  readonly repeats?: number;
  /** Stable id: results and ratios refer to it. */
  readonly id: string;
  readonly title: string;
  readonly load: SimLoad;
  /** The echo scenario with the same load shape: this scenario's throughput (or latency) ceiling. */
  readonly ceiling?: string;
  /** Plotted on the throughput-by-batch chart. */
  readonly sweep?: boolean;
  /**
   * Issuer routing: the load's PANs are routed to the bench issuer, answered
   * by `switchyard sim issuer` (its own process, started for each run and
   * warm-up) as said here, or `away`: configured and never signed on, so the
   * switch approves by stand-in. Undefined: on-us.
   */
  readonly issuer?: IssuerAnswering | 'away';
  /** The on-us switch scenario of the same run this one's approvals/s is divided by. */
  readonly baseline?: string;
}

/** Scenarios that share one fresh switch (and its fresh Redis), seeded once, warmed once. */
export interface SwitchFamily {
  readonly id: string;
  readonly fsync: FsyncMode;
  /** Accounts seeded before the runs; the simulator's --pans. */
  readonly accounts: number;
  /** Switch config overrides for this family (say, the inline ledger); none = what the project ships. */
  readonly switchConfig?: Readonly<Record<string, unknown>>;
  readonly scenarios: readonly Scenario[];
}

/**
 * Issue 18's clearing rows (bench/scenarios/clearing-*.ts): one cycle of
 * `items` cleared items cleared by a standalone worker, and the same size
 * cleared in the switch while it serves an open-loop load.
 */
export interface ClearingPlan {
  /** Cleared items planted into the journal for each row's cycle. */
  readonly items: number;
  /** Journal records per stream entry (the planted journal's shape). */
  readonly recordsPerEntry: number;
  /** Each clearing row runs this many times, each on a fresh Redis and switch. */
  readonly repeats: number;
  /** Accounts of the live-load row's switch (the simulator's --pans). */
  readonly accounts: number;
  /** The closed-loop run (TCP b64) whose approvals/s the live-load row's rate is half of. */
  readonly capacityLoad: SimLoad;
  /** Each of the live-load row's two open-loop runs: long enough for the clearing to fall inside it. */
  readonly openS: number;
}

/**
 * Issue 20's latency table: the switch (default configuration, its own
 * Redis) and the floor server (echo-server.ts with one fsync'd write per
 * turn, its own Redis) under the same open-loop load, interleaved: each
 * pair runs every rate on both, the pair's first side alternating.
 */
export interface LatencyPlan {
  /** Offered requests/s, in the order they run. */
  readonly rates: readonly number[];
  /** Each measured run. */
  readonly measureS: number;
  /** One discarded run on each side first, at the highest rate (JIT, every account active). */
  readonly warmupS: number;
  /** Runs of each side at each rate. */
  readonly pairs: number;
  /** Accounts seeded in the switch; the simulator's --pans. */
  readonly accounts: number;
}

export interface Plan {
  readonly kind: RunKind;
  /** Each micro-benchmark's measuring time. */
  readonly microMs: number;
  /** Each Redis ceiling's measuring time. */
  readonly redisMs: number;
  /** Each end-to-end scenario runs this many times (median and range reported). */
  readonly repeats: number;
  /**
   * Full run: every repeat gets a fresh Redis and switch (seeded, warmed), so
   * repeats start from the same state and differ only by machine noise; the
   * records, holds and AOF a run leaves behind (and the AOF rewrites they
   * trigger) would otherwise slow each following run. Quick run: one switch per
   * family for all its scenarios.
   */
  readonly freshPerRepeat: boolean;
  /** A discarded closed-loop run on each fresh switch first (JIT, account activation), seconds; 0 = none. */
  readonly warmupS: number;
  /** Open-loop rates the latency chart is drawn over (requests/s offered). */
  readonly openRates: readonly number[];
  readonly echo: readonly Scenario[];
  readonly echoRepeats: number;
  readonly families: readonly SwitchFamily[];
  readonly clearing: ClearingPlan;
  readonly latency: LatencyPlan;
}

/** Accounts in most families; the "100k" family seeds 100,000. */
const ACCOUNTS = 10_000;
const ACCOUNTS_LARGE = 100_000;
/** Messages in flight in every closed-loop shape: 4 connections x 1,024, or 64 x 64. */
const INFLIGHT_PER_CONNECTION_FEW = 1_024;
const INFLIGHT_PER_CONNECTION_MANY = 64;
const BATCH_SIZES = [1, 4, 16, 64, 256] as const;
const BATCH_SIZES_QUICK = [1, 64] as const;

function closed(durationS: number, pans: number, shape: Omit<SimLoad, 'durationS' | 'pans'>): SimLoad {
  return { ...shape, durationS, pans };
}

/** TCP, 4 connections, `batch` messages per frame (--no-coalesce: exactly that), 4,096 in flight. */
function tcpBatch(batch: number): Omit<SimLoad, 'durationS' | 'pans'> {
  return { transport: 'tcp', connections: 4, batch, inflight: INFLIGHT_PER_CONNECTION_FEW, coalesce: false };
}

const TCP_ONE_PER_FRAME_MANY: Omit<SimLoad, 'durationS' | 'pans'> = {
  transport: 'tcp',
  connections: 64,
  batch: 1,
  inflight: INFLIGHT_PER_CONNECTION_MANY,
  coalesce: false,
};

const WS_BATCH_64: Omit<SimLoad, 'durationS' | 'pans'> = {
  transport: 'ws',
  connections: 4,
  batch: 64,
  inflight: INFLIGHT_PER_CONNECTION_FEW,
  coalesce: false,
};

/**
 * Open loop: 4 connections, one request per call, coalesced per turn as the
 * SDK does by default, an in-flight cap far above what the rate needs (a
 * stalled switch delays the schedule's requests; their latency counts from
 * the schedule).
 */
export function openLoop(ratePerS: number, durationS: number, pans: number): SimLoad {
  return {
    transport: 'tcp',
    connections: 4,
    batch: 1,
    inflight: 65_536,
    coalesce: true,
    ratePerS,
    durationS,
    pans,
  };
}

/** The same load with PANs the bench switch routes to its issuer. */
function toIssuer(load: SimLoad): SimLoad {
  return { ...load, prefix: ISSUER_PREFIX };
}

/** One issuer connection, as the README's demo runs `sim issuer`. */
const ISSUER_AT_ONCE: IssuerAnswering = { connections: 1, latencyMs: 0 };
const ISSUER_IN_1_MS: IssuerAnswering = { connections: 1, latencyMs: 1 };
const ISSUER_OPEN_RATE = 10_000;

function batchTitle(batch: number): string {
  return `TCP, ${batch} msg${batch === 1 ? '' : 's'}/frame, 4 conns`;
}

export function makePlan(kind: RunKind): Plan {
  const quick = kind === 'quick';
  const closedS = quick ? 1.5 : 5;
  const openS = quick ? 2 : 8;
  const batches = quick ? BATCH_SIZES_QUICK : BATCH_SIZES;
  const openRates = quick ? [5_000, 20_000] : [5_000, 10_000, 20_000, 40_000];

  const echo: Scenario[] = [
    ...batches.map((batch) => ({
      id: `echo-tcp-b${batch}`,
      title: `echo: ${batchTitle(batch)}`,
      load: closed(closedS, ACCOUNTS, tcpBatch(batch)),
      sweep: true,
    })),
    {
      id: 'echo-tcp-b1-c64',
      title: 'echo: TCP, 1 msg/frame, 64 conns',
      load: closed(closedS, ACCOUNTS, TCP_ONE_PER_FRAME_MANY),
    },
    {
      id: 'echo-ws-b64',
      title: 'echo: WS, 64 msgs/frame, 4 conns',
      load: closed(closedS, ACCOUNTS, WS_BATCH_64),
    },
    // Once each: the generator's own latency floor at that rate, for reference.
    ...openRates.map((rate) => ({
      id: `echo-open-${rate}`,
      title: `echo: open loop ${rate.toLocaleString('en-US')}/s`,
      load: openLoop(rate, openS, ACCOUNTS),
      repeats: 1,
    })),
  ];

  const sweep: Scenario[] = batches.map((batch) => ({
    id: `tcp-b${batch}`,
    title: batchTitle(batch),
    load: closed(closedS, ACCOUNTS, tcpBatch(batch)),
    ceiling: `echo-tcp-b${batch}`,
    sweep: true,
  }));
  const b64 = tcpBatch(64);
  const manyConnections: Scenario = {
    id: 'tcp-b1-c64',
    title: 'TCP, 1 msg/frame, 64 conns',
    load: closed(closedS, ACCOUNTS, TCP_ONE_PER_FRAME_MANY),
    ceiling: 'echo-tcp-b1-c64',
  };
  const ws: Scenario = {
    id: 'ws-b64',
    title: 'WS, 64 msgs/frame, 4 conns',
    load: closed(closedS, ACCOUNTS, WS_BATCH_64),
    ceiling: 'echo-ws-b64',
  };
  const skew: Scenario = {
    id: 'skew-b64',
    title: 'skewed: 1% of accounts get 50%, TCP b64',
    load: { ...closed(closedS, ACCOUNTS, b64), skew: 0.5 },
    ceiling: 'echo-tcp-b64',
  };
  const everysec: Scenario = {
    id: 'everysec-b64',
    title: 'fsync everysec, TCP b64',
    load: closed(closedS, ACCOUNTS, b64),
    ceiling: 'echo-tcp-b64',
  };
  const large: Scenario = {
    id: '100k-b64',
    title: '100,000 accounts, TCP b64',
    load: closed(closedS, ACCOUNTS_LARGE, b64),
    ceiling: 'echo-tcp-b64',
  };
  const open: Scenario[] = openRates.map((rate) => ({
    id: `open-${rate}`,
    title: `open loop ${rate.toLocaleString('en-US')}/s, TCP, 4 conns`,
    load: openLoop(rate, openS, ACCOUNTS),
    ceiling: `echo-open-${rate}`,
  }));

  // Issuer routing (docs/issuers.md): each request crosses the switch twice, and the issuer simulator shares the
  // cores. Closed loop against the on-us b64 row of the same run; open loop with a fixed 1 ms answer, so the
  // switch's share of the latency is the acquirer's minus what the issuer measured; stand-in with the issuer away.
  const issuer: Scenario[] = [
    {
      id: 'issuer-b64',
      title: 'issuer-routed, TCP b64, issuer answers at once',
      load: toIssuer(closed(closedS, ACCOUNTS, b64)),
      issuer: ISSUER_AT_ONCE,
      baseline: 'tcp-b64',
      ceiling: 'echo-tcp-b64',
    },
    {
      id: `issuer-open-${ISSUER_OPEN_RATE}`,
      title: `issuer-routed, open loop ${ISSUER_OPEN_RATE.toLocaleString('en-US')}/s, issuer answers in 1 ms`,
      load: toIssuer(openLoop(ISSUER_OPEN_RATE, openS, ACCOUNTS)),
      issuer: ISSUER_IN_1_MS,
      ceiling: `echo-open-${ISSUER_OPEN_RATE}`,
    },
    {
      id: 'standin-b64',
      title: 'stand-in (issuer away), TCP b64',
      load: toIssuer(closed(closedS, ACCOUNTS, b64)),
      issuer: 'away',
      baseline: 'tcp-b64',
      ceiling: 'echo-tcp-b64',
    },
  ];

  // The same loads with the ledger inline on the main thread (ledger.inline, one owner): no thread
  // hand-off (lower latency at moderate load), one thread for everything (a lower ceiling).
  const INLINE = { workers: 1, ledger: { inline: true } };
  const inline: Scenario[] = [
    {
      id: 'inline-b64',
      title: 'inline ledger, TCP b64',
      load: closed(closedS, ACCOUNTS, b64),
      ceiling: 'echo-tcp-b64',
    },
    {
      id: 'inline-b1-c64',
      title: 'inline ledger, TCP, 1 msg/frame, 64 conns',
      load: closed(closedS, ACCOUNTS, TCP_ONE_PER_FRAME_MANY),
      ceiling: 'echo-tcp-b1-c64',
    },
    {
      id: 'inline-open-20000',
      title: 'inline ledger, open loop 20,000/s, TCP, 4 conns',
      load: openLoop(20_000, openS, ACCOUNTS),
      ceiling: 'echo-open-20000',
    },
  ];
  const always = (id: string, scenarios: Scenario[], accounts = ACCOUNTS): SwitchFamily => ({
    id,
    fsync: 'always',
    accounts,
    scenarios,
  });
  const alwaysInline = (id: string, scenarios: Scenario[]): SwitchFamily => ({
    ...always(id, scenarios),
    switchConfig: INLINE,
  });
  // Quick: one switch per durability mode and account count (starting switches is most of its time), the
  // issuer rows last (stand-in last of all: the advices it queues would go to the issuer of a later row).
  // Full: a family per scenario, and a fresh switch for each of its repeats (see Plan.freshPerRepeat).
  const families: SwitchFamily[] = quick
    ? [
        always('always', [...sweep, manyConnections, ws, skew, ...open, ...issuer]),
        { id: 'everysec', fsync: 'everysec', accounts: ACCOUNTS, scenarios: [everysec] },
        always('100k', [large], ACCOUNTS_LARGE),
        alwaysInline('inline', inline),
      ]
    : [
        ...[...sweep, manyConnections, ws, skew, ...open].map((scenario) => always(scenario.id, [scenario])),
        { id: everysec.id, fsync: 'everysec', accounts: ACCOUNTS, scenarios: [everysec] },
        always(large.id, [large], ACCOUNTS_LARGE),
        ...inline.map((scenario) => alwaysInline(scenario.id, [scenario])),
        ...issuer.map((scenario) => always(scenario.id, [scenario])),
      ];

  return {
    kind,
    latency: {
      rates: [1_000, 5_000, 20_000],
      measureS: quick ? 3 : 10,
      warmupS: quick ? 1 : 3,
      pairs: quick ? 1 : 2,
      accounts: ACCOUNTS,
    },
    microMs: quick ? 250 : 1_500,
    redisMs: quick ? 750 : 3_000,
    repeats: quick ? 1 : 3,
    freshPerRepeat: !quick,
    warmupS: quick ? 0 : 1,
    openRates,
    echo,
    echoRepeats: quick ? 1 : 3,
    families,
    // Quick: a tenth of the size, once, so the rows are a smoke test of a few seconds each.
    clearing: {
      items: quick ? 100_000 : 1_000_000,
      recordsPerEntry: 8,
      repeats: quick ? 1 : 3,
      accounts: ACCOUNTS,
      capacityLoad: closed(closedS, ACCOUNTS, b64),
      openS: quick ? 4 : 20,
    },
  };
}
