import type { CommandSpec } from '../util/parse-command.js';
import { dispatch } from './dispatch.js';

const ACCOUNTS_SPEC: CommandSpec = {
  name: 'switchyard accounts',
  usage: `usage: switchyard accounts <command> [options]

Account operations through the running switch's admin API (docs/protocol.md section 6);
the admin address and token come from --config FILE (default config/demo.json, or
SWITCHYARD_CONFIG) or --admin URL --token TOKEN.

  seed --count N --balance MINOR --currency CODE    create the simulator's accounts in bulk
  get PAN                                           print an account
  put PAN --currency CODE --balance MINOR           create an account, or set its status and limits
  adjust PAN --amount MINOR --reference REF         credit or debit, idempotent on the reference

Each answers --help with its options.
`,
  options: {},
};

/** `switchyard accounts seed|get|put|adjust ...` */
export function runAccountsCommand(argv: readonly string[]): Promise<number> {
  return dispatch(ACCOUNTS_SPEC, argv, {
    seed: async () => (await import('./accounts-seed.js')).runAccountsSeed,
    get: async () => (await import('./account-calls.js')).runAccountGet,
    put: async () => (await import('./account-calls.js')).runAccountPut,
    adjust: async () => (await import('./account-calls.js')).runAccountAdjust,
  });
}
