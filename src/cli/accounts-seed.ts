import { AMOUNT_MAX } from '../protocol/validate-request.js';
import type { CommandSpec } from '../util/parse-command.js';
import { answerFailure, callAdmin } from './admin-call.js';
import { ADMIN_TARGET_OPTIONS, ADMIN_TARGET_USAGE, resolveAdminTarget } from './admin-target.js';
import { EXIT_OK, runCommand } from './run-command.js';
import { type SeedOutcome, SeedProgress } from './seed-progress.js';

/** The bulk call's own bound (src/admin/account-seed.ts SEED_COUNT_MAX). */
const SEED_COUNT_MAX = 1_000_000;
const PROGRESS_INTERVAL_MS = 1_000;

export const SEED_SPEC: CommandSpec = {
  name: 'switchyard accounts seed',
  usage: `usage: switchyard accounts seed --count N --balance MINOR --currency CODE [options]

Creates N accounts with the simulator's PANs (same prefix, same numbering) through
the running switch's admin API (POST /accounts/bulk). Existing accounts are left
as they are, so seeding twice is safe. Prints the result as JSON:
{requested, created, existing, failed, first, last, elapsedMs} (PANs masked).

  --count N          accounts to create (1..${SEED_COUNT_MAX})
  --balance MINOR    opening balance, minor units
  --currency CODE    ISO 4217 alpha-3, e.g. USD
  --prefix DIGITS    PAN prefix (default 4, as the simulator's)
  --progress         a progress line on stderr every second (the default when stderr is a terminal)

${ADMIN_TARGET_USAGE}  --help             this text
`,
  options: {
    count: 'string',
    balance: 'string',
    currency: 'string',
    prefix: 'string',
    progress: 'boolean',
    ...ADMIN_TARGET_OPTIONS,
    help: 'boolean',
  },
};

function outcomeOf(text: string): SeedOutcome | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<Record<keyof SeedOutcome, unknown>>;
    const { created, existing, failed } = parsed;
    if (typeof created === 'number' && typeof existing === 'number' && typeof failed === 'number')
      return { created, existing, failed };
  } catch {
    // Not the bulk answer's shape: no final line, the JSON is still printed.
  }
  return undefined;
}

/** `switchyard accounts seed ...` */
export function runAccountsSeed(argv: readonly string[]): Promise<number> {
  return runCommand(SEED_SPEC, argv, async (args) => {
    const count = args.number('count', { min: 1, max: SEED_COUNT_MAX, integer: true });
    const balance = args.number('balance', { min: 0, max: AMOUNT_MAX, integer: true });
    const currency = args.string('currency');
    if (count === undefined || balance === undefined || currency === undefined)
      throw args.error('--count, --balance and --currency are required');
    const prefix = args.string('prefix') ?? '4';
    const target = resolveAdminTarget(args);
    const stderr = process.stderr;
    const progress =
      args.has('progress') || stderr.isTTY === true
        ? new SeedProgress({
            target,
            prefix,
            count,
            intervalMs: PROGRESS_INTERVAL_MS,
            stream: stderr,
            label: SEED_SPEC.name,
            alwaysReportOutcome: args.has('progress'),
          })
        : undefined;
    progress?.start();
    try {
      const answer = await callAdmin(target, 'POST', '/accounts/bulk', {
        body: { count, balance, currency, ...(args.has('prefix') ? { prefix } : {}) },
      });
      if (!answer.ok) throw answerFailure(answer);
      progress?.stop(outcomeOf(answer.text));
      process.stdout.write(`${answer.text}\n`);
      return EXIT_OK;
    } finally {
      // After a failure: end the progress line so the error starts on its own line.
      progress?.stop();
    }
  });
}
