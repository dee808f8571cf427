/** On-us account state (docs/protocol.md section 5). Integer minor units only. */

export type AccountStatus = 'active' | 'blocked';

export interface AccountLimits {
  perTxnMax?: number;
  dailyMax?: number;
  dailyCountMax?: number;
}

export interface AccountState {
  readonly pan: string;
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

/** The account as the admin API shows it: PAN masked by the caller. */
export interface AccountView {
  pan: string;
  currency: string;
  balance: number;
  held: number;
  available: number;
  status: AccountStatus;
  limits: AccountLimits;
}
