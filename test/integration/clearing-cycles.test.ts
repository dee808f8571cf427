/**
 * Clearing cycles and their BullMQ jobs over the real switch and a real Redis (docs/clearing.md,
 * docs/protocol.md sections 6 and 7): POST /clearing/cutoff closes the open cycle and answers its
 * number at once; the cycle's job writes its files and its settlement, which GET
 * /clearing/cycles/{cycle} answers with the same bytes as settlement.json; an empty cycle has
 * settlement.json alone; a rerun writes byte-identical files and is refused (409) while the job
 * runs; items approved while cutoffs happen under load land in exactly one cycle; scheduled
 * cycles are cut at multiples of clearing.cycleMs; a kill -9 right after a cutoff loses nothing
 * and doubles nothing; `switchyard clearing reconcile` finds what differs.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import { decodeJournalEntry, writeJournalRecord } from '../../src/runtime/storage/state-codec.js';
import { keySpace, logPartitionOf } from '../../src/store/keys.js';
import { sha256Of } from '../helpers/file-digests.js';
import { admin, at, ClientPool, type Stack, startStack } from '../helpers/harness.js';
import { Accounts, RrnBook, req, Teller } from '../helpers/ledger.js';
import { makePan } from '../helpers/messages.js';
import { scanFiles } from '../helpers/pan-leaks.js';
import { EVENTUALLY_MS, terminate, trackChild, waitFor } from '../helpers/processes.js';
import { RestartableStack, runCli } from '../helpers/restartable.js';
import { institutionEntry, makeInstitution } from '../helpers/signon.js';
import { TEST_SWITCH_ID } from '../helpers/switch-process.js';
import { devRefs } from '../helpers/test-keys.js';
import type { Msg } from '../helpers/wire.js';

const TOKEN = 'clearing-cycles-admin-token-41d2';
const acq = makeInstitution('acq-clr', 'acquirer');
/** Never signs on: what is routed to it is stood in for. */
const standIn = makeInstitution('iss-clr', 'issuer');
/** Clearing jobs run in worker threads: a cycle is done within this of its cutoff. */
const CLEARED_WITHIN_MS = 30_000;

const config = {
  admin: { token: TOKEN },
  institutions: [
    institutionEntry(acq),
    { ...institutionEntry(standIn), standIn: { perTxnMax: 100_000, dailyMax: 10_000_000 } },
  ],
  routes: [
    { prefix: '4', issuer: 'local' },
    { prefix: '6', issuer: 'iss-clr' },
  ],
};

interface Settlement {
  cycle: number;
  status: string;
  items: number;
  positions: Array<{
    institution: string;
    currency: string;
    debit: number;
    credit: number;
    net: number;
    count: number;
  }>;
}

const outDirOf = (sw: { dir: string }): string => join(sw.dir, 'clearing');

async function cutoff(sw: Stack['sw']): Promise<number> {
  const answer = await admin(sw, 'POST', '/clearing/cutoff', { token: TOKEN });
  expect(answer.status, answer.text).toBe(200);
  return (answer.json as { cycle: number }).cycle;
}

/** The cycle's settlement once its job ended (done or failed), as GET answers it, with the raw body. */
async function settled(sw: Stack['sw'], cycle: number): Promise<{ body: Settlement; text: string }> {
  let last = '';
  const ended = await waitFor(async () => {
    const answer = await admin(sw, 'GET', `/clearing/cycles/${cycle}`, { token: TOKEN });
    last = answer.text;
    return answer.status === 200 && (answer.json as Settlement).status !== 'closing';
  }, CLEARED_WITHIN_MS);
  expect(ended, `cycle ${cycle} not cleared within ${CLEARED_WITHIN_MS} ms: ${last}`).toBe(true);
  return { body: JSON.parse(last) as Settlement, text: last };
}

/** sha256 of every file of a cycle's folder, by name. */
function digests(outDir: string, cycle: number): Record<string, string> {
  return sha256Of(join(outDir, String(cycle)));
}

