import { performance } from 'node:perf_hooks';
import { createAuthCodeGenerator } from '../../src/runtime/auth-code.js';
import { createRrnGenerator } from '../../src/runtime/rrn.js';

/**
 * What keeping records costs, by layout: the experiment that chose the
 * ledger's record layout (docs/performance-log.md, changes 20-24), not part of
 * `npm run bench`. Per simulated decision it builds
 * what an actor keeps for one approval and files it in the account's map,
 * dropping the oldest beyond 8 per account, over 100,000 accounts (the
 * in-memory benchmark's shape), with no rules at all. It prints the
 * sustained rate after filling every map, GC included.
 *
 *   node dist/bench/scenarios/record-layout.js objects   # before change 20: record + response objects, string key, rrn/authCode strings
 *   node dist/bench/scenarios/record-layout.js strkey    # one object, rrn/authCode as numbers, string key
 *   node dist/bench/scenarios/record-layout.js strcodes  # one object keyed by stan (a Smi), rrn/authCode strings
 *   node dist/bench/scenarios/record-layout.js numeric   # one object keyed by stan, numbers only (closest to today's)
 */
const MODES = ['objects', 'strkey', 'strcodes', 'numeric'] as const;
type Mode = (typeof MODES)[number];

const ACCOUNTS = 100_000;
const RECORDS_KEPT = 8;
const MEASURE_MS = 4_000;

function run(mode: Mode): number {
  const maps = Array.from({ length: ACCOUNTS }, () => new Map<string | number, object>());
  const nextRrn = createRrnGenerator(1);
  const nextAuthCode = createAuthCodeGenerator(1);
  const nowMs = Date.UTC(2026, 10, 26);
  let stan = 0;
  let time = 1_764_000_000_000;
  let cursor = 0;
  let seq = 0;
  let found = 0;
  const step = (): void => {
    const map = maps[cursor]!;
    cursor = cursor + 1 === ACCOUNTS ? 0 : cursor + 1;
    stan = stan === 999_999 ? 1 : stan + 1;
    if ((stan & 63) === 0) time++;
    seq++;
    if (mode === 'objects' || mode === 'strkey') {
      const key = `acq-bench|${stan}|${time}`;
      if (map.get(key) !== undefined) found++;
      const record =
        mode === 'objects'
          ? {
              key,
              amount: 1_250,
              currency: 'USD',
              stan,
              response: {
                rc: '00',
                rrn: nextRrn(nowMs),
                authCode: nextAuthCode(),
                amount: 1_250,
                balance: 9_999,
              },
              state: 'open',
              approvedAmount: 1_250,
              atMs: nowMs,
              holdExpiresAtMs: nowMs + 604_800_000,
            }
          : {
              key,
              amount: 1_250,
              currency: 'USD',
              stan,
              rc: 0,
              rrnSecond: 91_000_000,
              rrnSeq: seq & 0xfffff,
              authCode: seq & 0xffffff,
              balance: 9_999,
              state: 1,
              approvedAmount: 1_250,
              atS: 1_764_115_200,
              holdExpiresAtS: 1_764_720_000,
            };
      map.set(key, record);
    } else {
      // Keyed by stan; institution and time kept as fields (a collision chain would compare them).
      if (map.get(stan) !== undefined) found++;
      map.set(stan, {
        institution: 'acq-bench',
        timeHigh: Math.floor(time / 1e6),
        timeLow: time % 1e6,
        amount: 1_250,
        currency: 'USD',
        stan,
        rc: 0,
        rrn: mode === 'strcodes' ? nextRrn(nowMs) : seq & 0xfffff,
        authCode: mode === 'strcodes' ? nextAuthCode() : seq & 0xffffff,
        balance: 9_999,
        state: 1,
        approvedAmount: 1_250,
        atS: 1_764_115_200,
        holdExpiresAtS: 1_764_720_000,
      });
    }
    if (map.size > RECORDS_KEPT) {
      for (const oldest of map.keys()) {
        map.delete(oldest);
        break;
      }
    }
  };
  for (let i = 0; i < ACCOUNTS * RECORDS_KEPT; i++) step();
  const start = performance.now();
  let steps = 0;
  while (performance.now() - start < MEASURE_MS) {
    for (let i = 0; i < 10_000; i++) step();
    steps += 10_000;
  }
  if (found < 0) throw new Error('unreachable');
  return (steps * 1_000) / (performance.now() - start);
}

const mode = process.argv[2] as Mode | undefined;
if (mode === undefined || !MODES.includes(mode)) {
  process.stderr.write(`usage: node dist/bench/scenarios/record-layout.js ${MODES.join('|')}\n`);
  process.exit(2);
}
console.log(
  `${mode}: ${Math.round(run(mode)).toLocaleString('en-US')} records kept/s (sustained, GC included)`,
);
