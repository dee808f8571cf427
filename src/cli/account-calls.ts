import { AMOUNT_MAX } from '../protocol/validate-request.js';
import { isPanShaped } from '../util/pan.js';
import type { CommandSpec, ParsedCommand } from '../util/parse-command.js';
import { answerFailure, callAdmin } from './admin-call.js';
import { ADMIN_TARGET_OPTIONS, ADMIN_TARGET_USAGE, resolveAdminTarget } from './admin-target.js';
import { EXIT_OK, runCommand } from './run-command.js';

/**
 * `switchyard accounts get|put|adjust PAN ...`: one admin API call each
 * (docs/protocol.md section 6), its JSON answer printed as the API sent it (the
 * API masks the PAN). A non-2xx answer is exit 1 with the status, error code
 * and message on one stderr line.
 */

/** An admin call that does not answer in this long is reported, not waited on forever. */
const ACCOUNT_CALL_TIMEOUT_MS = 30_000;
const MINOR_UNITS = { min: 0, max: AMOUNT_MAX, integer: true } as const;
const SIGNED_MINOR_UNITS = { min: -AMOUNT_MAX, max: AMOUNT_MAX, integer: true } as const;
const COUNT = { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true } as const;

export const GET_SPEC: CommandSpec = {
  name: 'switchyard accounts get',
  usage: `usage: switchyard accounts get PAN [options]

Prints the account as JSON (GET /accounts/{pan}): pan (masked), currency,
balance, held, available, status, limits. Exit 1 with "404 account_not_found"
when there is no such account.

${ADMIN_TARGET_USAGE}  --help             this text
`,
  options: { ...ADMIN_TARGET_OPTIONS, help: 'boolean' },
  positionals: ['PAN'],
};

export const PUT_SPEC: CommandSpec = {
  name: 'switchyard accounts put',
  usage: `usage: switchyard accounts put PAN --currency CODE --balance MINOR [options]

Creates the account (PUT /accounts/{pan}; --balance is the opening balance), or,
when it exists, sets its status and limits (--balance is then ignored; the
currency must match). Prints the account as JSON.

  --currency CODE        ISO 4217 alpha-3, e.g. USD
  --balance MINOR        opening balance, minor units
  --status STATUS        active or blocked (absent: active on create, unchanged on update)
  --per-txn-max MINOR    limit per transaction
  --daily-max MINOR      limit per day, minor units
  --daily-count-max N    limit of transactions per day
  --no-limits            remove every limit
                         (any limit option sets the whole set: limits not given are removed;
                         with none of these the limits are unchanged)

${ADMIN_TARGET_USAGE}  --help                 this text
`,
  options: {
    currency: 'string',
    balance: 'string',
    status: 'string',
    'per-txn-max': 'string',
    'daily-max': 'string',
    'daily-count-max': 'string',
    'no-limits': 'boolean',
    ...ADMIN_TARGET_OPTIONS,
    help: 'boolean',
  },
  positionals: ['PAN'],
};

export const ADJUST_SPEC: CommandSpec = {
  name: 'switchyard accounts adjust',
  usage: `usage: switchyard accounts adjust PAN --amount MINOR --reference REF [options]

Credits (positive) or debits (negative) the balance (POST /accounts/{pan}/adjust).
Idempotent on --reference: the same reference and amount again changes nothing
and prints the account; the same reference with another amount is refused (409).
Prints the account as JSON.

  --amount MINOR     signed, minor units, not 0 (e.g. --amount -300 debits 3.00)
  --reference REF    your unique reference for this adjustment (1..128 bytes)

${ADMIN_TARGET_USAGE}  --help             this text
`,
  options: { amount: 'string', reference: 'string', ...ADMIN_TARGET_OPTIONS, help: 'boolean' },
  positionals: ['PAN'],
};

/** The PAN argument, checked for shape only (the API checks Luhn); never echoed back. */
function panArgument(args: ParsedCommand): string {
  const pan = args.positionals[0] ?? '';
  if (!isPanShaped(pan)) throw args.error('PAN must be 12 to 19 digits');
  return pan;
}

function required<T>(args: ParsedCommand, name: string, value: T | undefined): T {
  if (value === undefined) throw args.error(`--${name} is required`);
  return value;
}

/** The limits object of a PUT, or undefined to leave the limits as they are. */
function limitsOf(args: ParsedCommand): Record<string, number> | undefined {
  const limits: Record<string, number> = {};
  const perTxnMax = args.number('per-txn-max', MINOR_UNITS);
  const dailyMax = args.number('daily-max', MINOR_UNITS);
  const dailyCountMax = args.number('daily-count-max', COUNT);
  if (perTxnMax !== undefined) limits['perTxnMax'] = perTxnMax;
  if (dailyMax !== undefined) limits['dailyMax'] = dailyMax;
  if (dailyCountMax !== undefined) limits['dailyCountMax'] = dailyCountMax;
  const someLimit = Object.keys(limits).length > 0;
  if (args.has('no-limits')) {
    if (someLimit) throw args.error('--no-limits and a limit option are exclusive');
    return {};
  }
  return someLimit ? limits : undefined;
}

async function printAnswer(
  args: ParsedCommand,
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  body?: unknown,
): Promise<number> {
  const target = resolveAdminTarget(args);
  const answer = await callAdmin(target, method, path, {
    ...(body === undefined ? {} : { body }),
    timeoutMs: ACCOUNT_CALL_TIMEOUT_MS,
  });
  if (!answer.ok) throw answerFailure(answer);
  process.stdout.write(`${answer.text}\n`);
  return EXIT_OK;
}

export function runAccountGet(argv: readonly string[]): Promise<number> {
  return runCommand(GET_SPEC, argv, (args) => printAnswer(args, 'GET', `/accounts/${panArgument(args)}`));
}

export function runAccountPut(argv: readonly string[]): Promise<number> {
  return runCommand(PUT_SPEC, argv, (args) => {
    const pan = panArgument(args);
    const status = args.string('status');
    if (status !== undefined && status !== 'active' && status !== 'blocked')
      throw args.error('--status must be active or blocked');
    const limits = limitsOf(args);
    const body = {
      currency: required(args, 'currency', args.string('currency')),
      balance: required(args, 'balance', args.number('balance', MINOR_UNITS)),
      ...(limits === undefined ? {} : { limits }),
      ...(status === undefined ? {} : { status }),
    };
    return printAnswer(args, 'PUT', `/accounts/${pan}`, body);
  });
}

export function runAccountAdjust(argv: readonly string[]): Promise<number> {
  return runCommand(ADJUST_SPEC, argv, (args) => {
    const pan = panArgument(args);
    const amount = required(args, 'amount', args.number('amount', SIGNED_MINOR_UNITS));
    if (amount === 0) throw args.error('--amount must not be 0');
    const reference = required(args, 'reference', args.string('reference'));
    return printAnswer(args, 'POST', `/accounts/${pan}/adjust`, { amount, reference });
  });
}