/** The rows (header dropped) of an institution's file of a cycle; none when it has no file. */
function rowsOf(outDir: string, cycle: number, institution: string): string[] {
  const file = join(outDir, String(cycle), `${institution}.csv`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line !== '');
}

describe('clearing cycles on demand', () => {
  let stack: Stack;
  let teller: Teller;
  const pool = new ClientPool();
  const accounts = new Accounts(() => stack.sw, TOKEN);

  beforeAll(async () => {
    stack = await startStack({ config });
    teller = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), new RrnBook(), acq.id);
  });

  afterAll(async () => {
    pool.closeAll();
    await stack?.dispose();
  });

  it('clears the cycle a cutoff closes: its files, and GET answers settlement.json byte for byte', async () => {
    const pan = await accounts.create({ balance: 100_000 });
    const purchase = await teller.ask(req('0200', { pan, amount: 1_250 }));
    const stoodIn = await teller.ask(req('0200', { pan: makePan('6'), amount: 700 }));
    expect([purchase['rc'], stoodIn['rc']]).toEqual(['00', '00']);
    const cycle = await cutoff(stack.sw);
    const { body, text } = await settled(stack.sw, cycle);
    expect(body).toMatchObject({ cycle, status: 'done' });
    const outDir = outDirOf(stack.sw);
    expect(readFileSync(join(outDir, String(cycle), 'settlement.json'), 'utf8')).toBe(text);
    const acquirerRows = rowsOf(outDir, cycle, acq.id);
    expect(acquirerRows.map((row) => row.split(',')[0])).toEqual([purchase['rrn'], stoodIn['rrn']]);
    expect(rowsOf(outDir, cycle, TEST_SWITCH_ID)).toHaveLength(1);
    expect(rowsOf(outDir, cycle, standIn.id)).toHaveLength(1);
    expect(body.items).toBe(2);
    // The acquirer is paid both; the switch's ledger and the issuer pay one each. Nets sum to zero.
    const net = Object.fromEntries(body.positions.map((p) => [p.institution, p.net]));
    expect(net).toEqual({ [acq.id]: 1_950, [TEST_SWITCH_ID]: -1_250, [standIn.id]: -700 });
    expect(scanFiles(outDir, [pan])).toEqual([]);
    // Counted when BullMQ reports the job completed, a moment after the processor stored the settlement.
    let metrics = '';
    const counted = await waitFor(async () => {
      metrics = (await admin(stack.sw, 'GET', '/metrics')).text;
      return /^switchyard_clearing_cycles_total\{status="done"\} [1-9]/m.test(metrics);
    }, EVENTUALLY_MS);
    expect(counted, 'switchyard_clearing_cycles_total{status="done"} counted').toBe(true);
    expect(metrics).toMatch(/^switchyard_clearing_cycles_total\{status="failed"\} 0$/m);
  });

  it('refuses a cycle that is not closed: 404 cycle_not_found for the open one and for a word', async () => {
    const open = await cutoff(stack.sw);
    for (const path of [`/clearing/cycles/${open + 1}`, '/clearing/cycles/one', '/clearing/cycles/0']) {
      const answer = await admin(stack.sw, 'GET', path, { token: TOKEN });
      expect(answer.status, path).toBe(404);
      expect((answer.json as { error: { code: string } }).error.code).toBe('cycle_not_found');
    }
    const rerun = await admin(stack.sw, 'POST', `/clearing/cycles/${open + 1}/rerun`, { token: TOKEN });
    expect(rerun.status).toBe(404);
  });

  it('writes settlement.json alone for an empty cycle', async () => {
    const before = await cutoff(stack.sw);
    await settled(stack.sw, before);
    const empty = await cutoff(stack.sw);
    const { body } = await settled(stack.sw, empty);
    expect(body).toMatchObject({ cycle: empty, status: 'done', items: 0, positions: [] });
    expect(readdirSync(join(outDirOf(stack.sw), String(empty)))).toEqual(['settlement.json']);
  });

  it('reruns a done cycle to byte-identical files (202), and refuses a rerun while one runs (409)', async () => {
    const pan = await accounts.create({ balance: 100_000 });
    for (const amount of [10, 20, 30]) await teller.ask(req('0200', { pan, amount }));
    const cycle = await cutoff(stack.sw);
    await settled(stack.sw, cycle);
    const first = digests(outDirOf(stack.sw), cycle);
    expect(Object.keys(first).sort()).toEqual(
      [`${acq.id}.csv`, `${TEST_SWITCH_ID}.csv`, 'settlement.json'].sort(),
    );
    const [a, b] = await Promise.all([
      admin(stack.sw, 'POST', `/clearing/cycles/${cycle}/rerun`, { token: TOKEN }),
      admin(stack.sw, 'POST', `/clearing/cycles/${cycle}/rerun`, { token: TOKEN }),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    expect((a.status === 202 ? a : b).json).toEqual({ cycle });
    expect(((a.status === 409 ? a : b).json as { error: { code: string } }).error.code).toBe('cycle_running');
    await settled(stack.sw, cycle);
    expect(digests(outDirOf(stack.sw), cycle)).toEqual(first);
  });

  it('puts every item approved while cutoffs happen under load in exactly one cycle', async () => {
    const pan = await accounts.create({ balance: 10_000_000 });
    const requests = Array.from({ length: 400 }, (_, i) => req('0200', { pan, amount: 1 + (i % 50) }));
    const firstCycle = (await cutoff(stack.sw)) + 1;
    const answers: Promise<Msg>[] = [];
    const cycles: number[] = [];
    for (let i = 0; i < requests.length; i += 20) {
      const frame = requests.slice(i, i + 20);
      teller.client.send(frame);
      for (const m of frame) answers.push(teller.answer(m));
      if (i % 100 === 40) cycles.push(await cutoff(stack.sw));
    }
    const answered = await Promise.all(answers);
    cycles.push(await cutoff(stack.sw));
    const approved = answered.filter((m) => m['rc'] === '00').map((m) => String(m['rrn']));
    expect(approved).toHaveLength(requests.length);
    const seen = new Map<string, number>();
    for (let cycle = firstCycle; cycle <= cycles.at(-1)!; cycle++) {
      await settled(stack.sw, cycle);
      for (const row of rowsOf(outDirOf(stack.sw), cycle, acq.id)) {
        const rrn = row.split(',')[0]!;
        seen.set(rrn, (seen.get(rrn) ?? 0) + 1);
      }
    }
    expect(approved.filter((rrn) => seen.get(rrn) !== 1)).toEqual([]);
    expect(seen.size).toBe(approved.length);
  });

  it('switchyard clearing reconcile: clean files exit 0; a missing, an extra and a changed row each found, exit 1', async () => {
    const pan = await accounts.create({ balance: 100_000 });
    const answers: Msg[] = [];
    for (const amount of [101, 102, 103]) answers.push(await teller.ask(req('0200', { pan, amount })));
    const cycle = await cutoff(stack.sw);
    await settled(stack.sw, cycle);
    const args = ['clearing', 'reconcile', String(cycle), '--config', stack.sw.configPath];
    const clean = await runCli(args);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('match');

    const file = join(outDirOf(stack.sw), String(cycle), `${acq.id}.csv`);
    const [header, first, second, third] = readFileSync(file, 'utf8').trimEnd().split('\n');
    const changed = second!.replace(',102,', ',99,');
    const extra = third!.replace(String(answers[2]!['rrn']), '999999999999');
    writeFileSync(file, `${[header, changed, third].join('\n')}\n`);
    appendFileSync(file, `${extra}\n`);
    const planted = await runCli(args);
    expect(planted.code, planted.stderr).toBe(1);
    const lines = planted.stdout.split('\n');
    expect(
      lines.filter((l) => l.startsWith('missing') && l.includes(String(answers[0]!['rrn']))),
    ).toHaveLength(1);
    expect(
      lines.filter((l) => l.startsWith('amount differs') && l.includes(String(answers[1]!['rrn']))),
    ).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('extra') && l.includes('999999999999'))).toHaveLength(1);
    expect(first).toContain(String(answers[0]!['rrn']));

    // Their own file: the clean one compared with the journal, then one that lacks a row.
    writeFileSync(file, `${[header, first, second, third].join('\n')}\n`);
    const theirs = join(stack.sw.dir, `${acq.id}.csv`);
    writeFileSync(theirs, `${[header, first, second].join('\n')}\n`);
    const withTheirs = await runCli([...args, '--theirs', theirs]);
    expect(withTheirs.code).toBe(1);
    expect(withTheirs.stdout).toContain(`missing from ${acq.id}'s own file`);
    expect(withTheirs.stdout).toContain(String(answers[2]!['rrn']));
  });
});

