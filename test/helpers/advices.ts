/**
 * Store-and-forward advices written straight into an issuer's stream, as a commit would
 * (src/runtime/storage/commit-builder.ts), for tests of the delivery and the re-seal job that
 * need no switch: the record is the codec's (state-codec.ts), the PAN sealed with the refs given.
 */
import type { Redis } from 'ioredis';
import { encodeAdvice } from '../../src/runtime/storage/state-codec.js';
import type { AccountRefs } from '../../src/security/account-refs.js';
import type { KeySpace } from '../../src/store/keys.js';
import { maskPan } from '../../src/util/pan.js';

/** The id of the `n`th advice these helpers make (a 0120: `<rrn>.0120`). */
export function adviceId(n: number): string {
  return `RRN${String(n).padStart(9, '0')}.0120`;
}

/** Appends a stand-in 0120 advice number `n` (stan n, amount 100 n) for `pan`, its PAN sealed by `refs`; its stream id. */
export async function queueAdvice(
  redis: Redis,
  keys: KeySpace,
  issuer: string,
  n: number,
  pan: string,
  refs: AccountRefs,
): Promise<string> {
  const id = adviceId(n);
  const data = encodeAdvice(
    {
      id,
      mti: '0120',
      acquirer: 'acq',
      stan: n,
      time: 1_764_000_000_000,
      amount: 100 * n,
      currency: 'EUR',
      proc: '00',
      merchant: undefined,
      terminal: undefined,
      mcc: undefined,
      rrn: id.slice(0, id.indexOf('.')),
      authCode: 'S00001',
      approvedAmount: 100 * n,
      origStan: undefined,
      origTime: undefined,
      atMs: 1_764_000_000_000,
    },
    refs.sealPan(pan, id),
    maskPan(pan),
  );
  return (await redis.xadd(keys.advices(issuer), '*', 'd', data))!;
}
