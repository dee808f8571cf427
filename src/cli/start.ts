import { ConfigError } from '../config/errors.js';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import { createLogger } from '../observability/log.js';
import { Switch } from '../switch.js';

/** `switchyard start --config FILE`: runs until SIGINT/SIGTERM, then shuts down gracefully. Returns the exit code. */
export async function runStart(argv: readonly string[]): Promise<number> {
  const configPath = resolveConfigPath([...argv], process.env);
  if (configPath === undefined) {
    process.stderr.write('switchyard start: no config: pass --config FILE or set SWITCHYARD_CONFIG\n');
    return 2;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(configPath);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const log = createLogger(config.log.level);
  let sw: Switch;
  try {
    sw = await Switch.start(config, log);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'SWITCHYARD_REDIS_NOT_INSTALLED' || code === 'SWITCHYARD_DATA_DIR_LOCKED') {
      process.stderr.write(`switchyard: ${(error as Error).message}\n`);
      return 1;
    }
    log.error('start failed', { error });
    return 1;
  }
  log.info('switch ready', { switchId: config.switchId, listen: sw.bound, config: configPath });

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
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
