import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { DATA_KEY_BYTES, KEY_ID_PATTERN } from '../security/aead.js';
import {
  createKeyFile,
  type KeyFile,
  KeyFileError,
  KeyFileExposedError,
  keyFileText,
  newKeyFileText,
  readKeyFile,
} from '../security/key-file.js';
import { TOKEN_KEY_BYTES } from '../security/pan-token.js';
import type { CommandSpec, ParsedCommand } from '../util/parse-command.js';
import { answerFailure, callAdmin } from './admin-call.js';
import { ADMIN_TARGET_OPTIONS, ADMIN_TARGET_USAGE, resolveAdminTarget } from './admin-target.js';
import { dispatch } from './dispatch.js';
import { runKeygenCommand } from './keygen-command.js';
import { CliFailure, EXIT_OK, runCommand } from './run-command.js';

/**
 * `switchyard keys ...`: the switch's keys. Institution sign-on key pairs
 * (what `keygen` made, which stays as an alias) and the data key file
 * (docs/security.md). A key file is written mode 0600 from the start and
 * replaced by rename, never rewritten in place; no command prints key
 * material except `institution`, whose secret key goes to the institution.
 */

/** GET /keys/usage reads the whole store: minutes for tens of millions of accounts. */
const USAGE_CALL_TIMEOUT_MS = 600_000;

const KEYS_SPEC: CommandSpec = {
  name: 'switchyard keys',
  usage: `usage: switchyard keys <command>

  institution               a new Ed25519 key pair for one institution (as keygen)
  new FILE [--development]  a new data key file: shard key, token key t1, data key d1
  show FILE                 the file's key ids and which are current (never the keys)
  add-data-key FILE --id ID a new data key, current for new writes from the next SIGHUP
  add-token-key FILE --id ID a new token key, current; the current one becomes previous
  retire-data-key FILE --id ID   removes a data key that is not current
  retire-token-key FILE     removes the previous token key
  usage [options]           what each key id of a running switch still protects (GET /keys/usage)
`,
  options: {},
};

const NEW_SPEC: CommandSpec = {
  name: 'switchyard keys new',
  usage: `usage: switchyard keys new FILE [--development]

Writes a new data key file (mode 0600; refuses to overwrite an existing file).
Point the config's keys.file (or SWITCHYARD_KEY_FILE) at it.

  --development   mark the keys as public test keys (allowed to be readable by others)
  --help          this text
`,
  options: { help: 'boolean', development: 'boolean' },
  positionals: ['FILE'],
};

const SHOW_SPEC: CommandSpec = {
  name: 'switchyard keys show',
  usage: `usage: switchyard keys show FILE

Prints the key file's key ids, which are current and previous, as JSON. Never
prints a key.

  --help    this text
`,
  options: { help: 'boolean' },
  positionals: ['FILE'],
};

const ADD_DATA_SPEC: CommandSpec = {
  name: 'switchyard keys add-data-key',
  usage: `usage: switchyard keys add-data-key FILE --id ID

Adds a new random data key with id ID and makes it the current one: new
writes use it once the switch re-reads the file (SIGHUP). Older data keys
stay, so what they protect stays readable.

  --id ID   the new key's id (1 to 32 of A-Z a-z 0-9 . _ -)
  --help    this text
`,
  options: { help: 'boolean', id: 'string' },
  positionals: ['FILE'],
};

const ADD_TOKEN_SPEC: CommandSpec = {
  name: 'switchyard keys add-token-key',
  usage: `usage: switchyard keys add-token-key FILE --id ID

Adds a new random token key with id ID and makes it current; the key that
was current becomes previousTokenKey (still accepted for lookups while
accounts are re-keyed). Refused while a previous token key is still set.

  --id ID   the new key's id (1 to 32 of A-Z a-z 0-9 . _ -)
  --help    this text
`,
  options: { help: 'boolean', id: 'string' },
  positionals: ['FILE'],
};

