import { maskPan } from '../util/pan.js';

/**
 * The ids that let a person follow one transaction through the log
 * (docs/logging.md, "Lines for on-call"): the acquirer's institution, the
 * rrn it was answered with (when there is one yet), its stan, and the PAN
 * masked by the contract's rule (first 6 / last 4). Never the full PAN.
 */
export interface TxnIds {
  readonly institution: string;
  readonly rrn: string | undefined;
  readonly stan: number;
  readonly pan: string;
}

/** How many transactions a line about many of them names (the rest are counted). */
export const TXN_SAMPLES_MAX = 5;

/** Built on failure paths only: a mask is a string copy, which the hot path does not pay for. */
export function txnIds(
  institution: string,
  req: { readonly pan: string; readonly stan: number },
  rrn?: string,
): TxnIds {
  return { institution, rrn, stan: req.stan, pan: maskPan(req.pan) };
}
