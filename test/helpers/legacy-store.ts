import type { Redis } from 'ioredis';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import type { LedgerEffect } from '../../src/runtime/effects.js';
import { StoredResponse } from '../../src/runtime/records/stored-response.js';
import { keyOf, parseKey, sideRecord, type TxnRecord } from '../../src/runtime/records/txn-record.js';
import {
  decodeRecord,
  encodeRecord,
  type LegacyJournalRecord,
  writeAccount,
  writeDrop,
} from '../../src/runtime/storage/state-codec.js';
import { type KeySpace, LOG_PARTITION_COUNT, legacyShardOf, logPartitionOf } from '../../src/store/keys.js';
import { withLuhnDigit } from '../../src/util/pan.js';
import {
  encodeLegacyAccount,
  encodeLegacyJournalRecord,
  type LegacyState,
  legacyHoldMember,
} from './legacy-layout.js';
import type { SeededRng } from './seeded-rng.js';

/**
 * A layout 2 store built by hand, at random from a seed, as the build
 * before layout 3 left them (accounts under `{fnvShard}:acct:<PAN>`, the
 * journal and hold buckets by the PAN's FNV partition, the PAN in clear
 * everywhere), and what the upgrade to layout 3 must make of it.
 */

/** Stream ids are `<ms>-<n>`: commits here are at T0 + some seconds, long past any hold TTL. */
export const LEGACY_T0_MS = 1_764_000_000_000;

export interface LegacyAccountModel {
  readonly pan: string;
  readonly oldKey: string;
  /** The log as layout 2 stored it. */
  readonly legacyLog: Buffer;
  /** What the layout 3 log must hold after its identity entry: the states in format 6, the rest byte for byte. */
  readonly upgradedTail: Buffer;
  /** The last state. */
  readonly state: LegacyState;
  /** Each key's last record not dropped after it (what readAccountLog returns), oldest write first. */
  readonly records: TxnRecord[];
}

export interface LegacyJournalEntryModel {
  readonly id: string;
  readonly records: LegacyJournalRecord[];
}

export interface LegacyStoreModel {
  readonly accounts: LegacyAccountModel[];
  /** Each log partition's journal entries still in the stream, in id order. */
  readonly journals: Map<number, LegacyJournalEntryModel[]>;
  /** Hold bucket lists: key and members (layout 2). */
  readonly holdBuckets: Map<string, string[]>;
  /** Every PAN anywhere in the store: accounts, journal-only and hold-only ones. */
  readonly pans: string[];
  /** Keys the upgrade must leave alone, with their values (cursors, epochs, counters, bucket sets). */
  readonly untouched: Map<string, string>;
}

export interface LegacyStoreSize {
  readonly accounts: number;
  readonly commits: number;
  readonly holdBuckets: number;
}

const KINDS: readonly LedgerEffect['kind'][] = [
  'hold',
  'release',
  'expire',
  'debit',
  'credit',
  'complete',
  'adjust',
  'open',
];

function randomPan(rng: SeededRng, taken: Set<string>): string {
  for (;;) {
    const length = rng.pick([13, 16, 16, 16, 19]);
    let body = rng.pick(['4', '5', '6']);
    while (body.length < length - 1) body += String(rng.int(0, 9));
    const pan = withLuhnDigit(body);
    if (!taken.has(pan)) {
      taken.add(pan);
      return pan;
    }
  }
}

function randomState(rng: SeededRng): LegacyState {
  const big = rng.chance(0.3);
  return {
    currency: rng.pick(['USD', 'EUR']),
    balance: big ? 2 ** 52 - rng.int(0, 1000) : rng.int(0, 1_000_000),
    held: rng.int(0, 5_000),
    status: rng.pick(['active', 'blocked'] as const),
    limits: rng.chance(0.5)
      ? { perTxnMax: rng.int(1, 10_000), dailyMax: 2 ** 40, dailyCountMax: rng.int(1, 99) }
      : {},
    day: 20_400 + rng.int(0, 10),
    dayAmount: rng.int(0, 100_000),
    dayCount: rng.int(0, 50),
  };
}

function randomRecord(rng: SeededRng, key: string): TxnRecord {
  const response = StoredResponse.of({
    rc: rng.pick(['00', '05', '51']),
    rrn: String(rng.int(1, 999_999_999)).padStart(12, '0'),
    ...(rng.chance(0.5) ? { authCode: 'A1B2C3', amount: rng.int(1, 500), balance: rng.int(0, 9_999) } : {}),
  });
  return sideRecord({
    key: parseKey(key),
    tombstone: rng.chance(0.2),
    amount: rng.int(1, 10_000),
    currency: 'USD',
    response,
    atMs: LEGACY_T0_MS + rng.int(0, 86_400_000),
  });
}

