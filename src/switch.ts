import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { Redis as RedisClient } from 'ioredis';
import { registerAccountRoutes } from './admin/account-routes.js';
import { AdminServer } from './admin/admin-server.js';
import { registerClearingRoutes } from './admin/clearing-routes.js';
import { registerConfigRoutes } from './admin/config-routes.js';
import { registerKeyRoutes } from './admin/key-routes.js';
import { ClearingJobs } from './clearing/clearing-jobs.js';
import { CycleStore } from './clearing/cycle-store.js';
import { JournalTrim } from './clearing/journal-trim.js';
import { decodePayload } from './codec/codec.js';
import { type ConfigReloadOutcome, readReloadedConfig } from './config/reload.js';
import type { SwitchConfig } from './config/types.js';
import { Router } from './engine/router.js';
import { SwitchyardError } from './errors/switchyard-error.js';
import { HoldExpiry } from './jobs/hold-expiry.js';
import { KeyRotation } from './jobs/key-rotation.js';
import { RecordSweep } from './jobs/record-sweep.js';
import type { Logger } from './observability/log.js';
import {
  type CheckOutcome,
  NOT_READY_YET,
  notReady,
  READY,
  ReadinessProbe,
} from './observability/readiness.js';
import { registerReadinessMetrics } from './observability/readiness-metrics.js';
import { RepeatLog } from './observability/repeat-log.js';
import { SwitchMetrics } from './observability/switch-metrics.js';
import { AdviceDelivery } from './rules/issuer/advice-delivery.js';
import { IssuerEngine } from './rules/issuer/issuer-engine.js';
import { ledgerRuleSet } from './rules/rule-set.js';
import { memoryReducerOff, tuneGarbageCollector } from './runtime/gc-tuning.js';
import { LedgerEngine } from './runtime/ledger-engine.js';
import { createRrnGenerator, leaseRrnSource } from './runtime/rrn.js';
import { ensureAccountLayout } from './runtime/storage/account-layout.js';
import { readKeyUsage, stillInUse } from './runtime/storage/key-usage.js';
import { upgradeToLayout3 } from './runtime/storage/layout-upgrade.js';
import { AccountRefs } from './security/account-refs.js';
import type { KeyFile } from './security/key-file.js';
import { keyFileText } from './security/key-file.js';
import { retiredKeys, retiredWhileCurrent, retiresAny } from './security/key-retirement.js';
import { type LoadedKeys, loadKeys } from './security/key-source.js';
import { ShardHash } from './security/shard-hash.js';
import { type DataDirLock, lockDataDir } from './store/data-dir-lock.js';
import { type KeySpace, keySpace } from './store/keys.js';
import { type ManagedRedis, startManagedRedis } from './store/managed-redis.js';
import { createRequestPathRedis, notReadyReason, pingWithin } from './store/redis-connection.js';
import { readRedisInfo } from './store/redis-info.js';
import { redisProblems } from './store/redis-requirements.js';
import { claimAllShards } from './store/shard-epoch.js';
import { Connection } from './transport/connection.js';
import type { ConnectionContext } from './transport/connection-context.js';
import { ConnectionRegistry } from './transport/connection-registry.js';
import { FlushScheduler } from './transport/flush-scheduler.js';
import { type BoundAddress, type Listener, listenTcp, listenWs } from './transport/listeners.js';
import { LiveRouting } from './transport/live-routing.js';
import type { TcpWire } from './transport/tcp-wire.js';
import type { WsWire } from './transport/ws-wire.js';

/** How long shutdown waits for owed responses before dropping connections. */
export const SHUTDOWN_DRAIN_MS = 10_000;
/**
 * The store check's PING deadline: under the 1 s a Kubernetes probe waits
 * by default, so a Redis that hangs reads as not ready, not as a probe
 * that timed out.
 */
const READY_PING_TIMEOUT_MS = 500;
/**
 * `off` makes the metrics' per-message calls no-ops: the other arm of the
 * paired benchmark of their cost (bench/harness/profile.ts
 * --metrics-hot-off). Read once at start; not for production.
 */
const BENCH_METRICS_HOT_ENV = 'SWITCHYARD_BENCH_METRICS_HOT';

export interface BoundListeners {
  tcp?: BoundAddress;
  ws?: BoundAddress;
  admin?: BoundAddress;
}

/**
 * The composition root: store, engine, listeners and admin API, started in
 * dependency order and stopped in reverse.
 */
