import { ROLES } from '../protocol/mti.js';
import { PUBLIC_KEY_BYTES } from '../protocol/signon.js';
import { LOCAL_ISSUER } from '../protocol/txn-context.js';
import { isPlainObject, quote } from './checker.js';
import { array, boolean, integer, object, oneOf, path, readableFile, string } from './schema.js';

/**
 * Every configuration setting, declared once (docs/protocol.md section 9): its
 * kind, bounds, unit, default (or whether it is required) and one line of doc.
 * Validation, the defaults, the config types and the README's table are all
 * derived from this tree. Every number has a finite bound; `internal` marks a
 * setting that is not in the contract.
 */

const SECOND_MS = 1_000;
const DAY_MS = 86_400_000;
const MIB = 1024 * 1024;
/** Timeouts and intervals longer than a day are a typo, not a policy. */
const TIMEOUT_MS_MAX = DAY_MS;
/** Retention beyond 400 days is not a switch's job. */
const RETENTION_MS_MAX = 400 * DAY_MS;
const ADMIN_TOKEN_CHARS_MIN = 16;

const SWITCH_ID_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
/**
 * Institution ids (and switch ids, a subset) name clearing files
 * (`<id>.csv`, src/clearing/cycle-paths.ts): no separator, nothing that
 * could leave the cycle's folder.
 */
export const INSTITUTION_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const PREFIX_PATTERN = /^[0-9]{1,19}$/;

const tls = object(
  {
    cert: readableFile({ doc: 'PEM certificate (chain) file' }),
    key: readableFile({ doc: 'PEM private key file' }),
    ca: readableFile({ optional: true, doc: 'PEM CA bundle that client certificates must chain to' }),
    requestCert: boolean({
      optional: true,
      doc: 'ask for and require a client certificate signed by `ca` (mutual TLS)',
    }),
  },
  {
    optional: true,
    doc: 'serve TLS on this listener',
    // Without a CA every client certificate would be refused, so mutual TLS could never succeed.
    rule: (value, raw, add) => {
      if (value['requestCert'] === true && raw['ca'] === undefined)
        add('ca', 'is required when requestCert is true');
    },
  },
);

const listener = object(
  {
    host: string({
      doc: 'address to bind',
      format: 'host name or IP address',
      check: (text) => (text === '' ? 'must not be empty' : undefined),
    }),
    port: integer({ min: 0, max: 65_535, doc: 'port to bind; 0 = any free port (the bound port is logged)' }),
    tls,
  },
  {
    optional: true,
    doc: 'a listener: the TCP wire, the WebSocket wire, the admin HTTP API; tcp or ws (or both) is required',
  },
);

const standIn = object(
  {
    perTxnMax: integer({
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
      maxNote: '(Number.MAX_SAFE_INTEGER)',
      unit: 'minor units',
      doc: 'largest single amount approved by stand-in when the issuer is not signed on or does not answer',
    }),
    dailyMax: integer({
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
      maxNote: '(Number.MAX_SAFE_INTEGER)',
      unit: 'minor units',
      doc: 'most approved by stand-in per PAN per UTC day',
    }),
  },
  { optional: true, doc: 'stand-in limits (role issuer only)' },
);

const institution = object(
  {
    id: string({
      doc: 'the institution id a host signs on with',
      format: '1 to 64 of `A-Z a-z 0-9 _ . -`',
      check: (id) =>
        INSTITUTION_ID_PATTERN.test(id)
          ? undefined
          : `must be 1 to 64 characters of A-Z a-z 0-9 _ . -, got ${quote(id)}`,
    }),
    role: oneOf(ROLES, { doc: 'what the host does' }),
    publicKey: string({
      doc: 'Ed25519 public key the sign-on signature is checked with',
      format: `base64 of ${PUBLIC_KEY_BYTES} bytes`,
      check: (key) =>
        isCanonicalBase64Of(key, PUBLIC_KEY_BYTES)
          ? undefined
          : `must be base64 of exactly ${PUBLIC_KEY_BYTES} bytes`,
    }),
    standIn,
  },
  {
    doc: 'an institution allowed to sign on',
    rule: (value, raw, add) => {
      // A route's issuer "local" means the on-us ledger, so an issuer of that name could never be routed to.
      if (value['id'] === LOCAL_ISSUER && value['role'] === 'issuer')
        add('id', `"${LOCAL_ISSUER}" is reserved for the on-us ledger and cannot name an issuer`);
      if (raw['standIn'] !== undefined && value['role'] === 'acquirer')
        add('standIn', 'only allowed on role "issuer"');
    },
  },
);

