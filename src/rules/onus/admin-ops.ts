import { RC } from '../../protocol/rc.js';
import { LOCAL_ISSUER } from '../../protocol/txn-context.js';
import {
  type AccountIdentity,
  type AccountState,
  type AccountView,
  accountState,
  available,
  utcDay,
} from '../../runtime/account.js';
import type { Actor } from '../../runtime/core/actor.js';
import type { OpenBatch } from '../../runtime/core/open-batch.js';
import type { LedgerEffect } from '../../runtime/effects.js';
import { StoredResponse } from '../../runtime/records/stored-response.js';
import {
  ADJUST_KEY_PREFIX,
  type KeyParts,
  parseKey,
  refKeyParts,
  sideRecord,
} from '../../runtime/records/txn-record.js';
import type { AdminOutcome, ExpireOutcome, WorkItem } from '../../runtime/worker/worker-protocol.js';
import { creditFits } from './decide.js';

/**
 * The account calls of the admin API (docs/protocol.md section 6), run by the
 * owning actor like any transaction, so an account keeps one writer.
 */

export function viewOf(account: AccountState): AccountView {
  return {
    pan: account.panMasked,
    currency: account.currency,
    balance: account.balance,
    held: account.held,
    available: available(account),
    status: account.status,
    limits: { ...account.limits },
  };
}

function notFound(): AdminOutcome {
  return { ok: false, code: 'account_not_found', message: 'no such account' };
}

function effect(
  kind: LedgerEffect['kind'],
  amount: number,
  key: KeyParts,
  currency: string,
  nowMs: number,
): LedgerEffect {
  return {
    kind,
    amount,
    issuer: LOCAL_ISSUER,
    // The switch's own change, not a request's: no MTI.
    mti: undefined,
    institution: key.institution,
    stan: key.stan,
    time: key.time,
    refKey: key.refKey,
    original: undefined,
    proc: '00',
    currency,
    atMs: nowMs,
    rrnHead: '',
    rrnTail: -1,
  };
}

/** The journal key of an account's opening balance. */
const OPEN_KEY = refKeyParts('#open');

export function runGet(actor: Actor): AdminOutcome {
  return actor.account === undefined ? notFound() : { ok: true, account: viewOf(actor.account) };
}

export function runPut(
  actor: Actor,
  item: Extract<WorkItem, { k: 'put' }>,
  identity: () => AccountIdentity,
  batch: OpenBatch,
  nowMs: number,
): AdminOutcome {
  const existing = actor.account;
  if (existing === undefined) {
    const account = accountState(identity(), {
      currency: item.currency,
      balance: item.balance,
      held: 0,
      status: item.status ?? 'active',
      limits: { ...(item.limits ?? {}) },
      day: utcDay(nowMs),
      dayAmount: 0,
      dayCount: 0,
    });
    actor.account = account;
    actor.status = 'ready';
    batch.join(actor);
    // The opening balance is a balance change like any other: journaled.
    batch.addEffect(actor, effect('open', item.balance, OPEN_KEY, item.currency, nowMs));
    return { ok: true, created: true, account: viewOf(account) };
  }
  if (item.createOnly) return { ok: true, created: false, account: viewOf(existing) };
  if (item.currency !== existing.currency) {
    return {
      ok: false,
      code: 'currency_mismatch',
      message: `the account holds ${existing.currency}; its currency cannot change`,
    };
  }
  if (item.limits !== undefined) existing.limits = { ...item.limits };
  if (item.status !== undefined) existing.status = item.status;
  batch.join(actor);
  return { ok: true, created: false, account: viewOf(existing) };
}

export function runAdjust(
  actor: Actor,
  item: Extract<WorkItem, { k: 'adjust' }>,
  batch: OpenBatch,
  nowMs: number,
): AdminOutcome {
  const account = actor.account;
  if (account === undefined) return notFound();
  const key = refKeyParts(`${ADJUST_KEY_PREFIX}${item.reference}`);
  const previous = actor.records.findParts(key);
  if (previous !== undefined) {
    if (previous.amount === item.amount) return { ok: true, account: viewOf(account) };
    return {
      ok: false,
      code: 'reference_conflict',
      message: 'this reference was already used with another amount',
    };
  }
  if (available(account) + item.amount < 0) {
    return {
      ok: false,
      code: 'insufficient_funds',
      message: 'the debit would make available negative',
    };
  }
  if (item.amount > 0 && !creditFits(account, item.amount)) {
    return {
      ok: false,
      code: 'balance_overflow',
      message: 'the credit would take the balance past 2^53 - 1 minor units',
    };
  }
  account.balance += item.amount;
  const record = sideRecord({
    key,
    tombstone: false,
    amount: item.amount,
    currency: account.currency,
    response: StoredResponse.of({ rc: RC.approved, rrn: '' }),
    atMs: nowMs,
  });
  actor.records.set(record);
  batch.join(actor);
  batch.addRecord(actor, record);
  batch.addEffect(actor, effect('adjust', item.amount, key, account.currency, nowMs));
  return { ok: true, account: viewOf(account) };
}

/** Releases a hold whose time is up, through its actor. */
export function runExpire(actor: Actor, recordKey: string, batch: OpenBatch, nowMs: number): ExpireOutcome {
  const account = actor.account;
  const key = parseKey(recordKey);
  const record = actor.records.findParts(key);
  // Completed, reversed or expired meanwhile (or an account/record that is gone): nothing to release.
  if (
    account === undefined ||
    record === undefined ||
    record.state !== 'open' ||
    record.reversedRc !== undefined
  ) {
    return 'closed';
  }
  if (record.holdExpiresAtMs > nowMs) return { dueAtMs: record.holdExpiresAtMs };
  account.held -= record.approvedAmount;
  record.state = 'expired';
  // A sealed record is found as a copy: the changed copy goes back into the index.
  actor.records.set(record);
  batch.join(actor);
  batch.addRecord(actor, record);
  batch.addEffect(actor, {
    ...effect('expire', record.approvedAmount, key, account.currency, nowMs),
    original: record,
    proc: record.proc === '' ? '00' : record.proc,
    rrnHead: record.rrnHead,
    rrnTail: record.rrnTail,
  });
  return 'released';
}
