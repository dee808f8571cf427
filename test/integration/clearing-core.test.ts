/**
 * The clearing core against the real switch on a real Redis (docs/clearing.md,
 * docs/protocol.md section 7): on-us purchases, cash, refunds, an authorization completed
 * and one never completed, reversals of a purchase and of a completion, a decline, an
 * inquiry and an adjustment; an issuer-approved purchase and a stand-in approval. The
 * journal range is read with the clearing reader and the files written with the clearing
 * writer; the rows, their order and the positions are checked exactly against what the
 * test sent and was answered, the files reconcile clean, and no full PAN is in any of them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearRange, itemsInRange, type RangeSource } from '../../src/clearing/clear-range.js';
import type { ClearedItem } from '../../src/clearing/cleared-item.js';
import { CLEARING_COLUMNS, CLEARING_HEADER, type ClearingRow } from '../../src/clearing/clearing-row.js';
import { csvLine } from '../../src/clearing/csv.js';
import { cycleDir } from '../../src/clearing/cycle-paths.js';
import { readCycleFiles } from '../../src/clearing/cycle-reading.js';
import type { JournalRange } from '../../src/clearing/journal-range.js';
import { describeDifference, reconcile } from '../../src/clearing/reconcile.js';
import { renderSettlementJson } from '../../src/clearing/settlement.js';
import { keySpace } from '../../src/store/keys.js';
import { maskPan } from '../../src/util/pan.js';
import { at, ClientPool, type Stack, startStack } from '../helpers/harness.js';
import { Accounts, origOf, RrnBook, req, Teller } from '../helpers/ledger.js';
import { makePan } from '../helpers/messages.js';
import { scanFiles } from '../helpers/pan-leaks.js';
import { EVENTUALLY_MS } from '../helpers/processes.js';
import type { RawClient } from '../helpers/raw-client.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import { TEST_SWITCH_ID } from '../helpers/switch-process.js';
import type { Msg } from '../helpers/wire.js';

const TOKEN = 'clearing-core-admin-token-7f3a';
const acqA = makeInstitution('acq-a', 'acquirer');
const acqB = makeInstitution('acq-b', 'acquirer');
const issuer = makeInstitution('iss-fwd', 'issuer');
/** Never signs on: everything routed to it is stood in for (within its limits). */
const standIn = makeInstitution('iss-si', 'issuer');

let stack: Stack;
let redis: Redis;
const pool = new ClientPool();
const accounts = new Accounts(() => stack.sw, TOKEN);
const outDirs: string[] = [];

beforeAll(async () => {
  stack = await startStack({
    config: {
      admin: { token: TOKEN },
      institutions: [
        institutionEntry(acqA),
        institutionEntry(acqB),
        institutionEntry(issuer),
        { ...institutionEntry(standIn), standIn: { perTxnMax: 1_000, dailyMax: 5_000 } },
      ],
      routes: [
        { prefix: '4', issuer: 'local' },
        { prefix: '5', issuer: 'iss-fwd' },
        { prefix: '6', issuer: 'iss-si' },
      ],
    },
  });
  redis = new Redis(stack.redis.url);
});

afterAll(async () => {
  pool.closeAll();
  redis?.disconnect();
  await stack?.dispose();
  for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
});

/** The store's clock, in ms. */
async function storeMs(): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * Waits until the store's clock has passed its reading now: the next commit then gets a
 * later stream id than every commit already answered, whatever partition it is in, so
 * journal order is the order the test sent in (entries of one ms in different partitions
 * would otherwise be ordered by partition, docs/clearing.md).
 */
async function nextStoreMs(): Promise<number> {
  const now = await storeMs();
  const deadline = Date.now() + EVENTUALLY_MS;
  for (;;) {
    const later = await storeMs();
    if (later > now) return later;
    if (Date.now() > deadline) throw new Error(`the store's clock stayed at ${now} for ${EVENTUALLY_MS} ms`);
  }
}

/** An expected cleared item: what the test sent and was answered. */
interface Expected {
  readonly request: Msg;
  readonly response: Msg;
  readonly mti: string;
  readonly proc: string;
  readonly amount: number;
  readonly acquirer: string;
  readonly issuer: string;
  readonly payer: 'acquirer' | 'issuer';
}

