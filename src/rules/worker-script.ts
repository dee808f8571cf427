import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The ledger worker's entry file. Compiled code runs dist/.../ledger-worker.js
 * next to this module. Under vitest this module is the .ts source and
 * Node 20 cannot run a .ts worker, so we use the compiled twin in dist/ (the
 * test setup builds it first).
 */
export function resolveWorkerScript(): URL {
  const here = new URL('./ledger-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const compiled = new URL(import.meta.url.replace('/src/', '/dist/src/').replace(/\.ts$/, '.js'));
  const twin = new URL('./ledger-worker.js', compiled);
  if (existsSync(fileURLToPath(twin))) return twin;
  throw new Error(
    `ledger worker script not found (looked at ${here.pathname} and ${twin.pathname}); run npm run build`,
  );
}