describe('scheduled cycles', () => {
  let stack: Stack;

  afterAll(async () => {
    await stack?.dispose();
  });

  it('are cut at multiples of clearing.cycleMs on the store clock, each starting where the last was cut', async () => {
    const cycleMs = 1_000;
    stack = await startStack({ config: { ...config, clearing: { cycleMs } } });
    const redis = new Redis(stack.redis.url);
    try {
      const cycles = keySpace().clearingCycles();
      expect(await waitFor(async () => (await redis.hlen(cycles)) >= 3, EVENTUALLY_MS + 3 * cycleMs)).toBe(
        true,
      );
      const ranges = Object.values(await redis.hgetall(cycles))
        .map(
          (json) => JSON.parse(json) as { cycle: number; startMs: number; cutMs: number; closedBy: string },
        )
        .sort((x, y) => x.cycle - y.cycle);
      expect(ranges[0]).toMatchObject({ cycle: 1, startMs: 0, closedBy: 'schedule' });
      for (const [i, range] of ranges.entries()) {
        expect(range.cutMs % cycleMs, JSON.stringify(range)).toBe(0);
        if (i > 0) expect(range.startMs).toBe(ranges[i - 1]!.cutMs);
        if (i > 0) expect(range.cutMs - range.startMs).toBe(cycleMs);
      }
      await settled(stack.sw, ranges[1]!.cycle);
    } finally {
      redis.disconnect();
    }
  });
});

