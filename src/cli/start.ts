import { ConfigError } from '../config/errors.js';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import type { SwitchConfig } from '../config/types.js';
import { exitCodeOf, type StartErrorCode } from '../errors/codes.js';
import { startFailureCode } from '../errors/start-failure.js';
import { formatError } from '../errors/switchyard-error.js';
import { createLogger } from '../observability/log.js';
import { Switch } from '../switch.js';

const COMMAND = 'switchyard start';

/** Short hints for refusals whose underlying message does not say what was being done. */
const PREFIX: Partial<Record<StartErrorCode, string>> = {
  SWITCHYARD_TLS_INVALID: "a listener's TLS certificate or key cannot be used: ",
  SWITCHYARD_START_FAILED: 'start failed (the log has the details): ',
};

/**
 * `switchyard start --config FILE`: runs until SIGINT/SIGTERM, then shuts
 * down gracefully. Returns the exit code: a refusal to start prints one line
 * with its registered code (docs/errors.md) and exits with that code's status.
 */
export async function runStart(argv: readonly string[]): Promise<number> {
  let configPath: string | undefined;
  try {
    configPath = resolveConfigPath([...argv], process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return refuse('SWITCHYARD_USAGE', error.problems.join('; '));
  }
  if (configPath === undefined) {
    return refuse('SWITCHYARD_USAGE', 'no config: pass --config FILE or set SWITCHYARD_CONFIG');
  }
  let config: SwitchConfig;
  try {
    config = loadConfig(configPath);
  } catch (error) {
    if (error instanceof ConfigError) return refuse('SWITCHYARD_CONFIG_INVALID', error.message);
    throw error;
  }
  const log = createLogger(config.log.level);
  let sw: Switch;
  try {
    sw = await Switch.start(config, configPath, log);
  } catch (error) {
    const code = startFailureCode(error);
    if (code === 'SWITCHYARD_START_FAILED') log.error('start failed', { error });
    const message = error instanceof Error ? error.message : String(error);
    return refuse(code, `${PREFIX[code] ?? ''}${message}`);
  }
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) return;
      signalled = true;
      log.info('shutting down', { signal });
      sw.stop().then(
        () => {
          log.info('stopped');
          resolve(0);
        },
        (error: unknown) => {
          log.error('shutdown failed', { error });
          resolve(refuse('SWITCHYARD_SHUTDOWN_FAILED', `shutdown failed: ${(error as Error).message}`));
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // SIGHUP re-reads the data keys (docs/security.md), then routes and institutions
    // (docs/protocol.md section 4): two reloads, one after the other, each logging its outcome.
    process.on('SIGHUP', () => {
      log.info('SIGHUP: reloading the data keys and the config');
      // Never rejects: a refused reload is logged, and the keys in use stay.
      void sw.reloadKeys();
      // Rejects only on a bug, already logged; a refused file is an outcome, logged too.
      sw.reloadConfig('SIGHUP').catch(() => {});
    });
    // Only now: a supervisor (or a test) that signals as soon as it reads this line must find
    // the handlers in place, or SIGHUP's default action would end the switch.
    log.info('switch ready', { switchId: config.switchId, listen: sw.bound, config: configPath });
  });
}

/** Prints the one line with the code and returns the code's exit status. */
function refuse(code: StartErrorCode | 'SWITCHYARD_USAGE', message: string): number {
  process.stderr.write(`${formatError(COMMAND, code, message)}\n`);
  return exitCodeOf(code);
}
