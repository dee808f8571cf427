import { parseSimArgs, runAcquirerSim, SimArgsError } from '../sim/acquirer.js';

/** `switchyard sim acquirer ...` */
export async function runSimCommand(argv: readonly string[]): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind !== 'acquirer') {
    process.stderr.write(
      'usage: switchyard sim acquirer [options]   (try: switchyard sim acquirer --help)\n',
    );
    return 2;
  }
  let options: ReturnType<typeof parseSimArgs>;
  try {
    options = parseSimArgs([...rest]);
  } catch (error) {
    if (error instanceof SimArgsError) {
      if (error.help) {
        process.stdout.write(error.message);
        return 0;
      }
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const summary = await runAcquirerSim(options);
  return summary.answered > 0 || summary.sent === 0 ? 0 : 1;
}