describe('kill -9 right after a cutoff', () => {
  let stack: RestartableStack;
  const pool = new ClientPool();

  afterAll(async () => {
    pool.closeAll();
    await stack?.dispose();
  });

  it('loses nothing and doubles nothing: the closed cycle is cleared after the restart, its items in it alone', async () => {
    stack = await RestartableStack.start({ config });
    const accounts = new Accounts(() => stack.sw, TOKEN);
    const pan = await accounts.create({ balance: 100_000 });
    const teller = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), new RrnBook(), acq.id);
    const purchase = await teller.ask(req('0200', { pan, amount: 4_321 }));
    const cycle = await cutoff(stack.sw);
    await stack.restart(true);
    const { body } = await settled(stack.sw, cycle);
    expect(body).toMatchObject({ cycle, status: 'done', items: 1 });
    const next = await cutoff(stack.sw);
    expect(next).toBe(cycle + 1);
    const { body: after } = await settled(stack.sw, next);
    expect(after.items).toBe(0);
    const rows = rowsOf(outDirOf(stack.sw), cycle, acq.id);
    expect(rows.map((r) => r.split(',')[0])).toEqual([purchase['rrn']]);
  });
});

describe('the journal trim', () => {
  let stack: Stack;
  const pool = new ClientPool();

  afterAll(async () => {
    pool.closeAll();
    await stack?.dispose();
  });

  it('trims what hold expiry read and clearing cleared; an open hold stays and still expires; reconcile says the cycle is gone', async () => {
    const holdTtlMs = 8_000;
    stack = await startStack({
      config: {
        ...config,
        holdTtlMs,
        ledger: { holdExpiryIntervalMs: 200 },
        clearing: { journalRetentionMs: 1 },
      },
    });
    const accounts = new Accounts(() => stack.sw, TOKEN);
    const teller = new Teller(await pool.signedOn(at(stack.sw, 'tcp'), acq), new RrnBook(), acq.id);
    const pan = await accounts.create({ balance: 100_000 });
    const purchase = await teller.ask(req('0200', { pan, amount: 500 }));
    const placedAtMs = Date.now();
    // Placed later: still open (not due) when the purchase's entry can go.
    while (Date.now() - placedAtMs < holdTtlMs / 2) await new Promise((r) => setTimeout(r, 100));
    const hold = await teller.ask(req('0100', { pan, amount: 300 }));
    expect([purchase['rc'], hold['rc']]).toEqual(['00', '00']);
    const cycle = await cutoff(stack.sw);
    await settled(stack.sw, cycle);

    const redis = new Redis(stack.redis.url);
    redis.on('error', () => {});
    try {
      const stream = keySpace().journal(logPartitionOf(devRefs.shardOf(pan)));
      const ids = async () => (await redis.xrange(stream, '-', '+')).map(([id]) => id);
      /** The journal entry of an answer: the one whose records carry its rrn. */
      const entryOf = async (answer: Msg): Promise<string | undefined> => {
        for (const [id, fields] of await redis.xrangeBuffer(stream, '-', '+')) {
          if (decodeJournalEntry(fields[1]!).some((r) => r.rrn === answer['rrn'])) return id.toString();
        }
        return undefined;
      };
      const purchaseEntry = await entryOf(purchase);
      expect(purchaseEntry).toBeDefined();
      expect(await entryOf(hold)).toBeDefined();
      // Hold expiry passes the purchase's entry holdTtlMs after it; the trim then drops it.
      let heldWhenTrimmed: number | undefined;
      const trimmed = await waitFor(async () => {
        if ((await ids()).includes(purchaseEntry!)) return false;
        heldWhenTrimmed = (await accounts.get(pan)).held;
        return true;
      }, holdTtlMs + CLEARED_WITHIN_MS);
      const why = async () =>
        JSON.stringify({
          purchaseEntry,
          ids: await ids(),
          cursor: await redis.get(keySpace().holdExpiryCursor(logPartitionOf(devRefs.shardOf(pan)))),
          open: await redis.hgetall(keySpace().clearingOpen()),
          time: await redis.time(),
          logs: stack.sw.stdout.filter((l) => /warn|error/.test(l)).slice(-5),
        });
      expect(trimmed, `the purchase entry was never trimmed: ${await why()}`).toBe(true);
      console.log(`[clearing-cycles] held when the purchase entry was trimmed: ${heldWhenTrimmed}`);
      // The hold expires all the same, from the entry the trim had to leave.
      expect(
        await waitFor(async () => (await accounts.get(pan)).held === 0, holdTtlMs + CLEARED_WITHIN_MS),
      ).toBe(true);
      expect(await accounts.get(pan)).toMatchObject({ balance: 100_000 - 500, held: 0 });
    } finally {
      redis.disconnect();
    }
    const reconciled = await runCli([
      'clearing',
      'reconcile',
      String(cycle),
      '--config',
      stack.sw.configPath,
    ]);
    expect(reconciled.code).toBe(1);
    expect(reconciled.stderr).toContain(`clearing cycle ${cycle} cannot be recomputed: the journal before`);
  }, 120_000);
});