const RETIRE_DATA_SPEC: CommandSpec = {
  name: 'switchyard keys retire-data-key',
  usage: `usage: switchyard keys retire-data-key FILE --id ID

Removes data key ID (not the current one) from the file. What it sealed
cannot be opened after the switch re-reads the file (SIGHUP), so the switch
refuses the file while anything stored (an account, a queued advice) still
uses the key: run \`switchyard keys usage\` first and wait for
"retirable": true.

  --id ID   the key to remove
  --help    this text
`,
  options: { help: 'boolean', id: 'string' },
  positionals: ['FILE'],
};

const RETIRE_TOKEN_SPEC: CommandSpec = {
  name: 'switchyard keys retire-token-key',
  usage: `usage: switchyard keys retire-token-key FILE

Removes the previous token key from the file (after add-token-key and the
re-key job). Accounts whose refs it made are not found by PAN once the
switch re-reads the file (SIGHUP), so the switch refuses the file while any
account, journal record not yet passed by hold expiry, or hold bucket still
names it: run \`switchyard keys usage\` first and wait for "retirable": true.
Another token key can be added after it.

  --help    this text
`,
  options: { help: 'boolean' },
  positionals: ['FILE'],
};

const USAGE_SPEC: CommandSpec = {
  name: 'switchyard keys usage',
  usage: `usage: switchyard keys usage [options]

Prints, as JSON, what each data key and token key id of a running switch
still protects or names (GET /keys/usage): per data key the account PANs and
the queued issuer advice PANs it seals; per token key the accounts whose refs
it made and, for keys other than the current one, the journal records not
yet passed by hold expiry and the hold bucket members naming them;
"retirable" when the key may leave the key file; and the state of the
rotation jobs. Reads the whole store (seconds per million accounts).

${ADMIN_TARGET_USAGE}  --help             this text
`,
  options: { ...ADMIN_TARGET_OPTIONS, help: 'boolean' },
};

function runNew(argv: readonly string[]): Promise<number> {
  return runCommand(NEW_SPEC, argv, async (args) => {
    const file = args.positionals[0]!;
    try {
      createKeyFile(file, newKeyFileText(args.has('development')));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliFailure(
        'SWITCHYARD_USAGE',
        code === 'EEXIST'
          ? `${file} exists; a key file is never overwritten`
          : `cannot write ${file} (${code})`,
      );
    }
    process.stdout.write(`${file}: new key file (token key t1, data key d1), mode 0600\n`);
    return EXIT_OK;
  });
}

function runShow(argv: readonly string[]): Promise<number> {
  return runCommand(SHOW_SPEC, argv, async (args) => {
    const keys = read(args.positionals[0]!);
    process.stdout.write(
      `${JSON.stringify(
        {
          development: keys.development,
          tokenKeyIds: [...keys.tokenKeys.keys()],
          currentTokenKey: keys.currentTokenKey,
          previousTokenKey: keys.previousTokenKey ?? null,
          dataKeyIds: [...keys.dataKeys.keys()],
          currentDataKey: keys.currentDataKey,
        },
        null,
        2,
      )}\n`,
    );
    return EXIT_OK;
  });
}

function runAddDataKey(argv: readonly string[]): Promise<number> {
  return runCommand(ADD_DATA_SPEC, argv, async (args) => {
    const file = args.positionals[0]!;
    const keys = read(file);
    const id = newId(args, keys.dataKeys);
    const dataKeys = new Map(keys.dataKeys).set(id, randomBytes(DATA_KEY_BYTES));
    replace(file, { ...keys, dataKeys, currentDataKey: id });
    process.stdout.write(`${file}: data key ${id} added and current; send SIGHUP to the switch\n`);
    return EXIT_OK;
  });
}

function runAddTokenKey(argv: readonly string[]): Promise<number> {
  return runCommand(ADD_TOKEN_SPEC, argv, async (args) => {
    const file = args.positionals[0]!;
    const keys = read(file);
    if (keys.previousTokenKey !== undefined) {
      throw new CliFailure(
        'SWITCHYARD_USAGE',
        `token key ${keys.previousTokenKey} is still previous: finish re-keying and retire it first`,
      );
    }
    const id = newId(args, keys.tokenKeys);
    const tokenKeys = new Map(keys.tokenKeys).set(id, randomBytes(TOKEN_KEY_BYTES));
    replace(file, { ...keys, tokenKeys, currentTokenKey: id, previousTokenKey: keys.currentTokenKey });
    process.stdout.write(
      `${file}: token key ${id} added and current (${keys.currentTokenKey} is previous); send SIGHUP to the switch\n`,
    );
    return EXIT_OK;
  });
}