const route = object(
  {
    prefix: string({
      doc: 'PAN prefix; the longest matching prefix wins',
      format: '1 to 19 digits',
      check: (prefix) =>
        PREFIX_PATTERN.test(prefix) ? undefined : `must be 1 to 19 digits 0-9, got ${quote(prefix)}`,
    }),
    issuer: string({
      doc: `\`${LOCAL_ISSUER}\` (the on-us ledger) or the id of an institution with role issuer`,
      format: `\`${LOCAL_ISSUER}\` or an issuer id`,
      check: (issuer, root) =>
        issuer === LOCAL_ISSUER || issuerIdsOf(root['institutions']).has(issuer)
          ? undefined
          : `must be "${LOCAL_ISSUER}" or the id of an institution with role "issuer", got ${quote(issuer)}`,
    }),
  },
  { doc: 'a routing rule' },
);

const timeoutMs = (defaultMs: number, doc: string) =>
  integer({ min: 1, max: TIMEOUT_MS_MAX, maxNote: '(1 day)', unit: 'ms', default: defaultMs, doc });
const retentionMs = (defaultMs: number, doc: string) =>
  integer({ min: 1, max: RETENTION_MS_MAX, maxNote: '(400 days)', unit: 'ms', default: defaultMs, doc });
const intervalMs = (defaultMs: number, doc: string) =>
  integer({
    min: 10,
    max: TIMEOUT_MS_MAX,
    maxNote: '(1 day)',
    unit: 'ms',
    default: defaultMs,
    internal: true,
    doc,
  });