describe('switchyard clearing worker', () => {
  let stack: Stack;
  const workers: Array<{ pid: number; kill9: () => Promise<unknown> }> = [];

  afterAll(async () => {
    for (const w of workers) await w.kill9().catch(() => {});
    await stack?.dispose();
  });

  it('runs the jobs when the switch does not (clearing.worker false); killed mid-job, the next worker clears the cycle once', async () => {
    stack = await startStack({ config: { ...config, clearing: { worker: false } } });
    const items = 300_000;
    await plantJournal(stack.redis.url, items);
    const cycle = await cutoff(stack.sw);
    // Nobody clears it yet: the switch runs no clearing worker.
    await new Promise((r) => setTimeout(r, 500));
    const waiting = await admin(stack.sw, 'GET', `/clearing/cycles/${cycle}`, { token: TOKEN });
    expect((waiting.json as Settlement).status).toBe('closing');

    const outDir = outDirOf(stack.sw);
    const first = startWorker(stack.sw.configPath);
    workers.push(first);
    // Mid-job: its files are being written (temp names) and settlement.json is not there yet.
    const writing = await waitFor(
      () =>
        existsSync(join(outDir, String(cycle))) &&
        readdirSync(join(outDir, String(cycle))).some((name) => name.endsWith('.tmp')),
      CLEARED_WITHIN_MS,
      5,
    );
    expect(writing, 'the first worker never started writing').toBe(true);
    await first.kill9();
    expect(existsSync(join(outDir, String(cycle), 'settlement.json'))).toBe(false);

    const second = startWorker(stack.sw.configPath);
    workers.push(second);
    const { body } = await settled(stack.sw, cycle);
    expect(body).toMatchObject({ cycle, status: 'done', items });
    expect(rowsOf(outDir, cycle, acq.id)).toHaveLength(items);
    const once = digests(outDir, cycle);
    const rerun = await admin(stack.sw, 'POST', `/clearing/cycles/${cycle}/rerun`, { token: TOKEN });
    expect(rerun.status).toBe(202);
    await settled(stack.sw, cycle);
    expect(digests(outDir, cycle)).toEqual(once);
  }, 120_000);
});