export class Switch {
  private readonly listeners: Listener[] = [];
  private admin: AdminServer | undefined;
  private managedRedis: ManagedRedis | undefined;
  private dataDirLock: DataDirLock | undefined;
  /** The data keys (docs/security.md): loaded at start, replaced whole by reloadKeys() (SIGHUP). */
  private dataKeys: KeyFile | undefined;
  private redis: Redis | undefined;
  private engine: LedgerEngine | undefined;
  private issuers: IssuerEngine | undefined;
  /** Advice deliveries by issuer institution. */
  private readonly advices = new Map<string, AdviceDelivery>();
  private refsOfKeys: { readonly keys: KeyFile; readonly refs: AccountRefs } | undefined;
  private holdExpiry: HoldExpiry | undefined;
  private recordSweep: RecordSweep | undefined;
  private keyRotation: KeyRotation | undefined;
  private clearing: ClearingJobs | undefined;
  private journalTrim: JournalTrim | undefined;
  /**
   * Reloads (keys and config, SIGHUP and POST /config/reload alike) run one
   * after another: each compares the new file with what the last applied.
   */
  private reloading: Promise<unknown> = Promise.resolve();
  /** The routes and institutions in force: from the config at start, swapped whole by reloadConfig(). */
  private routing: LiveRouting | undefined;
  private readonly keys: KeySpace = keySpace();
  private jobsRedis: RedisClient | undefined;
  private metrics: SwitchMetrics | undefined;
  private registry: ConnectionRegistry;
  private listening = false;
  private stopping: Promise<void> | undefined;
  /** GET /readyz and the switchyard_ready gauges (docs/protocol.md sections 6 and 8). */
  private readonly readiness = new ReadinessProbe({
    listening: () => this.listeningCheck(),
    store: () => this.storeCheck(),
    ledger: () => this.ledgerCheck((engine) => engine.ownersNotUp()),
    ledger_store: () => this.ledgerCheck((engine) => engine.ownersUnableToCommit()),
  });
  readonly bound: BoundListeners = {};

  /**
   * `config` is the file's config at start; its settings other than routes
   * and institutions stay in force until a restart. `configFile` is where
   * a reload reads the new routes and institutions.
   */
  private constructor(
    readonly config: SwitchConfig,
    private readonly configFile: string,
    private readonly log: Logger,
  ) {
    // A closed issuer connection: the issuer engine logs the forwards it stranded.
    this.registry = new ConnectionRegistry(config.heartbeatMs, (end) => this.issuers?.linkClosed(end));
  }

  static async start(config: SwitchConfig, configFile: string, log: Logger): Promise<Switch> {
    tuneGarbageCollector();
    const sw = new Switch(config, resolve(configFile), log);
    try {
      await sw.startParts();
    } catch (error) {
      await sw.stop();
      throw error;
    }
    return sw;
  }

