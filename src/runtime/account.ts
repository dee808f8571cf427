/** On-us account state (docs/protocol.md section 5). Integer minor units only. */

export type AccountStatus = 'active' | 'blocked';

export interface AccountLimits {
  perTxnMax?: number;
  dailyMax?: number;
  dailyCountMax?: number;
}

export interface AccountState {
  /** The PAN masked (util/pan.ts maskPan): what views, logs and the journal show. */
  readonly panMasked: string;
  /**
   * The PAN sealed under a data key with the account's ref as record id
   * (security/account-refs.ts): never opened on the hot path, kept so a
   * re-keying job can make new tokens. Re-sealed when its key is not the
   * current one.
   */
  panSealed: Uint8Array;
  readonly currency: string;
  /** Posted balance. */
  balance: number;
  /** Sum of open holds. */
  held: number;
  status: AccountStatus;
  limits: AccountLimits;
  /** UTC day number (epoch ms / 86400000, floored) the counters below belong to. */
  day: number;
  /** Approved purchases, cash and holds counted today, at the approved amount. */
  dayAmount: number;
  dayCount: number;
}

/** What an account stores of its PAN: sealed (security/account-refs.ts) and masked. */
export type AccountIdentity = Pick<AccountState, 'panSealed' | 'panMasked'>;

/** The rest of an account. */
export type AccountFields = Omit<AccountState, 'panSealed' | 'panMasked'>;

/**
 * Every AccountState is made here, by one object literal with its fields in
 * one order, so that V8 gives every account one hidden class and the hot
 * path (decide, writeAccount) reads them at one shape. Accounts built by
 * spreading an identity into a literal had shapes of their own and cost the
 * ledger workers ~2 us an approval (docs/performance-log.md, issue 16).
 */
export function accountState(identity: AccountIdentity, f: AccountFields): AccountState {
  return {
    panMasked: identity.panMasked,
    panSealed: identity.panSealed,
    currency: f.currency,
    balance: f.balance,
    held: f.held,
    status: f.status,
    limits: f.limits,
    day: f.day,
    dayAmount: f.dayAmount,
    dayCount: f.dayCount,
  };
}

export const DAY_MS = 86_400_000;

export function utcDay(nowMs: number): number {
  return Math.floor(nowMs / DAY_MS);
}

export function available(account: AccountState): number {
  return account.balance - account.held;
}

/** Rolls the daily counters over when the UTC day changed. */
export function rollDay(account: AccountState, day: number): void {
  if (account.day !== day) {
    account.day = day;
    account.dayAmount = 0;
    account.dayCount = 0;
  }
}

/** The account as the admin API shows it (the PAN masked). */
export interface AccountView {
  pan: string;
  currency: string;
  balance: number;
  held: number;
  available: number;
  status: AccountStatus;
  limits: AccountLimits;
}
