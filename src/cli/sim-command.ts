import { RC } from '../protocol/rc.js';
import { parseSimArgs, runAcquirerSim, type SimSummary } from '../sim/acquirer.js';
import { parseIssuerSimArgs, runIssuerSim } from '../sim/issuer.js';
import { formatRcCounts } from '../sim/stats.js';
import type { CommandSpec } from '../util/parse-command.js';
import { dispatch } from './dispatch.js';
import { connectFailure, hostPort } from './reach.js';
import { CliFailure, EXIT_OK, guard } from './run-command.js';

const SIM_SPEC: CommandSpec = {
  name: 'switchyard sim',
  usage: `usage: switchyard sim <role> [options]

Load simulators that talk to a running switch over the wire protocol.

  acquirer    drive transactions as an acquirer host (switchyard sim acquirer --help for options)
  issuer      answer forwarded transactions as an issuer host (switchyard sim issuer --help for options)
`,
  options: {},
};

const ACQUIRER_COMMAND = 'switchyard sim acquirer';
const ISSUER_COMMAND = 'switchyard sim issuer';

/** Approvals: full (00) and partial (10); any other rc is a decline or an error. */
function approvedCount(summary: SimSummary): number {
  return (summary.rcCounts[RC.approved] ?? 0) + (summary.rcCounts[RC.partial] ?? 0);
}

/**
 * `switchyard sim acquirer ...`: exit 0 when at least one request was
 * approved; 1 when none was (an unseeded ledger, a wrong route, a switch that
 * declines everything), or when the switch cannot be reached or refuses the
 * sign-on; 2 for a bad command line.
 */
function runAcquirer(argv: readonly string[]): Promise<number> {
  return guard(ACQUIRER_COMMAND, async () => {
    const options = parseSimArgs(argv);
    const address = hostPort(options.connection.host, options.connection.port);
    let summary: SimSummary;
    try {
      summary = await runAcquirerSim(options);
    } catch (error) {
      throw connectFailure(error, address) ?? error;
    }
    if (approvedCount(summary) === 0) {
      throw new CliFailure(
        'SWITCHYARD_NOTHING_APPROVED',
        `nothing was approved: sent ${summary.sent}, answered ${summary.answered} ` +
          `(rc ${formatRcCounts(summary.rcCounts)}), errors ${summary.errors}`,
      );
    }
    return EXIT_OK;
  });
}

/**
 * `switchyard sim issuer ...`: exit 0 after a run, whatever it received (an
 * issuer that no acquirer sent anything to has not failed); 1 when the switch
 * cannot be reached or refuses the sign-on, at start or on a reconnect; 2 for
 * a bad command line.
 */
function runIssuer(argv: readonly string[]): Promise<number> {
  return guard(ISSUER_COMMAND, async () => {
    const options = parseIssuerSimArgs(argv);
    const address = hostPort(options.connection.host, options.connection.port);
    try {
      await runIssuerSim(options);
    } catch (error) {
      throw connectFailure(error, address) ?? error;
    }
    return EXIT_OK;
  });
}

/** `switchyard sim <role> ...` */
export function runSimCommand(argv: readonly string[]): Promise<number> {
  return dispatch(SIM_SPEC, argv, { acquirer: async () => runAcquirer, issuer: async () => runIssuer });
}