  private async startParts(): Promise<void> {
    const { config, log } = this;
    // Logged before anything that waits (Redis, workers), so a start that hangs shows where.
    log.info('starting', {
      switchId: config.switchId,
      pid: process.pid,
      managedRedis: config.redis.url === undefined,
      // False: node was started without --no-memory-reducer (docs/operations.md, "Running it").
      memoryReducerOff: memoryReducerOff(),
    });
    let redisUrl = config.redis.url;
    if (redisUrl === undefined) this.dataDirLock = lockDataDir(config.dataDir);
    // Before anything is read or written: a switch without usable keys does not start.
    this.dataKeys = this.loadDataKeys().keys;
    if (redisUrl === undefined) {
      this.managedRedis = await startManagedRedis({ dataDir: config.dataDir, log });
      redisUrl = this.managedRedis.url;
    }
    this.redis = createRequestPathRedis(redisUrl, 'switchyard-main');
    // One line per reconnect attempt would bury everything else during an outage.
    const redisDown = new RepeatLog(log, 'warn', 'redis connection error');
    let redisError: Error | undefined;
    this.redis.on('error', (error: Error) => {
      redisError = error;
      redisDown.note({ error });
    });
    this.redis.on('ready', () => redisDown.ended('redis connection restored'));
    // ioredis rejects with a bare "Connection is closed."; the refusal names the cause (never the URL: it may hold a password).
    await this.redis.connect().catch((error: unknown) => {
      const cause = redisError ?? (error as Error);
      throw new SwitchyardError('SWITCHYARD_REDIS_UNREACHABLE', `cannot connect to Redis: ${cause.message}`, {
        cause,
      });
    });

    const unfit = await redisProblems(this.redis);
    if (unfit.length > 0) {
      throw new SwitchyardError(
        'SWITCHYARD_REDIS_UNSUITABLE',
        `the Redis cannot be used: ${unfit.join('; ')}`,
      );
    }

    const keys = this.keys;
    const redisForLease = this.redis;
    const rrn = createRrnGenerator(await leaseRrnSource(() => redisForLease.incr(keys.rrnSourceCounter())));
    const workers = config.workers === 0 ? availableParallelism() : config.workers;
    const hotPath = process.env[BENCH_METRICS_HOT_ENV] !== 'off';
    if (!hotPath)
      log.warn('metrics: per-message counting is off (a benchmark setting)', { env: BENCH_METRICS_HOT_ENV });
    // The store's side of /metrics reads over the request path's connection: it fails fast when Redis is away.
    const mainRedis = this.redis;
    const progress = new CycleStore(mainRedis, keys, config.clearing.cycleMs);
    const metrics = new SwitchMetrics(
      {
        connectionsByRole: () => this.registry.connectionsByRole(),
        inflightRequests: () => this.registry.inflight,
        issuerForwardsInFlight: () => this.issuers?.forwardsInFlight ?? 0,
        adviceQueueDepths: () =>
          new Map([...this.advices].map(([issuer, delivery]) => [issuer, delivery.depth])),
        redisInfo: () => readRedisInfo(mainRedis),
        clearingProgress: () => progress.progress(),
      },
      {
        universe: {
          workers,
          inline: config.ledger.inline,
          issuers: config.institutions.filter((i) => i.role === 'issuer').map((i) => i.id),
        },
        hotPath,
      },
    );
    this.metrics = metrics;
    registerReadinessMetrics(metrics.registry, this.readiness);
    // Before any ledger owner exists: accounts an earlier build stored as hashes become logs.
    const refs = new AccountRefs(this.dataKeys);
    const redisForUpgrade = this.redis;
    await ensureAccountLayout(this.redis, keys, log, () =>
      upgradeToLayout3(redisForUpgrade, keys, refs, log),
    );
    const epoch = await claimAllShards(this.redis, keys);
    log.info('shards claimed', { epoch });
    // Forwards go out on the issuers' connections and come back to the actors: each side names the other.
    const issuers = new IssuerEngine({
      links: this.registry,
      settle: (order, outcome) => this.engine?.issuerAnswer(order, outcome),
      timeoutMs: config.issuerTimeoutMs,
      // The limits in force: a config reload replaces them for the next decision.
      standInOf: (issuer) =>
        (this.routing?.institutions ?? config.institutions).find((i) => i.id === issuer)?.standIn,
      acknowledge: (issuer, mti, id) => this.advices.get(issuer)?.acknowledge(mti, id),
      ended: (issuer, outcome, seconds) => metrics.issuerRequest(issuer, outcome, seconds),
      log,
    });
    this.issuers = issuers;
    this.engine = new LedgerEngine({
      workers,
      inline: config.ledger.inline,
      handoverWaitMaxMs: config.ledger.handoverWaitMaxMs,
      adaptive: config.ledger.adaptive
        ? {
            inlineBelowPerSec: config.ledger.adaptiveInlineBelowPerSec,
            workersAbovePerSec: config.ledger.adaptiveWorkersAbovePerSec,
            dwellMs: config.ledger.adaptiveDwellMs,
          }
        : undefined,
      ruleSet: ledgerRuleSet,
      workerData: {
        redisUrl,
        epoch,
        holdTtlMs: config.holdTtlMs,
        dedupeWindowMs: config.dedupeWindowMs,
        actorsMax: config.ledger.actorsMax,
        recordsPerActorMax: config.ledger.recordsPerActorMax,
        evictedKeysMax: config.ledger.evictedKeysMax,
        commitTimeoutMs: config.ledger.commitTimeoutMs,
        keyPrefix: keys.prefix,
        dataKeysJson: keyFileText(this.dataKeys),
      },
      shards: new ShardHash(this.dataKeys.shardKey),
      log,
      rrn,
      onStats: (workerId, stats) => metrics.workerStats(workerId, stats),
      onRestart: (workerId) => metrics.workerRestarted(workerId),
      onForward: (order) => issuers.forward(order),
    });
    await this.engine.start();
    log.info('ledger up', { workers, inline: config.ledger.inline, adaptive: config.ledger.adaptive, epoch });
    if (config.ledger.inline)
      log.warn(
        'ledger.inline is deprecated: ledger.adaptive (the default) runs the owners on the main thread while it can take the load; inline still pins them there at every load',
        { setting: 'ledger.inline' },
      );
    // BullMQ wants its own connection that waits out Redis outages (maxRetriesPerRequest null).
    this.jobsRedis = new RedisClient(redisUrl, {
      maxRetriesPerRequest: null,
      connectionName: 'switchyard-jobs',
    });
    this.jobsRedis.on('error', () => {});
    this.holdExpiry = new HoldExpiry({
      connection: this.jobsRedis,
      keys,
      ledger: this.engine,
      holdTtlMs: config.holdTtlMs,
      onPass: (pass) => metrics.holdExpiryPass(pass),
      everyMs: config.ledger.holdExpiryIntervalMs,
      log,
    });
    await this.holdExpiry.start();
    this.recordSweep = new RecordSweep({
      connection: this.jobsRedis,
      keys,
      ledger: this.engine,
      everyMs: config.ledger.recordSweepIntervalMs,
      accountsPerPassMax: config.ledger.recordSweepAccountsMax,
      log,
      onPass: (pass) => metrics.recordSweepPass(pass),
    });
    await this.recordSweep.start();
    this.keyRotation = new KeyRotation({
      connection: this.jobsRedis,
      keys,
      ledger: this.engine,
      currentKeys: () => this.currentKeys(),
      refs: () => this.accountRefs(),
      accountsPerSecondMax: config.ledger.rotationAccountsPerSecondMax,
      log,
    });
    // Enqueues the jobs the key file calls for (none when it holds one key of each kind).
    await this.keyRotation.start();
    const clearing = new ClearingJobs({
      connection: this.jobsRedis,
      keys,
      cycleMs: config.clearing.cycleMs,
      worker: {
        redisUrl,
        keyPrefix: keys.prefix,
        outDir: config.clearing.outDir,
        switchId: config.switchId,
        cycleMs: config.clearing.cycleMs,
      },
      runWorker: config.clearing.worker,
      closeCycles: true,
      log,
      ended: (status) => metrics.clearingCycle(status),
      ran: (seconds) => metrics.clearingJobRan(seconds),
    });
    this.clearing = clearing;
    await clearing.start();
    this.journalTrim = new JournalTrim({
      connection: this.jobsRedis,
      keys,
      cycleMs: config.clearing.cycleMs,
      retentionMs: config.clearing.journalRetentionMs,
      // As often as hold expiry, whose cursors bound it.
      everyMs: config.ledger.holdExpiryIntervalMs,
      log,
      onPass: () => metrics.journalTrimPass(),
    });
    await this.journalTrim.start();

    const routing = new LiveRouting(config, this.registry, log);
    this.routing = routing;
    const ctx: ConnectionContext = {
      config,
      log,
      engine: new Router(this.engine, issuers),
      metrics,
      registry: this.registry,
      flushScheduler: new FlushScheduler(),
      rrn,
      decode: decodePayload,
      routes: () => routing.routes,
      authenticator: () => routing.authenticator,
    };

    if (config.listen.admin !== undefined) {
      this.admin = new AdminServer(
        config.listen.admin,
        config.admin.token,
        { ready: () => this.readiness.check(), metrics: () => metrics.render() },
        log,
      );
      registerAccountRoutes(this.admin, this.engine);
      registerKeyRoutes(this.admin, {
        redis: this.redis,
        keys,
        currentKeys: () => this.currentKeys(),
        rotation: this.keyRotation,
      });
      registerConfigRoutes(this.admin, () => this.reloadConfig('POST /config/reload'));
      registerClearingRoutes(this.admin, clearing);
      this.bound.admin = await this.admin.start();
    }

    const accept = (wire: TcpWire | WsWire): void => {
      const conn = new Connection(wire, ctx);
      wire.attach(conn);
      conn.start();
    };
    const { frameBytesMax } = config.limits;
    if (config.listen.tcp !== undefined) {
      const listener = await listenTcp(config.listen.tcp, frameBytesMax, accept);
      this.listeners.push(listener);
      this.bound.tcp = listener.address;
    }
    if (config.listen.ws !== undefined) {
      const listener = await listenWs(config.listen.ws, frameBytesMax, accept);
      this.listeners.push(listener);
      this.bound.ws = listener.address;
    }
    this.startAdviceDeliveries(config.institutions);
    this.registry.startHeartbeat();
    this.listening = true;
  }

