import type { ActorRules } from '../../runtime/core/actor-rules.js';
import { runAdjust, runExpire, runGet, runPut } from './admin-ops.js';
import { decideInto } from './decide.js';

/** The on-us ledger as a rule set for the actor runtime: section 3's decisions and the account admin calls. */
export const onUsRules: ActorRules = {
  decide: decideInto,
  get: runGet,
  put: runPut,
  adjust: runAdjust,
  expire: runExpire,
};
