import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS } from '../../src/admin/error-status.js';
import { HttpError } from '../../src/admin/http-json.js';
import { ConfigError } from '../../src/config/errors.js';
import {
  ERRORS,
  type ErrorCode,
  type ErrorSurface,
  exitCodeOf,
  isErrorCode,
} from '../../src/errors/codes.js';
import { cliError, formatError, reportError, SwitchyardError } from '../../src/errors/switchyard-error.js';
import { DataDirLockedError } from '../../src/store/data-dir-lock.js';
import { RedisNotInstalledError, RedisStartError } from '../../src/store/redis-server.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface DocRow {
  readonly code: string;
  readonly where: string;
  readonly outcome: string;
}

/** Rows of docs/errors.md's tables whose first cell is a `code`. */
function docRows(): DocRow[] {
  const text = readFileSync(join(repoRoot, 'docs/errors.md'), 'utf8');
  const rows: DocRow[] = [];
  for (const line of text.split('\n')) {
    const match = /^\|\s*`([^`]+)`\s*\|([^|]+)\|([^|]+)\|/.exec(line);
    if (match !== null) rows.push({ code: match[1]!, where: match[2]!.trim(), outcome: match[3]!.trim() });
  }
  return rows;
}

const WHERE: Record<ErrorSurface, RegExp> = {
  admin: /^admin API$/,
  ledger: /^ledger, via the admin API$/,
  start: /^switchyard start$/,
  cli: /^CLI \(/,
};

function expectedOutcome(code: ErrorCode): string {
  const entry = ERRORS[code];
  if (entry.surface === 'admin' || entry.surface === 'ledger')
    return String(HTTP_STATUS[code as keyof typeof HTTP_STATUS]);
  return `exit ${exitCodeOf(code as Parameters<typeof exitCodeOf>[0])}`;
}

describe('docs/errors.md and the error registry', () => {
  it('document every registered code', () => {
    const documented = new Set(docRows().map((r) => r.code));
    const missing = Object.keys(ERRORS).filter((code) => !documented.has(code));
    expect(missing, 'codes in src/errors/codes.ts without a row in docs/errors.md').toEqual([]);
  });

  it('register every documented code, once', () => {
    const codes = docRows().map((r) => r.code);
    expect(
      codes.filter((code) => !isErrorCode(code)),
      'rows in docs/errors.md for no registered code',
    ).toEqual([]);
    expect(
      codes.filter((code, i) => codes.indexOf(code) !== i),
      'codes documented twice',
    ).toEqual([]);
  });

  it('agree on where each code appears and on its HTTP status or exit code', () => {
    for (const row of docRows()) {
      if (!isErrorCode(row.code)) continue;
      expect(row.where, row.code).toMatch(WHERE[ERRORS[row.code].surface]);
      expect(row.outcome, row.code).toBe(expectedOutcome(row.code));
    }
  });
});

describe('the error registry', () => {
  it('gives every admin and ledger code an HTTP status, and no other code one', () => {
    const withStatus = Object.keys(HTTP_STATUS).sort();
    const apiCodes = (Object.keys(ERRORS) as ErrorCode[])
      .filter((code) => ERRORS[code].surface === 'admin' || ERRORS[code].surface === 'ledger')
      .sort();
    expect(withStatus).toEqual(apiCodes);
    for (const status of Object.values(HTTP_STATUS)) expect(status).toBeGreaterThanOrEqual(400);
  });

  it('gives each start-up refusal its own exit code, none of them 0, 2 or one Node uses for itself (3-13)', () => {
    const startCodes = (Object.keys(ERRORS) as ErrorCode[]).filter(
      (code) => ERRORS[code].surface === 'start',
    );
    const exits = startCodes.map((code) => exitCodeOf(code as Parameters<typeof exitCodeOf>[0]));
    expect(new Set(exits).size).toBe(exits.length);
    for (const exit of exits) {
      expect(exit === 0 || exit === 2 || (exit >= 3 && exit <= 13) || exit > 125).toBe(false);
    }
  });

  it('gives usage errors exit 2', () => {
    expect(exitCodeOf('SWITCHYARD_USAGE')).toBe(2);
  });

  it('registers the code of every typed error', () => {
    const typed = [
      new ConfigError(['x: is required']),
      new DataDirLockedError('locked'),
      new RedisNotInstalledError(),
      new RedisStartError('did not start'),
      new SwitchyardError('SWITCHYARD_REDIS_UNREACHABLE', 'down'),
      new HttpError('invalid_request', 'bad'),
    ];
    for (const error of typed) expect(isErrorCode(error.code), error.code).toBe(true);
  });

  it('registers every `readonly code = ...` of an error class in src', () => {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts')) {
          for (const m of readFileSync(path, 'utf8').matchAll(/readonly code = '([A-Za-z_]+)'/g))
            found.push(m[1]!);
        }
      }
    };
    walk(join(repoRoot, 'src'));
    expect(found.length).toBeGreaterThanOrEqual(4);
    expect(found.filter((code) => !isErrorCode(code))).toEqual([]);
  });

  it('reads an admin error status off its code', () => {
    expect(new HttpError('account_not_found', 'no such account').status).toBe(404);
    expect(new HttpError('body_too_large', 'big').status).toBe(413);
  });
});

describe('formatError, cliError, reportError', () => {
  it('print one line: command, code, message', () => {
    expect(
      formatError('switchyard start', 'SWITCHYARD_PORT_IN_USE', 'listen EADDRINUSE 127.0.0.1:8583'),
    ).toBe('switchyard start: SWITCHYARD_PORT_IN_USE: listen EADDRINUSE 127.0.0.1:8583');
  });

  it('carry the exit code of their code', () => {
    const error = cliError('SWITCHYARD_ADMIN_ERROR', '401 unauthorized');
    expect(error).toBeInstanceOf(Error);
    // Every command that runs and fails exits 1; the code in the line says why (docs/cli.md).
    expect(error.exitCode).toBe(1);
    let written = '';
    const exit = reportError('switchyard accounts seed', error, {
      write: (text: string) => (written += text),
    });
    expect(exit).toBe(1);
    expect(written).toBe('switchyard accounts seed: SWITCHYARD_ADMIN_ERROR: 401 unauthorized\n');
  });
});
