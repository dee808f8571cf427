import { MsgpackWriter } from '../../../codec/msgpack-writer.js';
import { LOCAL_ISSUER } from '../../../protocol/txn-context.js';
import { holdMember } from '../../../store/keys.js';
import { isPanShaped, maskPan } from '../../../util/pan.js';
import { AccountLayoutError } from '../account-layout.js';
import {
  DROP_FORMAT,
  decodeLegacyAccountFields,
  decodeLegacyJournalFields,
  decodeRecordFields,
  forEachValue,
  JOURNAL_FORMAT,
  LEGACY_ACCOUNT_FORMAT,
  LEGACY_JOURNAL_FORMAT,
  RECORD_FORMAT,
  writeAccount,
  writeIdentity,
  writeJournalRecord,
} from '../state-codec.js';
import type { PanRefs } from './pan-refs.js';

/**
 * Layout 2 values re-encoded as layout 3 (docs/security.md "The upgrade to layout 3"):
 * pure functions, no Redis. Each tells a layout 2 value from a layout 3 one,
 * so converting a value twice changes nothing the second time.
 */

/** A value the upgrade cannot read: the start stops, naming it (never with a PAN). */
export class LegacyValueError extends AccountLayoutError {}

/**
 * Whether an account key's ref part is a PAN (layout 2). A layout 3 ref is
 * `<tokenKeyId>.<token>` and always holds a dot; a PAN never does.
 */
export function isLegacyAccountRef(ref: string): boolean {
  return !ref.includes('.');
}

/** An account log in layout 3, and the length of its identity entry (first). */
export interface UpgradedLog {
  readonly log: Buffer;
  readonly identityBytes: number;
}

/**
 * A layout 2 account log as layout 3: an identity entry first (the PAN
 * sealed for the account's ref, and masked), then the old log's entries in
 * order, each state (format 2, the PAN in clear) written again in format 6
 * and each record and drop kept byte for byte (they hold no PAN). The
 * records are decoded once, so one that layout 3 could not read refuses the
 * upgrade now rather than the account at its next activation.
 */
export function upgradeAccountLog(data: Buffer, pan: string, refs: PanRefs): UpgradedLog {
  const masked = maskPan(pan);
  if (!isPanShaped(pan)) throw new LegacyValueError(`account ${masked}: its key names no PAN`);
  const identity = { panSealed: refs.sealed(pan), panMasked: masked };
  const w = new MsgpackWriter(data.length + 128);
  writeIdentity(w, identity);
  const identityBytes = w.view().length;
  try {
    forEachValue(data, (value, start, end) => {
      if (!Array.isArray(value)) throw new Error('an entry is not an array');
      const format = value[0];
      if (format === LEGACY_ACCOUNT_FORMAT) {
        const legacy = decodeLegacyAccountFields(value);
        if (legacy.pan !== pan) throw new Error(`a state names another PAN (${maskPan(String(legacy.pan))})`);
        writeAccount(w, { ...legacy.state, ...identity });
      } else if (format === RECORD_FORMAT || format === DROP_FORMAT) {
        if (format === RECORD_FORMAT) decodeRecordFields(value);
        else if (typeof value[1] !== 'string') throw new Error('a drop without its key');
        w.raw(data.subarray(start, end));
      } else {
        throw new Error(`an entry of format ${String(format)}, not one of layout 2`);
      }
    });
  } catch (error) {
    throw new LegacyValueError(`account ${masked}: its log cannot be read (${(error as Error).message})`);
  }
  return { log: Buffer.from(w.view()), identityBytes };
}

/**
 * A journal stream entry's data (concatenated records) with each layout 2
 * record (format 1: the PAN in clear) written again in format 2: the
 * account's shard, ref and masked PAN, issuer `local` (layout 2 journaled
 * the on-us ledger only), MTI nil (layout 2 did not keep it). Records
 * already in format 2 are kept as they are. Undefined when no record needed
 * converting (the entry is left alone).
 */
export function upgradeJournalData(data: Buffer, refs: PanRefs): Buffer | undefined {
  const w = new MsgpackWriter(data.length * 2);
  let converted = 0;
  forEachValue(data, (value, start, end) => {
    if (!Array.isArray(value)) throw new LegacyValueError('a journal record is not an array');
    if (value[0] === JOURNAL_FORMAT) {
      w.raw(data.subarray(start, end));
      return;
    }
    if (value[0] !== LEGACY_JOURNAL_FORMAT)
      throw new LegacyValueError(`a journal record of format ${String(value[0])}, not one of layout 2`);
    // From the array forEachValue unpacked: a nested unpack of the record's bytes costs msgpackr a saved state each time.
    const { pan, ...fields } = decodeLegacyJournalFields(value);
    if (typeof pan !== 'string' || !isPanShaped(pan))
      throw new LegacyValueError(`a journal record of account ${maskPan(String(pan))} names no PAN`);
    writeJournalRecord(w, { ...fields, ...refs.of(pan), issuer: LOCAL_ISSUER, mti: undefined });
    converted++;
  });
  return converted === 0 ? undefined : Buffer.from(w.view());
}

/** A layout 2 hold bucket member: `<PAN>#<recordKey>`. */
const LEGACY_HOLD_MEMBER = /^([0-9]{12,19})#/;

/**
 * A hold bucket member in layout 3 (holdMember: `<shard>:<ref>#<recordKey>`),
 * made from the PAN of a layout 2 one whether or not an account has it.
 * Any other member (a layout 3 one, or one hold expiry cannot read either)
 * is kept as it is.
 */
export function upgradeHoldMember(member: string, refs: PanRefs): string {
  const legacy = LEGACY_HOLD_MEMBER.exec(member);
  if (legacy === null) return member;
  const pan = legacy[1]!;
  const { shard, ref } = refs.of(pan);
  return holdMember(shard, ref, member.slice(pan.length + 1));
}