/** One account's layout 2 log: a first state, then states, records and drops interleaved. */
function randomAccount(rng: SeededRng, keys: KeySpace, pan: string): LegacyAccountModel {
  const legacy: Buffer[] = [];
  const tail = new MsgpackWriter(1024);
  const live = new Map<string, TxnRecord>();
  let state = randomState(rng);
  const writeState = (s: LegacyState): void => {
    legacy.push(encodeLegacyAccount(pan, s));
    writeAccount(tail, { ...s, panMasked: '', panSealed: new Uint8Array() });
  };
  writeState(state);
  const recordKeys = Array.from({ length: rng.int(0, 6) }, (_, i) =>
    rng.chance(0.8) ? `acq|${i + 1}|${LEGACY_T0_MS + i}` : `#adj|ref-${i}`,
  );
  const steps = rng.int(0, 12);
  for (let step = 0; step < steps; step++) {
    const what = rng.weighted([
      ['state', 3],
      ['record', recordKeys.length > 0 ? 5 : 0],
      ['drop', recordKeys.length > 0 ? 1 : 0],
    ] as const);
    if (what === 'state') {
      state = randomState(rng);
      writeState(state);
    } else if (what === 'record') {
      const bytes = encodeRecord(randomRecord(rng, rng.pick(recordKeys)));
      legacy.push(bytes);
      tail.raw(bytes);
      const record = decodeRecord(bytes);
      live.delete(keyOf(record));
      live.set(keyOf(record), record);
    } else {
      const key = rng.pick(recordKeys);
      const w = new MsgpackWriter(64);
      writeDrop(w, key);
      legacy.push(Buffer.from(w.view()));
      tail.raw(w.view());
      live.delete(key);
    }
  }
  return {
    pan,
    oldKey: keys.account(legacyShardOf(pan), pan),
    legacyLog: Buffer.concat(legacy),
    upgradedTail: Buffer.from(tail.view()),
    state,
    records: [...live.values()],
  };
}

function randomJournalRecord(rng: SeededRng, pan: string, atMs: number): LegacyJournalRecord {
  const kind = rng.pick(KINDS);
  const stan = rng.int(1, 999_999);
  const refKind = kind === 'adjust' || kind === 'open';
  return {
    kind,
    pan,
    amount: kind === 'adjust' ? rng.int(-5_000, 5_000) : rng.int(1, 2 ** 40),
    currency: 'USD',
    proc: '00',
    key: refKind ? (kind === 'open' ? '#open' : `#adj|ref-${stan}`) : `acq|${stan}|${atMs}`,
    origKey: ['release', 'complete', 'expire'].includes(kind) ? `acq|${stan - 1}|${atMs - 1}` : undefined,
    rrn: String(stan).padStart(12, '0'),
    atMs,
  };
}

/** Writes a random layout 2 store under `keys` (marker "2") and returns what it holds. */
export async function writeLegacyStore(
  redis: Redis,
  keys: KeySpace,
  rng: SeededRng,
  size: LegacyStoreSize,
): Promise<LegacyStoreModel> {
  const taken = new Set<string>();
  const accountPans = Array.from({ length: size.accounts }, () => randomPan(rng, taken));
  // PANs the journal or the hold buckets name with no account (closed, or never opened here).
  const strayPans = Array.from({ length: Math.max(2, size.accounts >> 3) }, () => randomPan(rng, taken));
  const accounts = accountPans.map((pan) => randomAccount(rng, keys, pan));
  const writing = redis.pipeline();
  for (const a of accounts) writing.set(a.oldKey, a.legacyLog);

  // Commits in time order: each appends one entry per log partition it touches, as layout 2 did.
  const journals = new Map<number, LegacyJournalEntryModel[]>();
  for (let commit = 0; commit < size.commits; commit++) {
    const atMs = LEGACY_T0_MS + commit * 1_000 + rng.int(0, 999);
    const byPartition = new Map<number, LegacyJournalRecord[]>();
    for (let n = rng.int(1, 6); n > 0; n--) {
      const pan = rng.chance(0.85) ? rng.pick(accountPans) : rng.pick(strayPans);
      const partition = logPartitionOf(legacyShardOf(pan));
      const records = byPartition.get(partition) ?? [];
      records.push(randomJournalRecord(rng, pan, atMs));
      byPartition.set(partition, records);
    }
    for (const [partition, records] of byPartition) {
      const entries = journals.get(partition) ?? [];
      entries.push({ id: `${atMs}-${commit % 3}`, records });
      journals.set(partition, entries);
      writing.xadd(
        keys.journal(partition),
        `${atMs}-${commit % 3}`,
        'd',
        Buffer.concat(records.map(encodeLegacyJournalRecord)),
      );
    }
  }
  // Some streams lose their last entries (XDEL): their last-generated-id must outlive the rewrite.
  for (const [partition, entries] of journals) {
    if (entries.length > 1 && rng.chance(0.3)) {
      const deleted = entries.pop()!;
      writing.xdel(keys.journal(partition), deleted.id);
    }
  }

  const holdBuckets = new Map<string, string[]>();
  const untouched = new Map<string, string>();
  for (let b = 0; b < size.holdBuckets; b++) {
    const partition = rng.int(0, LOG_PARTITION_COUNT - 1);
    const bucket = 1_764_000_000 + b;
    const members = Array.from({ length: rng.int(1, 8) }, () =>
      legacyHoldMember(
        rng.chance(0.8) ? rng.pick(accountPans) : rng.pick(strayPans),
        `acq|${rng.int(1, 9999)}|${LEGACY_T0_MS}`,
      ),
    );
    // A member hold expiry could not read either: kept as it is.
    if (b === 0) members.push('x');
    holdBuckets.set(keys.holdBucket(partition, bucket), members);
    writing.rpush(keys.holdBucket(partition, bucket), ...members);
    writing.sadd(keys.holdBuckets(partition), String(bucket));
  }
  for (const [partition, entries] of journals) {
    const at = entries[rng.int(0, entries.length - 1)]!;
    untouched.set(keys.holdExpiryCursor(partition), at.id);
  }
  untouched.set(keys.epoch(7), '12');
  untouched.set(keys.ownerCounter(), '3');
  untouched.set(keys.sweepCursor(), '42');
  for (const [key, value] of untouched) writing.set(key, value);
  writing.set(keys.accountLayout(), '2');
  const replies = (await writing.exec()) ?? [];
  for (const [error] of replies) if (error !== null) throw error;
  return { accounts, journals, holdBuckets, pans: [...taken], untouched };
}
