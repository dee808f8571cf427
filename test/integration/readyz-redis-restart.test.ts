/**
 * docs/protocol.md section 6 and 8, as an SRE tries it: under steady load, the switch's Redis is
 * killed (SIGKILL) and started again on the same port and AOF. /readyz must say 503 and name the
 * store while it is away, and once it says 200 again a transaction must be processed: every one
 * sent from the first 200 on is answered with anything but 96, and switchyard_ready says 1.
 * Seeded (the lanes' accounts and amounts); replay with SWITCHYARD_SEED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, at, ClientPool } from '../helpers/harness.js';
import { KillableRedis } from '../helpers/killable-redis.js';
import { Accounts, masked, RrnBook, req, Teller } from '../helpers/ledger.js';
import { EVENTUALLY_MS, sleep, waitFor } from '../helpers/processes.js';
import { SeededRng, seedFromEnv } from '../helpers/seeded-rng.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import { type SwitchProcess, startSwitch } from '../helpers/switch-process.js';

const TOKEN = 'admin-token-for-readyz-restart-51c2';
const acq = makeInstitution('acq', 'acquirer');
const ROUNDS = 4;
const LANES = 3;
const FUNDED_ACCOUNTS = 12;
const OPENING_BALANCE = 1_000_000_000;
/** Answers to transactions sent after the first 200 that each round waits for before it judges. */
const ANSWERS_AFTER_READY = 60;
/** How often /readyz is asked while Redis comes back: often enough to see the first 200 early. */
const PROBE_EVERY_MS = 10;
/** A lane's pause after a 96, as a host would back off; pacing only, nothing waits on it. */
const PAUSE_AFTER_96_MS = 5;
/**
 * How long Redis stays away once /readyz said so (seeded within): long enough for the
 * connections' reconnect back-off to grow, as it does while a real Redis restarts.
 */
const AWAY_MS = { min: 1_000, max: 3_000 };

interface Sent {
  readonly sentAtMs: number;
  readonly pan: string;
  rc?: string;
}

interface ReadyzBody {
  status: string;
  checks: Record<string, boolean>;
  notReady: string[];
  reasons: Record<string, string>;
}

