import { spawnSync } from 'node:child_process';
import { repoRoot } from './processes.js';

/**
 * vitest globalSetup: build once (tsc -p tsconfig.build.json) so the integration tests always
 * spawn fresh code from dist/. A failed build fails the whole run, loudly.
 */
export default function setup(): void {
  const result = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
    cwd: repoRoot,
    stdio: 'inherit',
    shell: false,
  });
  if (result.error) throw new Error(`build could not run: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      `build failed: npx tsc -p tsconfig.build.json exited with ${result.status ?? result.signal}`,
    );
  }
}