function runRetireDataKey(argv: readonly string[]): Promise<number> {
  return runCommand(RETIRE_DATA_SPEC, argv, async (args) => {
    const file = args.positionals[0]!;
    const keys = read(file);
    const id = args.string('id');
    if (id === undefined) throw args.error('--id is required');
    if (!keys.dataKeys.has(id)) throw args.error(`no data key with id ${id}`);
    if (id === keys.currentDataKey)
      throw new CliFailure('SWITCHYARD_USAGE', `data key ${id} is current: add another first (add-data-key)`);
    const dataKeys = new Map(keys.dataKeys);
    dataKeys.delete(id);
    replace(file, { ...keys, dataKeys });
    process.stdout.write(
      `${file}: data key ${id} removed; send SIGHUP to the switch (refused while the key is still in use)\n`,
    );
    return EXIT_OK;
  });
}

function runRetireTokenKey(argv: readonly string[]): Promise<number> {
  return runCommand(RETIRE_TOKEN_SPEC, argv, async (args) => {
    const file = args.positionals[0]!;
    const keys = read(file);
    const id = keys.previousTokenKey;
    if (id === undefined) throw new CliFailure('SWITCHYARD_USAGE', `${file} has no previous token key`);
    const tokenKeys = new Map(keys.tokenKeys);
    tokenKeys.delete(id);
    replace(file, { ...keys, tokenKeys, previousTokenKey: undefined });
    process.stdout.write(
      `${file}: token key ${id} removed; send SIGHUP to the switch (refused while the key is still in use)\n`,
    );
    return EXIT_OK;
  });
}

function runUsage(argv: readonly string[]): Promise<number> {
  return runCommand(USAGE_SPEC, argv, async (args) => {
    const answer = await callAdmin(resolveAdminTarget(args), 'GET', '/keys/usage', {
      timeoutMs: USAGE_CALL_TIMEOUT_MS,
    });
    if (!answer.ok) throw answerFailure(answer);
    process.stdout.write(`${JSON.stringify(JSON.parse(answer.text), null, 2)}\n`);
    return EXIT_OK;
  });
}

function read(file: string): KeyFile {
  try {
    return readKeyFile(file);
  } catch (error) {
    if (error instanceof KeyFileError || error instanceof KeyFileExposedError)
      throw new CliFailure('SWITCHYARD_USAGE', error.message);
    throw error;
  }
}

function newId(args: ParsedCommand, existing: ReadonlyMap<string, Buffer>): string {
  const id = args.string('id');
  if (id === undefined) throw args.error('--id is required');
  if (!KEY_ID_PATTERN.test(id)) throw args.error('--id must be 1 to 32 of A-Z a-z 0-9 . _ -');
  if (existing.has(id)) throw args.error(`a key with id ${id} exists; key ids are never reused`);
  return id;
}

/** Writes the new file beside the old (mode 0600 from creation) and renames it over: never half a file. */
function replace(file: string, keys: KeyFile): void {
  const next = `${file}.new-${process.pid}`;
  try {
    createKeyFile(next, keyFileText(keys));
    renameSync(next, file);
  } catch (error) {
    rmSync(next, { force: true });
    throw new CliFailure(
      'SWITCHYARD_USAGE',
      `cannot replace ${file} (${(error as NodeJS.ErrnoException).code})`,
    );
  }
}

/** `switchyard keys <command>` */
export function runKeysCommand(argv: readonly string[]): Promise<number> {
  return dispatch(KEYS_SPEC, argv, {
    institution: async () => (argv) => runKeygenCommand(argv, 'switchyard keys institution'),
    new: async () => runNew,
    show: async () => runShow,
    'add-data-key': async () => runAddDataKey,
    'add-token-key': async () => runAddTokenKey,
    'retire-data-key': async () => runRetireDataKey,
    'retire-token-key': async () => runRetireTokenKey,
    usage: async () => runUsage,
  });
}