/** The row an expected item makes for `side`, built from the wire, not from the journal. */
function rowOf(e: Expected, side: 'acquirer' | 'issuer'): ClearingRow {
  return {
    rrn: e.response['rrn'] as string,
    stan: String(e.request['stan']),
    time: String(e.request['time']),
    pan: maskPan(e.request['pan'] as string),
    mti: e.mti,
    proc: e.proc,
    amount: String(e.amount),
    currency: 'EUR',
    direction: e.payer === side ? 'D' : 'C',
    acquirer: e.acquirer,
    issuer: e.issuer,
  };
}

function expectedCsv(expected: readonly Expected[], institution: string): string {
  const lines = expected.flatMap((e) =>
    (['acquirer', 'issuer'] as const)
      .filter((side) => e[side] === institution)
      .map((side) => {
        const row = rowOf(e, side);
        return csvLine(CLEARING_COLUMNS.map((c) => row[c]));
      }),
  );
  return CLEARING_HEADER + lines.join('');
}

async function itemsOf(source: RangeSource): Promise<ClearedItem[]> {
  const items: ClearedItem[] = [];
  for await (const batch of itemsInRange(source)) items.push(...batch);
  return items;
}

describe('clearing a journal range of the real switch', () => {
  it('keeps exactly the cleared items, in journal order, and writes the files and positions they make', async () => {
    const startMs = await storeMs();
    const panA = await accounts.create({ balance: 10_000 });
    const panB = await accounts.create({ balance: 10_000 });
    const issuerPan = makePan('5');
    const standInPan = makePan('6');
    const book = new RrnBook();
    const a = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acqA), book, 'acq-a');
    const b = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acqB), book, 'acq-b');
    const issuerClient: RawClient = await pool.signedOn(at(stack.sw, 'tcp'), issuer);
    const expected: Expected[] = [];

    /** Sends on the local route and checks the rc; `clears` adds the item it makes. */
    const send = async (
      teller: Teller,
      request: Msg,
      rc: string,
      clears?: Omit<Expected, 'request' | 'response' | 'acquirer' | 'issuer'> & { issuer?: string },
    ): Promise<Msg> => {
      const response = await teller.ask(request);
      expect(response['rc'], JSON.stringify(response)).toBe(rc);
      if (clears !== undefined)
        expected.push({
          request,
          response,
          acquirer: teller.institution,
          issuer: TEST_SWITCH_ID,
          ...clears,
        });
      await nextStoreMs();
      return response;
    };
    const on = (mti: string, proc: string, amount: number, payer: 'acquirer' | 'issuer') => ({
      mti,
      proc,
      amount,
      payer,
    });

    // On-us: purchase, cash, refund.
    await send(a, req('0200', { pan: panA, amount: 1_000 }), '00', on('0200', '00', 1_000, 'issuer'));
    await send(a, req('0200', { pan: panA, amount: 500, proc: '01' }), '00', on('0200', '01', 500, 'issuer'));
    await send(
      a,
      req('0200', { pan: panA, amount: 300, proc: '20' }),
      '00',
      on('0200', '20', 300, 'acquirer'),
    );
    // An authorization completed (its posted amount clears), one never completed (nothing).
    const auth = req('0100', { pan: panB, amount: 2_000 });
    await send(a, auth, '00');
    await send(
      a,
      req('0220', { pan: panB, amount: 1_500, orig: origOf(auth) }),
      '00',
      on('0220', '00', 1_500, 'issuer'),
    );
    await send(a, req('0100', { pan: panB, amount: 700 }), '00');
    const midMs = await storeMs();
    // A purchase reversed: the 0400 row carries its own rrn, stan and time.
    const purchase = req('0200', { pan: panA, amount: 400 });
    await send(a, purchase, '00', on('0200', '00', 400, 'issuer'));
    await send(
      a,
      req('0400', { pan: panA, amount: 400, orig: origOf(purchase) }),
      '00',
      on('0400', '00', 400, 'acquirer'),
    );
    // A completion reversed: the 0400 names the approved 900 and moves back the posted 800.
    const cashAuth = req('0100', { pan: panB, amount: 900, proc: '01' });
    await send(a, cashAuth, '00');
    await send(
      a,
      req('0220', { pan: panB, amount: 800, orig: origOf(cashAuth) }),
      '00',
      on('0220', '01', 800, 'issuer'),
    );
    await send(
      a,
      req('0400', { pan: panB, amount: 900, orig: origOf(cashAuth) }),
      '00',
      on('0400', '01', 800, 'acquirer'),
    );
    // A decline, an inquiry and an adjustment: nothing clears.
    await send(a, req('0200', { pan: panA, amount: 1_000_000 }), '51');
    await send(a, req('0100', { pan: panA, amount: 0, proc: '31' }), '00');
    expect((await accounts.adjust(panA, { amount: 25, reference: 'clearing-test-adj' })).status).toBe(200);
    await nextStoreMs();

    // An issuer-approved purchase.
    const forwarded = req('0200', { pan: issuerPan, amount: 650 });
    b.client.send(forwarded);
    const forward = await issuerClient.nextMessage(
      (m) => m['mti'] === '0200' && m['stan'] === forwarded['stan'],
    );
    issuerClient.send({ mti: '0210', id: forward['id'], rc: '00', authCode: 'ISS001', amount: 650 });
    const issuerAnswer = await b.answer(forwarded);
    expect(issuerAnswer['rc']).toBe('00');
    expected.push({
      request: forwarded,
      response: issuerAnswer,
      acquirer: 'acq-b',
      issuer: 'iss-fwd',
      ...on('0200', '00', 650, 'issuer'),
    });
    await nextStoreMs();
    // A stand-in approval (iss-si never signs on).
    const stoodIn = await send(b, req('0200', { pan: standInPan, amount: 450 }), '00', {
      ...on('0200', '00', 450, 'issuer'),
      issuer: 'iss-si',
    });
    expect(stoodIn['authCode']).toMatch(/^S/);
    const cutMs = (await storeMs()) + 1;

    const source = (range: JournalRange): RangeSource => ({
      redis,
      keys: keySpace(),
      range,
      switchId: TEST_SWITCH_ID,
    });
    const whole = { startMs, cutMs };
    const items = await itemsOf(source(whole));
    expect(items.map((i) => i.rrn)).toEqual(expected.map((e) => e.response['rrn']));

    // Every item lands in exactly one of two ranges cut between them.
    const before = await itemsOf(source({ startMs, cutMs: midMs }));
    const after = await itemsOf(source({ startMs: midMs, cutMs }));
    expect(before.length).toBe(4);
    expect([...before, ...after]).toEqual(items);

    const outDir = mkdtempSync(path.join(tmpdir(), 'switchyard-clearing-out-'));
    outDirs.push(outDir);
    const settlement = await clearRange(source(whole), { outDir, cycle: 1, status: 'done' });
    const dir = cycleDir(outDir, 1);
    const institutions = ['acq-a', 'acq-b', 'iss-fwd', 'iss-si', TEST_SWITCH_ID];
    expect(readdirSync(dir).sort()).toEqual(
      [...institutions.map((i) => `${i}.csv`), 'settlement.json'].sort(),
    );
    for (const institution of institutions) {
      expect(readFileSync(path.join(dir, `${institution}.csv`), 'utf8'), institution).toBe(
        expectedCsv(expected, institution),
      );
    }

    const position = (institution: string, debit: bigint, credit: bigint, count: number) => ({
      institution,
      currency: 'EUR',
      debit,
      credit,
      net: credit - debit,
      count,
    });
    expect(settlement).toEqual({
      cycle: 1,
      status: 'done',
      items: 10,
      positions: [
        position('acq-a', 1_500n, 4_200n, 8),
        position('acq-b', 0n, 1_100n, 2),
        position('iss-fwd', 650n, 0n, 1),
        position('iss-si', 450n, 0n, 1),
        position(TEST_SWITCH_ID, 4_200n, 1_500n, 8),
      ],
    });
    expect(readFileSync(path.join(dir, 'settlement.json'), 'utf8')).toBe(renderSettlementJson(settlement));

    // The files reconcile clean against the journal; one row changed on disk is found.
    const files = await readCycleFiles(outDir, 1);
    expect(await reconcile({ items: itemsInRange(source(whole)), files })).toEqual([]);
    const changed = new Map(files);
    changed.set(
      'iss-si',
      files.get('iss-si')!.map((r) => ({ ...r, amount: '440' })),
    );
    const differences = (await reconcile({ items: itemsInRange(source(whole)), files: changed })).map(
      describeDifference,
    );
    expect(differences).toEqual([
      expect.stringMatching(/^amount differs in iss-si\.csv: .*journal 450 EUR, file 440 EUR$/),
    ]);

    // No full PAN anywhere in the output, nor in the reconcile lines.
    const pans = [panA, panB, issuerPan, standInPan];
    expect(scanFiles(outDir, pans)).toEqual([]);
    for (const pan of pans) expect(differences.join('\n')).not.toContain(pan);
  });
});
