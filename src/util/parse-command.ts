import { parseArgs } from 'node:util';

/**
 * The one argument parser of every `switchyard` command: node:util parseArgs
 * for the tokens, with the checks done here so every command refuses the same
 * things with the same one-line messages (unknown option, missing value,
 * value on a boolean, a flag given twice, stray or missing positionals).
 * `--help` / `-h` anywhere before `--` wins over every other problem, as in
 * git and npm: someone asking for help gets it even with a typo elsewhere.
 */

export type OptionKind = 'string' | 'boolean';

export interface CommandSpec {
  /** The command as typed, e.g. `switchyard accounts get`; prefixes every message. */
  readonly name: string;
  readonly usage: string;
  /** Long option names (without `--`) and their kind; `help` is always there. */
  readonly options: Readonly<Record<string, OptionKind>>;
  /** Names of the positional arguments, all required, e.g. `['PAN']`. */
  readonly positionals?: readonly string[];
  /** Makes this command's refusals, for a command with its own UsageError subclass; default UsageError. */
  readonly makeError?: (problem: string, help: boolean) => UsageError;
}

/** A bad command line (exit 2), or a request for help (`help`, exit 0). */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
  readonly command: string;
  readonly usage: string;

  constructor(
    spec: Pick<CommandSpec, 'name' | 'usage'>,
    readonly problem: string,
    readonly help = false,
  ) {
    super(help ? spec.usage : `${spec.name}: ${problem}`);
    this.command = spec.name;
    this.usage = spec.usage;
  }

  /** The one stderr line for a refused command line: the problem and where to look. */
  get line(): string {
    return `${this.command}: SWITCHYARD_USAGE: ${this.problem} (see ${this.command} --help)`;
  }
}

export interface NumberRule {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/** What was given on a command line that passed the checks. */
export class ParsedCommand {
  constructor(
    private readonly spec: CommandSpec,
    private readonly values: ReadonlyMap<string, string | true>,
    readonly positionals: readonly string[],
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    const value = this.values.get(name);
    return value === true ? undefined : value;
  }

  /** A numeric option checked against `rule`; undefined when absent. */
  number(name: string, rule: NumberRule): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || (rule.integer && !Number.isInteger(value))) {
      throw this.error(
        `--${name} must be ${rule.integer ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`,
      );
    }
    if (value < rule.min || value > rule.max)
      throw this.error(`--${name} must be in ${rule.min}..${rule.max}`);
    return value;
  }

  /** A UsageError of this command, for problems found after parsing (a bad value, a missing option). */
  error(problem: string): UsageError {
    return usageError(this.spec, problem, false);
  }
}

function usageError(spec: CommandSpec, problem: string, help: boolean): UsageError {
  return spec.makeError?.(problem, help) ?? new UsageError(spec, problem, help);
}

const HELP_FLAGS = new Set(['--help', '-h']);

function asksForHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (HELP_FLAGS.has(arg)) return true;
  }
  return false;
}

/**
 * Parses `argv` (the words after the command) against `spec`. Throws
 * UsageError: with `help` set for --help, else naming the first problem.
 */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedCommand {
  if (asksForHelp(argv)) throw usageError(spec, '', true);
  const fail = (problem: string): UsageError => usageError(spec, problem, false);
  const options: Record<string, { type: OptionKind }> = {};
  for (const [name, type] of Object.entries(spec.options)) options[name] = { type };
  // strict: false so the checks (and their messages) are ours; tokens say what parseArgs saw.
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const kind = spec.options[token.name];
    if (kind === undefined) throw fail(`unknown option ${token.rawName}`);
    if (values.has(token.name)) throw fail(`${token.rawName} given twice`);
    if (kind === 'boolean') {
      if (token.value !== undefined) throw fail(`${token.rawName} takes no value`);
      values.set(token.name, true);
      continue;
    }
    // parseArgs takes the next word whatever it is; `--rate --json` is a forgotten value, not a rate.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--')))
      throw fail(`${token.rawName} needs a value`);
    values.set(token.name, token.value);
  }
  const expected = spec.positionals ?? [];
  if (positionals.length > expected.length)
    throw fail(`unexpected argument ${JSON.stringify(positionals[expected.length])}`);
  if (positionals.length < expected.length) throw fail(`missing ${expected[positionals.length]}`);
  return new ParsedCommand(spec, values, positionals);
}
