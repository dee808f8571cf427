import type { ActorRules } from '../runtime/core/actor-rules.js';
import { routeTransaction, settleForward } from './issuer/issuer-rules.js';
import { runAdjust, runExpire, runGet, runPut } from './onus/admin-ops.js';
import { decideInto } from './onus/decide.js';

/**
 * Every rule the account actors run: the on-us ledger's decisions and
 * account calls (src/rules/onus), and the issuer routes' (src/rules/issuer),
 * on one runtime, so both get one journal, one commit per batch and one
 * exactly-once (docs/issuers.md).
 */
export const switchRules: ActorRules = {
  decide: decideInto,
  get: runGet,
  put: runPut,
  adjust: runAdjust,
  expire: runExpire,
  route: routeTransaction,
  settle: settleForward,
};
