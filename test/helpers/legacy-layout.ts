import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import type { AccountState } from '../../src/runtime/account.js';
import type { LegacyJournalRecord } from '../../src/runtime/storage/state-codec.js';
import { LEGACY_ACCOUNT_FORMAT, LEGACY_JOURNAL_FORMAT } from '../../src/runtime/storage/state-codec.js';

/**
 * Layout 2's writers (the build before layout 3, commit 8460a83), for tests
 * that build a layout 2 store by hand: the mirror of state-codec's
 * decodeLegacyAccountFields and decodeLegacyJournalEntry, written as that
 * build wrote them (same MsgpackWriter calls, so the same bytes).
 */

/** An account's state without what layout 3 adds (its PAN sealed and masked). */
export type LegacyState = Omit<AccountState, 'panMasked' | 'panSealed'>;

/** An account state entry of layout 2: format 2, the PAN in clear at f[1]. */
export function encodeLegacyAccount(pan: string, a: LegacyState): Buffer {
  const l = a.limits;
  const w = new MsgpackWriter(256);
  w.arrayHeader(12);
  w.number(LEGACY_ACCOUNT_FORMAT);
  w.str(pan);
  w.str(a.currency);
  w.number(a.balance);
  w.number(a.held);
  w.str(a.status);
  w.numberOrNil(l.perTxnMax);
  w.numberOrNil(l.dailyMax);
  w.numberOrNil(l.dailyCountMax);
  w.number(a.day);
  w.number(a.dayAmount);
  w.number(a.dayCount);
  return Buffer.from(w.view());
}

/** A journal record of layout 2: format 1, the PAN in clear at f[2]. */
export function encodeLegacyJournalRecord(r: LegacyJournalRecord): Buffer {
  const w = new MsgpackWriter(256);
  w.arrayHeader(10);
  w.number(LEGACY_JOURNAL_FORMAT);
  w.str(r.kind);
  w.str(r.pan);
  w.number(r.amount);
  w.str(r.currency);
  w.str(r.proc);
  w.str(r.key);
  w.strOrNil(r.origKey);
  w.str(r.rrn);
  w.number(r.atMs);
  return Buffer.from(w.view());
}

/** A hold bucket member of layout 2. */
export function legacyHoldMember(pan: string, recordKey: string): string {
  return `${pan}#${recordKey}`;
}
