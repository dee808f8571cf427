import type { RuleSet } from '../runtime/worker/ledger-host.js';
import { switchRules } from './switch-rules.js';
import { resolveWorkerScript } from './worker-script.js';

/**
 * The rules the ledger's shard owners run, for both ways they can run: the
 * rule set itself (an inline owner on the main thread) and the entry file
 * of a worker thread, which imports the same rule set (ledger-worker.ts).
 */
export const ledgerRuleSet: RuleSet = {
  rules: switchRules,
  workerScript: resolveWorkerScript,
};