/**
 * `count` on-us purchases of acq written straight into the journal (partition 0, 30 records a
 * stream entry, ids from the store's clock), as commits would: a cycle big enough to take a
 * clearing job seconds.
 */
async function plantJournal(redisUrl: string, count: number): Promise<void> {
  const redis = new Redis(redisUrl);
  const writer = new MsgpackWriter(64 * 1024);
  const stream = keySpace().journal(0);
  try {
    for (let n = 0; n < count; ) {
      const pipeline = redis.pipeline();
      for (let e = 0; e < 200 && n < count; e++) {
        writer.reset();
        for (let r = 0; r < 30 && n < count; r++, n++) {
          writeJournalRecord(writer, {
            kind: 'debit',
            shard: 0,
            ref: `t1.planted${n}`,
            panMasked: '400000******0002',
            issuer: 'local',
            mti: '0200',
            amount: 1 + (n % 1000),
            currency: 'EUR',
            proc: '00',
            key: `${acq.id}|${(n % 999_999) + 1}|${1_700_000_000_000 + n}`,
            origKey: undefined,
            rrn: `P${n.toString(36).toUpperCase().padStart(11, '0')}`,
            atMs: 1_700_000_000_000 + n,
          });
        }
        pipeline.xadd(stream, '*', 'd', Buffer.from(writer.view()));
      }
      await pipeline.exec();
    }
  } finally {
    redis.disconnect();
  }
}

/** `switchyard clearing worker --config FILE` as its own process. */
function startWorker(configPath: string): { pid: number; kill9: () => Promise<unknown> } {
  const child = spawn(
    process.execPath,
    ['dist/src/cli/main.js', 'clearing', 'worker', '--config', configPath],
    {
      stdio: 'ignore',
    },
  );
  trackChild(child);
  return { pid: child.pid!, kill9: () => terminate(child, 'SIGKILL', 5_000) };
}
