import type { LedgerEngine } from '../runtime/ledger-engine.js';
import { generatePans } from '../util/demo-pans.js';
import { maskPan } from '../util/pan.js';
import { parseBalance, parseCurrency, parseLimits, unknownField } from './account-body.js';
import { HttpError } from './http-json.js';

/** One bulk call creates at most this many accounts. */
export const SEED_COUNT_MAX = 1_000_000;
/** Creations in flight at once: enough to fill every worker's batches, bounded for memory. */
const SEED_WINDOW = 8_192;

export interface SeedResult {
  requested: number;
  created: number;
  existing: number;
  failed: number;
  first: string;
  last: string;
  elapsedMs: number;
}

/**
 * `POST /accounts/bulk {count, balance, currency, prefix?, limits?}`: creates
 * the simulator's PANs (same generator, so `switchyard sim acquirer --pans N
 * --prefix P` hits exactly these accounts). Create-only: existing accounts
 * are left untouched, so a seed can be re-run. Each creation goes through the
 * owning actor like any PUT, opening balance journaled.
 */
export async function seedAccounts(ledger: LedgerEngine, body: Record<string, unknown>): Promise<SeedResult> {
  for (const key of Object.keys(body)) {
    if (!['count', 'balance', 'currency', 'prefix', 'limits'].includes(key)) throw unknownField('body', key);
  }
  const count = body.count;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || count > SEED_COUNT_MAX) {
    throw new HttpError('invalid_request', `count must be an integer 1..${SEED_COUNT_MAX}`);
  }
  const prefix = body.prefix ?? '4';
  if (typeof prefix !== 'string') throw new HttpError('invalid_request', 'prefix must be a digit string');
  const balance = parseBalance(body.balance);
  const currency = parseCurrency(body.currency);
  const limits = parseLimits(body.limits);
  let pans: string[];
  try {
    pans = generatePans(count, prefix);
  } catch (error) {
    throw new HttpError('invalid_request', (error as Error).message);
  }
  const started = performance.now();
  const result: SeedResult = {
    requested: count,
    created: 0,
    existing: 0,
    failed: 0,
    first: maskPan(pans[0]!),
    last: maskPan(pans[pans.length - 1]!),
    elapsedMs: 0,
  };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < pans.length) {
      const pan = pans[next++]!;
      const outcome = await ledger.admin({
        k: 'put',
        pan,
        currency,
        balance,
        limits,
        status: undefined,
        createOnly: true,
      });
      if (!outcome.ok) result.failed++;
      else if (outcome.created === true) result.created++;
      else result.existing++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(SEED_WINDOW, count) }, lane));
  result.elapsedMs = Math.round(performance.now() - started);
  return result;
}
