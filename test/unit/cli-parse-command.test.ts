import { describe, expect, it } from 'vitest';
import { maskPansIn } from '../../src/util/pan.js';
import {
  type CommandSpec,
  type ParsedCommand,
  parseCommand,
  UsageError,
} from '../../src/util/parse-command.js';

const SPEC: CommandSpec = {
  name: 'switchyard demo',
  usage: 'usage: switchyard demo PAN [options]\n',
  options: { amount: 'string', reference: 'string', json: 'boolean', help: 'boolean' },
  positionals: ['PAN'],
};

function refusal(argv: string[], spec: CommandSpec = SPEC): UsageError {
  try {
    parseCommand(spec, argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`);
}

describe('parseCommand', () => {
  it('reads string and boolean options in both forms, and the positionals', () => {
    const args = parseCommand(SPEC, ['4111', '--amount', '250', '--reference=r-1', '--json']);
    expect(args.positionals).toEqual(['4111']);
    expect(args.string('amount')).toBe('250');
    expect(args.string('reference')).toBe('r-1');
    expect(args.has('json')).toBe(true);
    expect(args.string('json')).toBeUndefined();
    expect(args.has('help')).toBe(false);
  });

  it('takes a negative number as a value (a debit), with or without =', () => {
    expect(parseCommand(SPEC, ['4111', '--amount', '-300']).string('amount')).toBe('-300');
    expect(parseCommand(SPEC, ['--amount=-7', '4111']).string('amount')).toBe('-7');
  });

  it('answers --help or -h anywhere before --, whatever else is wrong', () => {
    for (const argv of [
      ['--help'],
      ['-h'],
      ['--bogus', '--help'],
      ['a', 'b', 'c', '-h'],
      ['--amount', '1', '--help'],
    ]) {
      const error = refusal(argv);
      expect(error.help, argv.join(' ')).toBe(true);
      expect(error.message).toBe(SPEC.usage);
    }
    // After `--` it is a positional like any other.
    expect(parseCommand(SPEC, ['--', '--help']).positionals).toEqual(['--help']);
  });

  it('refuses bad command lines in one line naming the command, with a hint to --help', () => {
    const cases: Array<[string[], string]> = [
      [['4111', '--bogus'], 'unknown option --bogus'],
      [['4111', '--bogus=1'], 'unknown option --bogus'],
      [['4111', '-x'], 'unknown option -x'],
      [['4111', '--amount'], '--amount needs a value'],
      [['4111', '--amount', '--json'], '--amount needs a value'],
      [['4111', '--json=yes'], '--json takes no value'],
      [['4111', '--json', '--json'], '--json given twice'],
      [['4111', '--amount', '1', '--amount=2'], '--amount given twice'],
      [['4111', 'extra'], 'unexpected argument "extra"'],
      [[], 'missing PAN'],
      [['--json'], 'missing PAN'],
    ];
    for (const [argv, problem] of cases) {
      const error = refusal(argv);
      expect(error.help, argv.join(' ')).toBe(false);
      expect(error.problem, argv.join(' ')).toBe(problem);
      expect(error.message).toBe(`switchyard demo: ${problem}`);
      expect(error.line).toBe(`switchyard demo: SWITCHYARD_USAGE: ${problem} (see switchyard demo --help)`);
      expect(error.usage).toBe(SPEC.usage);
    }
  });

  it('checks numbers against their rule', () => {
    const rule = { min: -10, max: 10, integer: true };
    const parse = (value: string): ParsedCommand => parseCommand(SPEC, ['4111', '--amount', value]);
    expect(parse('-10').number('amount', rule)).toBe(-10);
    expect(parse('7').number('amount', rule)).toBe(7);
    expect(parseCommand(SPEC, ['4111']).number('amount', rule)).toBeUndefined();
    expect(parse('2.5').number('amount', { ...rule, integer: false })).toBe(2.5);
    const problems: Array<[string, string]> = [
      ['11', '--amount must be in -10..10'],
      ['-11', '--amount must be in -10..10'],
      ['1.5', '--amount must be an integer, got "1.5"'],
      ['ten', '--amount must be an integer, got "ten"'],
      [' ', '--amount must be an integer, got " "'],
      ['Infinity', '--amount must be an integer, got "Infinity"'],
    ];
    for (const [value, problem] of problems) {
      expect(() => parse(value).number('amount', rule), value).toThrow(problem);
    }
  });

  it("raises the command's own error type when it has one", () => {
    class DemoError extends UsageError {}
    const spec: CommandSpec = { ...SPEC, makeError: (problem, help) => new DemoError(SPEC, problem, help) };
    expect(refusal(['--bogus'], spec)).toBeInstanceOf(DemoError);
    expect(refusal(['--help'], spec)).toBeInstanceOf(DemoError);
    expect(() =>
      parseCommand(spec, ['4111', '--amount', 'x']).number('amount', { min: 0, max: 1, integer: true }),
    ).toThrow(DemoError);
  });
});

describe('maskPansIn', () => {
  it('masks every run of 12 or more digits as first 6 / last 4, and leaves other numbers alone', () => {
    expect(maskPansIn('unexpected argument "4111111111111111"')).toBe(
      'unexpected argument "411111******1111"',
    );
    expect(maskPansIn('a 123456789012 and 1234567890123456789 end')).toBe(
      'a 12******9012 and 123456*********6789 end',
    );
    expect(maskPansIn('sent 12345678901, port 8585')).toBe('sent 12345678901, port 8585');
    // A longer run could hold a PAN: it is masked too.
    expect(maskPansIn('x41111111111111110y')).toBe('x411111*******1110y');
  });
});