/** One value of a metric family without labels, or of one label set (`{check="store"}`), from /metrics. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const escaped = `${name}${labels}`.replace(/[{}"]/g, (c) => `\\${c}`);
  const match = new RegExp(`^${escaped} ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

describe('/readyz with Redis killed and restarted under load', () => {
  const seed = seedFromEnv(Date.now() % 0xffff_ffff);
  let redis: KillableRedis | undefined;
  let sw: SwitchProcess | undefined;
  const pool = new ClientPool();

  beforeAll(async () => {
    redis = await KillableRedis.start();
    sw = await startSwitch({
      config: {
        redis: { url: redis.url },
        workers: 2,
        admin: { token: TOKEN },
        institutions: [institutionEntry(acq)],
        // Work held while a worker re-fences is answered 96 after this: short, so the lanes keep
        // moving through the outage instead of waiting out the default 5 s.
        ledger: { commitTimeoutMs: 1_000 },
      },
    });
  });

  afterAll(async () => {
    pool.closeAll();
    await sw?.dispose();
    await redis?.dispose();
  });

  it('says 503 naming the store while Redis is away, and 200 only once transactions are processed again', {
    timeout: 240_000,
  }, async () => {
    console.log(`readyz redis restart test: SWITCHYARD_SEED=${seed}`);
    const rng = new SeededRng(seed);
    const s = sw!;
    const accounts = new Accounts(() => s, TOKEN);
    const funded: string[] = [];
    for (let i = 0; i < FUNDED_ACCOUNTS; i++)
      funded.push(await accounts.create({ balance: OPENING_BALANCE }));
    // Every purchase on it is a business decline (51): the answers the test accepts are not only 00.
    const empty = await accounts.create({ balance: 0 });
    const book = new RrnBook();
    const tellers: Teller[] = [];
    for (let lane = 0; lane < LANES; lane++)
      tellers.push(new Teller(await pool.signedOn(at(s, 'tcp'), acq), book, acq.id));
    // Sends one purchase to every account the moment /readyz first says 200 again: the lanes
    // may all be waiting then on answers to what they sent before it.
    const prober = new Teller(await pool.signedOn(at(s, 'tcp'), acq), book, acq.id);

    const sent: Sent[] = [];
    /** What a lane found wrong (it stops there); every round checks that there is nothing. */
    const problems: string[] = [];
    let running = true;
    const lanes = tellers.map(async (teller, lane) => {
      const laneRng = new SeededRng(rng.int(0, 0xffff_ffff));
      while (running) {
        const pan = laneRng.chance(0.1) ? empty : laneRng.pick(funded);
        const entry: Sent = { sentAtMs: Date.now(), pan };
        sent.push(entry);
        let response: Record<string, unknown>;
        try {
          response = await teller.ask(req('0200', { pan, amount: laneRng.int(1, 5_000) }));
        } catch (error) {
          problems.push(`lane ${lane}: no answer for a purchase on ${masked(pan)}: ${String(error)}`);
          return;
        }
        entry.rc = String(response['rc']);
        const expected = entry.rc === '96' ? '96' : pan === empty ? '51' : '00';
        if (entry.rc !== expected) {
          problems.push(`lane ${lane}: purchase on ${masked(pan)} answered ${entry.rc}, not ${expected}`);
          return;
        }
        if (entry.rc === '96') await sleep(PAUSE_AFTER_96_MS);
      }
    });

    const readyz = async (): Promise<{ status: number; body: ReadyzBody }> => {
      const answer = await admin(s, 'GET', '/readyz');
      return { status: answer.status, body: answer.json as ReadyzBody };
    };
    const metrics = async (): Promise<string> => (await admin(s, 'GET', '/metrics')).text;
    /** The switch's warnings and errors, for a failure's message. */
    const switchTrouble = (): string =>
      s.stdout
        .filter((line) => /"level":"(warn|error)"/.test(line))
        .slice(-20)
        .join('\n');
    const answeredSince = (fromMs: number, rc?: string): Sent[] =>
      sent.filter((e) => e.sentAtMs >= fromMs && e.rc !== undefined && (rc === undefined || e.rc === rc));

    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const roundStart = Date.now();
        expect(
          await waitFor(
            () => problems.length > 0 || answeredSince(roundStart, '00').length >= 20,
            EVENTUALLY_MS,
          ),
          `round ${round}: load flowing before the kill`,
        ).toBe(true);
        expect(problems).toEqual([]);
        const before = await readyz();
        expect(before.status).toBe(200);
        expect(before.body).toEqual({
          status: 'ready',
          checks: { listening: true, store: true, ledger: true, ledger_store: true },
          notReady: [],
          reasons: {},
        });

        await redis!.kill9();
        let away = await readyz();
        expect(
          await waitFor(async () => {
            away = await readyz();
            return away.body.notReady.includes('store') && away.body.notReady.includes('ledger_store');
          }, EVENTUALLY_MS),
          `round ${round}: /readyz names store and ledger_store: ${JSON.stringify(away.body)}`,
        ).toBe(true);
        expect(away.status).toBe(503);
        expect(away.body.status).toBe('not ready');
        expect(away.body.checks).toMatchObject({ listening: true, store: false, ledger_store: false });
        expect(away.body.reasons['store']).toEqual(expect.any(String));
        expect(away.body.reasons['ledger_store']).toMatch(/worker [01]/);
        // Never where Redis is: a URL may carry a password.
        expect(JSON.stringify(away.body)).not.toContain('redis://');
        const awayText = await metrics();
        expect(sample(awayText, 'switchyard_ready')).toBe(0);
        expect(sample(awayText, 'switchyard_ready_check', '{check="store"}')).toBe(0);
        expect(sample(awayText, 'switchyard_ready_check', '{check="listening"}')).toBe(1);

        await sleep(rng.int(AWAY_MS.min, AWAY_MS.max));
        await redis!.restart();
        const answeringAtMs = Date.now();
        let readyAtMs = 0;
        expect(
          await waitFor(
            async () => {
              if ((await readyz()).status !== 200) return false;
              readyAtMs = Date.now();
              return true;
            },
            EVENTUALLY_MS,
            PROBE_EVERY_MS,
          ),
          `round ${round}: /readyz 200 again after Redis came back`,
        ).toBe(true);
        const burst = await Promise.all(
          funded.map((pan) => prober.ask(req('0200', { pan, amount: rng.int(1, 5_000) }))),
        );
        expect(
          burst
            .filter((r) => r['rc'] !== '00')
            .map((r) => `${String(r['rc'])} for a purchase sent at the first 200`),
          `round ${round}; the switch's warnings and errors:\n${switchTrouble()}`,
        ).toEqual([]);
        expect(
          await waitFor(
            () => problems.length > 0 || answeredSince(readyAtMs).length >= ANSWERS_AFTER_READY,
            EVENTUALLY_MS,
          ),
          `round ${round}: answers to what was sent after the first 200`,
        ).toBe(true);
        expect(problems).toEqual([]);
        const after = answeredSince(readyAtMs);
        const failedAfter = after.filter((e) => e.rc === '96');
        const lastFailed = answeredSince(answeringAtMs, '96').at(-1);
        console.log(
          `round ${round}: Redis answering -> /readyz 200 in ${readyAtMs - answeringAtMs} ms; ` +
            `${after.length} sent after it, ${failedAfter.length} answered 96; ` +
            `last 96 sent ${lastFailed === undefined ? '-' : lastFailed.sentAtMs - answeringAtMs} ms after Redis answered`,
        );
        expect(
          failedAfter.map((e) => `${masked(e.pan)} sent ${e.sentAtMs - readyAtMs} ms after 200`),
          `round ${round}; the switch's warnings and errors:\n${switchTrouble()}`,
        ).toEqual([]);
        const readyText = await metrics();
        expect(sample(readyText, 'switchyard_ready')).toBe(1);
        for (const check of ['listening', 'store', 'ledger', 'ledger_store'])
          expect(sample(readyText, 'switchyard_ready_check', `{check="${check}"}`), check).toBe(1);
      }
    } finally {
      running = false;
      await Promise.allSettled(lanes);
    }
    expect(problems).toEqual([]);
    expect(book.clashes).toEqual([]);
  });
});