  /**
   * Re-reads the data keys (SIGHUP): a new current key id is used for new
   * writes from here on, and the rotation jobs it calls for are enqueued. A
   * source that cannot be used is refused with every problem logged, and
   * the keys in use stay. So is a file that retires a key (drops a data
   * key, or stops accepting a token key) still in use: the store is read
   * first (docs/security.md "Retiring a key"), since what such a key
   * protects could not be read or found after it.
   */
  reloadKeys(): Promise<boolean> {
    return this.afterOtherReloads(() => this.reloadKeysNow());
  }

  private async reloadKeysNow(): Promise<boolean> {
    this.log.info('reloading the data keys');
    try {
      const before = this.currentKeys();
      const next = this.loadDataKeys().keys;
      // A shard is an account's writer and names its keys: the shard key cannot change under a running store.
      if (!next.shardKey.equals(before.shardKey))
        throw new SwitchyardError(
          'SWITCHYARD_KEY_FILE_INVALID',
          'the new key file has another shardKey; the shard key cannot be rotated (docs/security.md)',
        );
      const retired = retiredKeys(before, next);
      if (retiresAny(retired)) {
        const problems = retiredWhileCurrent(before, retired);
        if (problems.length === 0 && this.redis !== undefined)
          problems.push(...stillInUse(await readKeyUsage(this.redis, this.keys, before), retired));
        if (problems.length > 0)
          throw new SwitchyardError(
            'SWITCHYARD_KEY_FILE_INVALID',
            `the new key file retires keys still in use: ${problems.join('; ')} (switchyard keys usage)`,
          );
      }
      this.dataKeys = next;
      this.engine?.setKeys(keyFileText(next));
      this.log.info('data keys reloaded', {
        currentTokenKeyId: next.currentTokenKey,
        currentDataKeyId: next.currentDataKey,
        retiredDataKeyIds: retired.dataKeyIds,
        retiredTokenKeyIds: retired.tokenKeyIds,
      });
      await this.keyRotation?.enqueueFor(next, retired.tokenKeyIds);
      return true;
    } catch (error) {
      this.log.error('key reload refused; the keys in use stay', { error });
      return false;
    }
  }

