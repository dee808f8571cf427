import { isPlainObject, joinPath } from './checker.js';
import { ConfigError } from './errors.js';
import { loadConfig } from './load.js';
import type { SwitchConfig } from './types.js';

/**
 * A config reload as the config layer sees it (docs/protocol.md section 4):
 * the file read and validated by the very code `switchyard start` uses
 * (loadConfig), and the settings other than `routes` and `institutions`
 * whose values differ from the running config's. Those are not applied:
 * listeners, the store, the workers, limits and timers are set up once at
 * start, so a reload names them for a restart instead of half-applying them.
 */

/** The settings a reload swaps in; every other one takes a restart. */
export const RELOADED_SETTINGS: readonly string[] = ['routes', 'institutions'];

export type ConfigReading =
  | {
      readonly ok: true;
      readonly config: SwitchConfig;
      /** JSON paths of settings that differ from the running config's and wait for a restart. */
      readonly needsRestart: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

/** What a reload did, as the admin API and the log tell it. */
export type ConfigReloadOutcome =
  | {
      readonly ok: true;
      /** Counts now in force. */
      readonly routes: number;
      readonly institutions: number;
      readonly needsRestart: readonly string[];
      /** Signed-on sessions the new institutions no longer admit, now closing. */
      readonly sessionsClosed: number;
    }
  | { readonly ok: false; readonly file: string; readonly problems: readonly string[] };

/** Reads `file` as start would; an unreadable or invalid file is every problem, never a throw. */
export function readReloadedConfig(file: string, running: SwitchConfig): ConfigReading {
  let next: SwitchConfig;
  try {
    next = loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, problems: error.problems };
    throw error;
  }
  return { ok: true, config: next, needsRestart: settingsNeedingRestart(running, next) };
}

/**
 * The JSON paths where `next` differs from `running`, leaving out the
 * reloaded settings: the deepest path that differs (`listen.tcp.port`), or
 * the object present on one side only (`listen.ws`). Paths only, never
 * values: `admin.token` and `redis.url` are secrets.
 */
export function settingsNeedingRestart(running: SwitchConfig, next: SwitchConfig): string[] {
  const paths: string[] = [];
  const before = running as unknown as Record<string, unknown>;
  const after = next as unknown as Record<string, unknown>;
  for (const key of unionOfKeys(before, after)) {
    if (!RELOADED_SETTINGS.includes(key)) collectDifferences(before[key], after[key], key, paths);
  }
  return paths;
}

function collectDifferences(before: unknown, after: unknown, path: string, out: string[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of unionOfKeys(before, after))
      collectDifferences(before[key], after[key], joinPath(path, key), out);
    return;
  }
  // Arrays (none today besides the reloaded ones) compare whole; so does anything present on one side only.
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push(path);
}

function unionOfKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}
