import type { Redis } from 'ioredis';
import type { KeyRotation } from '../jobs/key-rotation.js';
import {
  dataKeyRetirable,
  type KeyUsage,
  readKeyUsage,
  tokenKeyRetirable,
} from '../runtime/storage/key-usage.js';
import type { KeyFile } from '../security/key-file.js';
import type { KeySpace } from '../store/keys.js';
import type { AdminServer } from './admin-server.js';
import { HttpError, sendJson } from './http-json.js';

export interface KeyRoutesOptions {
  readonly redis: Redis;
  readonly keys: KeySpace;
  /** The data keys in use now (they change on SIGHUP). */
  readonly currentKeys: () => KeyFile;
  readonly rotation: Pick<KeyRotation, 'jobStates'>;
}

/** GET /keys/usage's answer (docs/protocol.md section 6). Key ids only, never a key. */
export interface KeyUsageAnswer {
  readonly dataKeys: Record<string, KeyUsage['dataKeys'][string] & { retirable: boolean }>;
  readonly tokenKeys: Record<string, KeyUsage['tokenKeys'][string] & { retirable: boolean }>;
  readonly accounts: number;
  readonly unreadableAccounts: number;
  readonly advices: number;
  readonly unreadableAdvices: number;
  /** The rotation jobs of the keys in use, by id, and their BullMQ state. */
  readonly jobs: Record<string, string>;
}

/**
 * docs/protocol.md section 6, `GET /keys/usage` (issues 16 and 17): how many stored
 * things each data and token key id still protects or names, and which may
 * leave the key file (docs/security.md "Retiring a key"). Reads the whole
 * store: seconds per million accounts.
 */
export function registerKeyRoutes(admin: AdminServer, o: KeyRoutesOptions): void {
  admin.route('GET', '/keys/usage', async (_req, res) => {
    const file = o.currentKeys();
    let usage: KeyUsage;
    let jobs: Record<string, string>;
    try {
      [usage, jobs] = await Promise.all([readKeyUsage(o.redis, o.keys, file), o.rotation.jobStates(file)]);
    } catch (error) {
      throw new HttpError(
        'store_unavailable',
        `the store could not be read whole (${(error as Error).message}); retry`,
      );
    }
    const answer: KeyUsageAnswer = {
      dataKeys: Object.fromEntries(
        Object.entries(usage.dataKeys).map(([id, u]) => [
          id,
          { ...u, retirable: u.inKeyFile && dataKeyRetirable(usage, id) },
        ]),
      ),
      tokenKeys: Object.fromEntries(
        Object.entries(usage.tokenKeys).map(([id, u]) => [
          id,
          { ...u, retirable: u.inKeyFile && tokenKeyRetirable(usage, id) },
        ]),
      ),
      accounts: usage.accounts,
      unreadableAccounts: usage.unreadableAccounts,
      advices: usage.advices,
      unreadableAdvices: usage.unreadableAdvices,
      jobs,
    };
    sendJson(res, 200, answer);
  });
}