  /**
   * Re-reads routes and institutions from the config file (SIGHUP, POST
   * /config/reload; docs/protocol.md section 4), validated by the code start
   * uses, and swaps them in whole: new transactions route by the new table
   * and sign-ons check the new keys at once; sessions of institutions no
   * longer configured (or whose role or public key changed) are closed, all
   * others kept. An unreadable or invalid file is refused with every
   * problem, and the running config stays. Other settings that differ are
   * not applied (a warning names them: they take a restart). Never rejects
   * for a bad file; rejects only on a bug, after logging it.
   */
  reloadConfig(trigger: string): Promise<ConfigReloadOutcome> {
    return this.afterOtherReloads(() => this.reloadConfigNow(trigger));
  }

  private reloadConfigNow(trigger: string): ConfigReloadOutcome {
    const { log, configFile } = this;
    log.info('reloading the config', { trigger, file: configFile });
    try {
      const routing = this.routing;
      if (routing === undefined) throw new Error('config reload before the switch started');
      const reading = readReloadedConfig(configFile, this.config);
      if (!reading.ok) {
        log.error('config reload refused; the running config stays', {
          file: configFile,
          problems: reading.problems,
        });
        return { ok: false, file: configFile, problems: reading.problems };
      }
      const { config: next, needsRestart } = reading;
      if (needsRestart.length > 0)
        log.warn('config reload: settings other than routes and institutions take a restart; not applied', {
          settings: needsRestart,
        });
      const sessionsClosed = routing.swap(next);
      // An issuer new to this config gets its advice delivery; a removed one's keeps its queue.
      this.startAdviceDeliveries(next.institutions);
      const outcome = {
        ok: true,
        routes: next.routes.length,
        institutions: next.institutions.length,
        needsRestart,
        sessionsClosed,
      } as const;
      log.info('config reloaded', {
        routes: outcome.routes,
        institutions: outcome.institutions,
        sessionsClosed,
      });
      return outcome;
    } catch (error) {
      log.error('config reload failed; the running config stays', { error });
      throw error;
    }
  }

  /** Runs `reload` once every reload asked for before it has ended, whatever their outcome. */
  private afterOtherReloads<T>(reload: () => T | Promise<T>): Promise<T> {
    const next = this.reloading.then(reload);
    this.reloading = next.catch(() => undefined);
    return next;
  }

  /** The data keys in use (loaded before anything else starts). */
  private currentKeys(): KeyFile {
    if (this.dataKeys === undefined) throw new Error('the data keys are not loaded yet');
    return this.dataKeys;
  }

