import type { Redis } from 'ioredis';
import { sealedKeyId } from '../../security/aead.js';
import type { KeySpace } from '../../store/keys.js';
import { type AdviceRecord, decodeAdvice } from './state-codec.js';

/** Keys asked of Redis per SCAN step when looking for advice streams. */
const SCAN_COUNT = 500;

/**
 * Stores re-sealed advice PANs, compare-and-set, for several advices of one
 * stream in one step (docs/security.md "Rotation"). KEYS[1] is the stream,
 * KEYS[2] its hash of re-sealed PANs; ARGV comes in fours: the entry's stream
 * id, the advice id, the hash's value the caller read ('' for none: a seal is
 * never empty), the new seal. Per advice: 0 when its entry is gone from the
 * stream (delivered, acknowledged and deleted meanwhile: nothing is written,
 * so it is not brought back), -1 when the hash changed since the caller read
 * it (written by another job: read it again), 1 when stored. The delivery
 * deletes an entry and its field in one MULTI, so the two never disagree.
 */
const STORE_RESEALED = `
local out = {}
for i = 1, #ARGV, 4 do
  if #redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i]) == 0 then
    out[#out + 1] = 0
  elseif (redis.call('HGET', KEYS[2], ARGV[i + 1]) or '') ~= ARGV[i + 2] then
    out[#out + 1] = -1
  else
    redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i + 3])
    out[#out + 1] = 1
  end
end
return out
`;

/** One entry of an issuer's advice stream, with the re-sealed PAN its hash holds for it, if any. */
export interface QueuedAdvice {
  readonly streamId: string;
  /** undefined: the entry could not be decoded (`error` says why). */
  readonly advice: AdviceRecord | undefined;
  readonly error?: unknown;
  /** The advice's PAN sealed again under a newer data key (keys.adviceSeals), preferred to the entry's own. */
  readonly resealed: Buffer | undefined;
}

/**
 * The seal that protects a queued advice's PAN now: the re-sealed one when
 * the job wrote one, else the entry's own (which a stream entry keeps
 * forever). undefined for an entry that could not be decoded.
 */
export function sealOf(queued: QueuedAdvice): Uint8Array | undefined {
  return queued.resealed ?? queued.advice?.panSealed;
}

/** The data key id that sealed `sealed`, or undefined when it is not a sealed value. */
export function sealKeyIdOf(sealed: Uint8Array | undefined): string | undefined {
  if (sealed === undefined) return undefined;
  try {
    return sealedKeyId(sealed);
  } catch {
    return undefined;
  }
}

/**
 * Every issuer with an advice stream in the store: configured or not (an
 * institution removed by a reload keeps its queued advices). A stream is
 * never deleted (XDEL keeps the key), so SCAN finds every one that exists
 * when it starts; one created after that holds advices sealed after it.
 */
export async function adviceIssuers(redis: Redis, keys: KeySpace): Promise<string[]> {
  const issuers = new Set<string>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.advicesPattern(), 'COUNT', SCAN_COUNT);
    cursor = next;
    for (const key of found) {
      const issuer = keys.issuerOfAdvices(key);
      if (issuer !== undefined) issuers.add(issuer);
    }
  } while (cursor !== '0');
  return [...issuers].sort();
}

/**
 * Up to `count` entries of `issuer`'s advice stream after stream id `after`
 * (undefined: from the start), in queue order, each with its re-sealed PAN.
 * `wanted` picks which entries' hash fields are read (default: all), so a
 * reader that can open the entry's own seal need not ask.
 */
export async function readAdvices(
  redis: Redis,
  keys: KeySpace,
  issuer: string,
  after: string | undefined,
  count: number,
  wanted: (advice: AdviceRecord) => boolean = () => true,
): Promise<QueuedAdvice[]> {
  const entries = await redis.xrangeBuffer(
    keys.advices(issuer),
    after === undefined ? '-' : `(${after}`,
    '+',
    'COUNT',
    count,
  );
  const decoded = entries.map(([idBuffer, fields]) => {
    const streamId = idBuffer.toString();
    try {
      return { streamId, advice: decodeAdvice(fields[1]!) };
    } catch (error) {
      return { streamId, advice: undefined, error };
    }
  });
  const asked = decoded.flatMap((d) => (d.advice !== undefined && wanted(d.advice) ? [d.advice.id] : []));
  const resealed = new Map<string, Buffer>();
  if (asked.length > 0) {
    const values = await redis.hmgetBuffer(keys.adviceSeals(issuer), ...asked);
    asked.forEach((id, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) resealed.set(id, value);
    });
  }
  return decoded.map((d) => ({
    ...d,
    resealed: d.advice === undefined ? undefined : resealed.get(d.advice.id),
  }));
}

/** A re-sealed PAN to store for one queued advice. */
export interface ResealWrite {
  readonly queued: QueuedAdvice & { readonly advice: AdviceRecord };
  readonly sealed: Buffer;
}

/** What became of one write: stored, its entry gone (not written), or the hash changed meanwhile (read again). */
export type ResealWriteOutcome = 'done' | 'absent' | 'retry';

/** Stores `writes` (all of `issuer`'s stream) compare-and-set, in one script call. */
export async function storeResealed(
  redis: Redis,
  keys: KeySpace,
  issuer: string,
  writes: readonly ResealWrite[],
): Promise<ResealWriteOutcome[]> {
  if (writes.length === 0) return [];
  const args = writes.flatMap(({ queued, sealed }) => [
    queued.streamId,
    queued.advice.id,
    queued.resealed ?? '',
    sealed,
  ]);
  const replies = (await redis.eval(
    STORE_RESEALED,
    2,
    keys.advices(issuer),
    keys.adviceSeals(issuer),
    ...args,
  )) as number[];
  return replies.map((reply) => (reply === 1 ? 'done' : reply === 0 ? 'absent' : 'retry'));
}