export const SWITCH_SETTINGS = object(
  {
    switchId: string({
      doc: "this switch's id (sent in the challenge; names the on-us clearing file)",
      format: '1 to 32 of `A-Z a-z 0-9 _ . -`',
      check: (id) =>
        SWITCH_ID_PATTERN.test(id)
          ? undefined
          : `must be 1 to 32 characters of A-Z a-z 0-9 _ . -, got ${quote(id)}`,
    }),
    listen: object(
      { tcp: listener, ws: listener, admin: listener },
      {
        default: {},
        doc: 'where the switch listens',
        rule: (_value, raw, add) => {
          if (raw['tcp'] === undefined && raw['ws'] === undefined)
            add('', 'at least one of listen.tcp and listen.ws is required');
        },
      },
    ),
    redis: object(
      {
        url: string({
          optional: true,
          doc: 'an external Redis; without it the switch runs a private redis-server under `dataDir`',
          format: '`redis://` or `rediss://` URL',
          // The URL may carry a password: the message never echoes it.
          check: (url) => (isRedisUrl(url) ? undefined : 'must be a redis:// or rediss:// URL with a host'),
        }),
      },
      { default: {}, doc: 'the store' },
    ),
    admin: object(
      {
        token: string({
          doc: 'bearer token for the admin API',
          format: `${ADMIN_TOKEN_CHARS_MIN}+ characters`,
          requiredMessage: `is required (a bearer token of at least ${ADMIN_TOKEN_CHARS_MIN} characters)`,
          // The token is a secret: report its length, never its value.
          check: (token) =>
            token.length < ADMIN_TOKEN_CHARS_MIN
              ? `must be at least ${ADMIN_TOKEN_CHARS_MIN} characters, got ${token.length}`
              : undefined,
        }),
      },
      // No default token: a missing block is reported at the token it must hold.
      { default: {}, doc: 'the admin API' },
    ),
    institutions: array(institution, {
      default: [],
      doc: 'institutions allowed to sign on',
      rule: (items, _raw, add) => {
        const firstIndexOf = new Map<string, number>();
        items.forEach((item, i) => {
          if (item === undefined) return;
          const { id, role } = item as { id: string; role: string };
          const first = firstIndexOf.get(`${role}\u0000${id}`);
          if (first === undefined) firstIndexOf.set(`${role}\u0000${id}`, i);
          else add(`[${i}].id`, `duplicate of institutions[${first}] (id ${quote(id)}, role ${quote(role)})`);
        });
      },
    }),
    routes: array(route, {
      default: [],
      doc: 'PAN prefix routes',
      // Judged on the raw prefixes, so a route with a bad issuer still claims its prefix.
      rule: (_items, raw, add) => {
        const firstIndexOf = new Map<string, number>();
        raw.forEach((item, i) => {
          const prefix = isPlainObject(item) ? item['prefix'] : undefined;
          if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) return;
          const first = firstIndexOf.get(prefix);
          if (first === undefined) firstIndexOf.set(prefix, i);
          else add(`[${i}].prefix`, `duplicate of routes[${first}].prefix (${quote(prefix)})`);
        });
      },
    }),
    issuerTimeoutMs: timeoutMs(2 * SECOND_MS, 'issuer answer deadline'),
    issuerAdvicesInFlightMax: integer({
      min: 1,
      max: 1_000,
      default: 16,
      internal: true,
      doc: 'advices in flight to an issuer, unacknowledged',
    }),
    holdTtlMs: retentionMs(7 * DAY_MS, 'authorization holds expire after this'),
    dedupeWindowMs: retentionMs(DAY_MS, 'exactly-once window per transaction key'),
    signonTimeoutMs: timeoutMs(5 * SECOND_MS, 'a connection must sign on within this'),
    heartbeatMs: timeoutMs(30 * SECOND_MS, "idle time before the switch's echo, and the echo's deadline"),
    limits: object(
      {
        frameBytesMax: integer({
          min: 64,
          max: 256 * MIB,
          maxNote: '(256 MiB)',
          unit: 'bytes',
          default: MIB,
          doc: 'largest frame/message accepted',
        }),
        batchMax: integer({ min: 1, max: 65_536, default: 4_096, doc: 'most messages per frame' }),
        inflightMax: integer({
          min: 1,
          max: 1_048_576,
          default: 65_536,
          doc: 'requests in flight per connection before the switch stops reading',
        }),
      },
      { default: {}, doc: 'per-connection limits' },
    ),
    clearing: object(
      {
        cycleMs: integer({
          min: 1_000,
          max: RETENTION_MS_MAX,
          maxNote: '(400 days)',
          unit: 'ms',
          default: DAY_MS,
          doc: 'clearing cycle length; cycles close at multiples of it since the Unix epoch',
        }),
        outDir: path({ default: 'clearing', doc: 'where clearing files are written' }),
        worker: boolean({
          default: true,
          doc: 'run clearing jobs here (false: only `switchyard clearing worker` runs them)',
        }),
        journalRetentionMs: retentionMs(
          35 * DAY_MS,
          'journal entries younger than this are never trimmed (docs/clearing.md)',
        ),
      },
      { default: {}, doc: 'clearing and settlement' },
    ),
    keys: object(
      {
        file: path({
          optional: true,
          doc: 'the data key file (docs/security.md); SWITCHYARD_KEYS or SWITCHYARD_KEY_FILE override it; without any, `<dataDir>/keys.json` is generated (mode 0600)',
        }),
      },
      { default: {}, doc: 'card data keys: never in Redis, never logged' },
    ),
    dataDir: path({
      default: '.switchyard',
      internal: true,
      doc: 'private redis-server data and other local state',
    }),
    workers: integer({
      min: 0,
      max: 64,
      default: 0,
      internal: true,
      doc: 'ledger worker threads; 0 = one per core',
    }),
    log: object(
      {
        level: oneOf(['debug', 'info', 'warn', 'error'], {
          default: 'info',
          internal: true,
          doc: 'log threshold, main thread and workers alike (docs/logging.md)',
        }),
      },
      { default: {}, doc: 'logging' },
    ),
    ledger: object(
      {
        // Memory is about actorsMax x recordsPerActorMax x 1 KB per owner.
        actorsMax: integer({
          min: 1_000,
          max: 100_000_000,
          default: 1_000_000,
          internal: true,
          doc: 'account actors kept in memory per owner before idle ones are passivated (reloaded on use)',
        }),
        recordsPerActorMax: integer({
          min: 1,
          max: 1_000_000,
          default: 64,
          internal: true,
          doc: 'transaction records an actor keeps in memory; older ones are read from Redis when needed',
        }),
        // Past it, an actor that evicts a record reads every key not in memory from
        // Redis until that record is past the window: slower, never wrong.
        evictedKeysMax: integer({
          min: 0,
          max: 1_000_000_000,
          default: 10_000_000,
          internal: true,
          doc: 'keys of evicted records an owner remembers (~100 B each); past it, such keys are read from Redis',
        }),
        commitTimeoutMs: intervalMs(
          5_000,
          'a commit Redis has not confirmed by then is answered 96 and its accounts reloaded',
        ),
        holdExpiryIntervalMs: intervalMs(
          60_000,
          'how often the hold expiry job runs; a pass asks about at most 200,000 holds, so lower it when holds are placed faster than that per interval (3,333/s at the default)',
        ),
        recordSweepIntervalMs: intervalMs(
          60_000,
          'how often the record sweep runs: records past the dedupe window leave Redis for accounts nobody uses any more (docs/ledger.md)',
        ),
        // A full cycle takes accounts / recordSweepAccountsMax x recordSweepIntervalMs.
        recordSweepAccountsMax: integer({
          min: 1,
          max: 10_000_000,
          default: 10_000,
          internal: true,
          doc: 'account logs one sweep pass looks at; passes go round the keyspace in turn',
        }),
        // A rotation over a million accounts takes ~8 minutes at the default.
        rotationAccountsPerSecondMax: integer({
          min: 1,
          max: 1_000_000,
          default: 2_000,
          internal: true,
          doc: 'accounts per second the key rotation jobs walk at most, leaving room for live traffic',
        }),
        inline: boolean({
          default: false,
          internal: true,
          doc: 'deprecated (accepted, with a warning at start): pins the ledger owners to the main thread at every load; ledger.adaptive, the default, already runs them there while the main thread can take the load (docs/configuration.md)',
        }),
        adaptive: boolean({
          default: true,
          internal: true,
          doc: 'run the ledger owners on the main thread while it can take the load and on the worker threads past that (one writer per account: a handover drains and fences); false pins them to the workers',
        }),
        adaptiveInlineBelowPerSec: integer({
          min: 0,
          max: 10_000_000,
          default: 30_000,
          internal: true,
          doc: 'with ledger.adaptive: offered transactions per second under which the owners move (back) to the main thread, a dwell after their last move and well below the rate at which the main thread last saturated',
        }),
        adaptiveWorkersAbovePerSec: integer({
          min: 1,
          max: 10_000_000,
          default: 60_000,
          internal: true,
          doc: 'with ledger.adaptive: offered transactions per second over which the owners move to the worker threads (above adaptiveInlineBelowPerSec); they also move once the main thread stays saturated for a second at any rate of 1000/s or more (a warm-up, the main thread loading accounts, aside), and at once when a step to adaptiveInlineBelowPerSec or more saturates it while it loads',
        }),
        adaptiveDwellMs: intervalMs(
          15_000,
          'with ledger.adaptive: the least time from a move of the owners to their move back to the main thread, so they do not flap (a move to the workers as load grows does not wait); after the main thread saturated, also how long the offered rate must stay low before they come back (a lull between bursts is not a light load)',
        ),
        handoverWaitMaxMs: intervalMs(
          2_000,
          'how long a handover of a ledger owner may hold its work while it drains before it gives up and tries later (a move off a saturated main thread drains its backlog first; giving up would hand the work back to it)',
        ),
      },
      {
        default: {},
        doc: 'ledger tuning',
        // Hysteresis: between the two rates the owners stay where they are.
        rule: (value, _raw, add) => {
          if (
            (value['adaptiveInlineBelowPerSec'] as number) >= (value['adaptiveWorkersAbovePerSec'] as number)
          )
            add('adaptiveWorkersAbovePerSec', 'must be above adaptiveInlineBelowPerSec');
        },
      },
    ),
  },
  { doc: 'the configuration file' },
);

function isRedisUrl(text: string): boolean {
  if (!text.startsWith('redis://') && !text.startsWith('rediss://')) return false;
  try {
    return new URL(text).hostname !== '';
  } catch {
    return false;
  }
}

/** Node's base64 decoder skips junk and tolerates missing padding; re-encoding refuses such sloppy keys. */
function isCanonicalBase64Of(text: string, bytes: number): boolean {
  const decoded = Buffer.from(text, 'base64');
  return decoded.length === bytes && decoded.toString('base64') === text;
}

/** Ids of raw entries with role issuer, even ones with other problems: a route must not repeat their errors. */
function issuerIdsOf(institutions: unknown): Set<string> {
  const ids = new Set<string>();
  if (!Array.isArray(institutions)) return ids;
  for (const item of institutions) {
    if (isPlainObject(item) && item['role'] === 'issuer' && typeof item['id'] === 'string')
      ids.add(item['id']);
  }
  return ids;
}
