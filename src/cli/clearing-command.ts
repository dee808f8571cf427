import { basename } from 'node:path';
import { Redis } from 'ioredis';
import { itemsInRange } from '../clearing/clear-range.js';
import { ClearingJobs } from '../clearing/clearing-jobs.js';
import { readCycleFiles, readTheirFile } from '../clearing/cycle-reading.js';
import { CycleStore } from '../clearing/cycle-store.js';
import { describeDifference, reconcile } from '../clearing/reconcile.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { SwitchConfig } from '../config/types.js';
import { createLogger } from '../observability/log.js';
import { keySpace } from '../store/keys.js';
import { managedRedisUrl } from '../store/managed-redis.js';
import type { CommandSpec, ParsedCommand } from '../util/parse-command.js';
import { dispatch } from './dispatch.js';
import { CliFailure, EXIT_FAILED, EXIT_OK, runCommand } from './run-command.js';

const CLEARING_SPEC: CommandSpec = {
  name: 'switchyard clearing',
  usage: `usage: switchyard clearing <command>

  worker --config FILE              run clearing jobs in this process (another machine's, say)
  reconcile CYCLE --config FILE [--theirs FILE --institution ID]
                                    recompute a cycle from the journal and compare it with
                                    its files, and with an institution's own file
`,
  options: {},
};

const WORKER_SPEC: CommandSpec = {
  name: 'switchyard clearing worker',
  usage: `usage: switchyard clearing worker --config FILE

Runs the clearing jobs of the switch whose config FILE names (its redis.url,
or the private redis-server it runs on this machine; clearing.outDir,
switchId) in this process, beside or instead of the switch's own worker;
cycles are still closed by the switch. Stops on SIGINT or SIGTERM,
letting a job in progress end (or, killed, be run again by any worker).

  --config FILE   the switch's config file
  --help          this text
`,
  options: { help: 'boolean', config: 'string' },
};

const RECONCILE_SPEC: CommandSpec = {
  name: 'switchyard clearing reconcile',
  usage: `usage: switchyard clearing reconcile CYCLE --config FILE [--theirs FILE --institution ID]

Recomputes the closed cycle's items from the journal and compares them with
the cycle's files under clearing.outDir and, with --theirs, with an
institution's own file (same header). Prints each difference (missing, extra,
amount differs) and exits 1 when there is one, 0 when everything matches.

  --config FILE       the switch's config file
  --theirs FILE       an institution's own clearing file for the cycle
  --institution ID    whose file --theirs is (default: the file's name without .csv)
  --help              this text
`,
  options: { help: 'boolean', config: 'string', theirs: 'string', institution: 'string' },
  positionals: ['CYCLE'],
};

/** The config a clearing command runs against: it must reach the switch's Redis by URL. */
function configOf(args: ParsedCommand, spec: CommandSpec): SwitchConfig & { redis: { url: string } } {
  const file = args.string('config');
  if (file === undefined) throw new CliFailure('SWITCHYARD_USAGE', `${spec.name} needs --config FILE`);
  let config: SwitchConfig;
  try {
    config = loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliFailure('SWITCHYARD_CONFIG_CHECK_FAILED', error.message);
    throw error;
  }
  // A switch's private redis-server (no redis.url) is reached through the port it wrote under dataDir.
  const url = config.redis.url ?? managedRedisUrl(config.dataDir);
  if (url === undefined) {
    throw new CliFailure(
      'SWITCHYARD_USAGE',
      `${file} names no redis.url and no switch runs a private redis-server under its dataDir (${config.dataDir})`,
    );
  }
  return { ...config, redis: { ...config.redis, url } };
}

function runWorker(argv: readonly string[]): Promise<number> {
  return runCommand(WORKER_SPEC, argv, async (args) => {
    const config = configOf(args, WORKER_SPEC);
    const log = createLogger(config.log.level);
    const connection = new Redis(config.redis.url, {
      maxRetriesPerRequest: null,
      connectionName: 'switchyard-clearing-worker',
    });
    connection.on('error', () => {});
    const keys = keySpace();
    const jobs = new ClearingJobs({
      connection,
      keys,
      cycleMs: config.clearing.cycleMs,
      worker: {
        redisUrl: config.redis.url,
        keyPrefix: keys.prefix,
        outDir: config.clearing.outDir,
        switchId: config.switchId,
        cycleMs: config.clearing.cycleMs,
      },
      runWorker: true,
      closeCycles: false,
      log,
    });
    await jobs.start();
    log.info('clearing worker up', { outDir: config.clearing.outDir, pid: process.pid });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await jobs.close();
    connection.disconnect();
    log.info('clearing worker stopped');
    return EXIT_OK;
  });
}

function runReconcile(argv: readonly string[]): Promise<number> {
  return runCommand(RECONCILE_SPEC, argv, async (args) => {
    const config = configOf(args, RECONCILE_SPEC);
    const text = args.positionals[0]!;
    const cycle = Number(text);
    if (!/^[1-9][0-9]*$/.test(text) || !Number.isSafeInteger(cycle)) {
      throw new CliFailure(
        'SWITCHYARD_USAGE',
        `CYCLE must be a cycle number (1, 2, ...), got ${JSON.stringify(text)}`,
      );
    }
    const theirsFile = args.string('theirs');
    const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 2, lazyConnect: true });
    try {
      await redis.connect().catch((error: Error) => {
        throw new CliFailure(
          'SWITCHYARD_SWITCH_UNREACHABLE',
          `cannot reach the switch's Redis: ${error.message}`,
        );
      });
      const keys = keySpace();
      const cycles = new CycleStore(redis, keys, config.clearing.cycleMs);
      const range = await cycles.range(cycle);
      if (range === undefined)
        throw new CliFailure('SWITCHYARD_ADMIN_ERROR', `clearing cycle ${cycle} is not closed`);
      const trimmedBelowMs = await cycles.trimmedBelowMs();
      if (range.startMs < trimmedBelowMs) {
        throw new CliFailure(
          'SWITCHYARD_ADMIN_ERROR',
          `clearing cycle ${cycle} cannot be recomputed: the journal before ${new Date(trimmedBelowMs).toISOString()} ` +
            `was trimmed (clearing.journalRetentionMs), and the cycle starts at ${new Date(range.startMs).toISOString()}; ` +
            'its files are its record now',
        );
      }
      const theirs =
        theirsFile === undefined
          ? undefined
          : await readTheirFile(theirsFile, args.string('institution') ?? basename(theirsFile, '.csv'));
      const differences = await reconcile({
        items: itemsInRange({ redis, keys, range, switchId: config.switchId }),
        files: await readCycleFiles(config.clearing.outDir, cycle),
        ...(theirs === undefined ? {} : { theirs }),
      });
      for (const d of differences) process.stdout.write(`${describeDifference(d)}\n`);
      process.stdout.write(
        differences.length === 0
          ? `cycle ${cycle}: the files match the journal\n`
          : `cycle ${cycle}: ${differences.length} difference(s)\n`,
      );
      return differences.length === 0 ? EXIT_OK : EXIT_FAILED;
    } finally {
      redis.disconnect();
    }
  });
}

/** `switchyard clearing ...` (docs/clearing.md). */
export function runClearingCommand(argv: readonly string[]): Promise<number> {
  return dispatch(CLEARING_SPEC, argv, {
    worker: async () => runWorker,
    reconcile: async () => runReconcile,
  });
}