  /** The current data key ids, for tests and the log (never the keys). */
  get dataKeyIds(): { readonly token: string; readonly data: string } | undefined {
    const keys = this.dataKeys;
    return keys === undefined ? undefined : { token: keys.currentTokenKey, data: keys.currentDataKey };
  }

  private loadDataKeys(): LoadedKeys {
    return loadKeys({
      file: this.config.keys.file,
      dataDir: this.config.dataDir,
      env: process.env,
      log: this.log,
    });
  }

  /** Readiness `listening`: the listeners bound and not stopping. */
  private listeningCheck(): CheckOutcome {
    if (this.stopping !== undefined) return notReady('stopping');
    return this.listening ? READY : NOT_READY_YET;
  }

  /** Readiness `store`: the main connection answers PING within its deadline. */
  private async storeCheck(): Promise<CheckOutcome> {
    const redis = this.redis;
    if (redis === undefined) return NOT_READY_YET;
    const why = notReadyReason(redis);
    if (why !== undefined) return notReady(`redis ${why}`);
    return (await pingWithin(redis, READY_PING_TIMEOUT_MS))
      ? READY
      : notReady(`redis did not answer PING within ${READY_PING_TIMEOUT_MS} ms`);
  }

  /** Readiness `ledger` and `ledger_store`: what `problems` finds wrong with the ledger's owners. */
  private ledgerCheck(problems: (engine: LedgerEngine) => string[]): CheckOutcome {
    if (this.engine === undefined) return NOT_READY_YET;
    const found = problems(this.engine);
    return found.length === 0 ? READY : notReady(found.join('; '));
  }

  /** Each issuer's advices, delivered by whichever switch holds its lease (docs/issuers.md); once per issuer. */
  private startAdviceDeliveries(
    institutions: readonly { readonly id: string; readonly role: string }[],
  ): void {
    const redis = this.redis;
    if (redis === undefined) return;
    for (const institution of institutions) {
      if (institution.role !== 'issuer' || this.advices.has(institution.id)) continue;
      const delivery = new AdviceDelivery({
        issuer: institution.id,
        redis,
        keys: keySpace(),
        links: this.registry,
        refs: () => this.accountRefs(),
        repeatAfterMs: this.config.issuerTimeoutMs,
        inFlightMax: this.config.issuerAdvicesInFlightMax,
        log: this.log,
      });
      this.advices.set(institution.id, delivery);
      delivery.start();
    }
  }

  /** Refs made with the data keys in use (remade after a reload). */
  private accountRefs(): AccountRefs {
    const keys = this.dataKeys!;
    if (this.refsOfKeys?.keys !== keys) this.refsOfKeys = { keys, refs: new AccountRefs(keys) };
    return this.refsOfKeys.refs;
  }

  /** Stops accepting, answers what is owed (bounded), closes everything. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.stopParts();
    return this.stopping;
  }

  private async stopParts(): Promise<void> {
    this.listening = false;
    const closingListeners = this.listeners.map((l) => l.close());
    const deadline = new Promise<false>((resolve) =>
      setTimeout(() => resolve(false), SHUTDOWN_DRAIN_MS).unref(),
    );
    // Acquirers first; issuers keep their connections until every forward is answered or timed out
    // (their answers are read on them), then go too.
    for (const conn of this.registry.connections()) if (conn.role !== 'issuer') conn.closeGracefully();
    await Promise.race([this.issuers?.close(), deadline]);
    for (const conn of this.registry.connections()) conn.closeGracefully();
    const drained = await Promise.race([this.registry.whenEmpty().then(() => true), deadline]);
    if (!drained) {
      this.log.warn('shutdown: connections still open after drain deadline; closing them', {
        open: this.registry.size,
      });
      for (const conn of this.registry.connections()) conn.closeNow();
    }
    this.registry.stopHeartbeat();
    await Promise.all(closingListeners);
    await this.holdExpiry?.close();
    await this.recordSweep?.close();
    // Before the ledger: a rotation job running saves its cursor and waits for the next start.
    await this.keyRotation?.close();
    await this.clearing?.close();
    await this.journalTrim?.close();
    await this.engine?.close();
    await Promise.all([...this.advices.values()].map((delivery) => delivery.stop()));
    await this.admin?.close();
    this.metrics?.close();
    this.jobsRedis?.disconnect();
    if (this.redis !== undefined) this.redis.disconnect();
    await this.managedRedis?.stop();
    this.dataDirLock?.release();
  }
}
