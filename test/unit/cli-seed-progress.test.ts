import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SeedProgress } from '../../src/cli/seed-progress.js';
import { simPanAt } from '../../src/sim/request-factory.js';

/**
 * The seed's progress estimate against a stand-in admin API on loopback that has the accounts
 * of indices below `frontier` (the bulk call creates them in index order), and the token check.
 */

const TOKEN = 'progress-token';
const PREFIX = '4930';
const COUNT = 5000;

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

async function fakeAdmin(state: { frontier: number; probes: number }): Promise<string> {
  const present = new Map<string, number>();
  for (let i = 0; i < COUNT; i++) present.set(simPanAt(PREFIX, i), i);
  server = createServer((req, res) => {
    state.probes++;
    const pan = /^\/accounts\/([0-9]+)$/.exec(req.url ?? '')?.[1];
    const index = pan === undefined ? undefined : present.get(pan);
    const status =
      req.headers.authorization !== `Bearer ${TOKEN}`
        ? 401
        : index !== undefined && index < state.frontier
          ? 200
          : 404;
    res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

function sink(isTTY: boolean): { stream: NodeJS.WritableStream & { isTTY?: boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    write: (chunk: string) => chunks.push(chunk) > 0,
  } as unknown as NodeJS.WritableStream & {
    isTTY?: boolean;
  };
  return { stream, text: () => chunks.join('') };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('SeedProgress', () => {
  it('reports how far the numbering is present, one line a tick, then the outcome', async () => {
    const state = { frontier: 1234, probes: 0 };
    const baseUrl = await fakeAdmin(state);
    const out = sink(false);
    const progress = new SeedProgress({
      target: { baseUrl, token: TOKEN },
      prefix: PREFIX,
      count: COUNT,
      intervalMs: 10,
      stream: out.stream,
      label: 'switchyard accounts seed',
      alwaysReportOutcome: false,
    });
    progress.start();
    const estimates = (): number[] => [...out.text().matchAll(/about (\d+) of/g)].map((m) => Number(m[1]));
    // One round of samples a tick: the estimate is within COUNT/32 of the frontier, never ahead.
    const slack = COUNT / 32;
    await until(() => estimates().length > 0, 'the first estimate');
    expect(estimates()[0]).toBeGreaterThanOrEqual(1234 - slack);
    expect(estimates()[0]).toBeLessThanOrEqual(1234);
    state.frontier = 4321;
    await until(() => estimates().some((e) => e >= 4321 - slack), 'the estimate to move');
    progress.stop({ created: 4999, existing: 1, failed: 0 });
    const lines = out
      .text()
      .split('\n')
      .filter((line) => line !== '');
    for (const line of lines.slice(0, -1)) {
      expect(line).toMatch(
        /^switchyard accounts seed: about \d+ of 5000 accounts present \(\d+%\), \d+\.\d s$/,
      );
    }
    const all = estimates();
    expect(Math.max(...all)).toBeLessThanOrEqual(4321);
    const last = all.at(-1)!;
    expect(lines.at(-2)).toContain(
      `about ${last} of 5000 accounts present (${Math.floor((last * 100) / COUNT)}%)`,
    );
    expect(lines.at(-1)).toMatch(
      /^switchyard accounts seed: 5000 accounts \(created 4999, existing 1, failed 0\) in \d+\.\d s$/,
    );
    // Estimates never go back, and a tick is one round of at most 32 reads, not one per account.
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(state.probes).toBeLessThanOrEqual(32 * (all.length + 1));
    // No round starts after stop(); the one in flight may still reach the server (a busy runner
    // delivers its requests late), so wait for the count to settle before judging it.
    const probesAtStop = state.probes;
    let settled = -1;
    while (settled !== state.probes) {
      settled = state.probes;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(state.probes - probesAtStop, 'probes after stop: at most the round in flight').toBeLessThanOrEqual(
      32,
    );
  });

  it('on a terminal rewrites one line in place and ends it', async () => {
    const baseUrl = await fakeAdmin({ frontier: COUNT, probes: 0 });
    const out = sink(true);
    const progress = new SeedProgress({
      target: { baseUrl, token: TOKEN },
      prefix: PREFIX,
      count: COUNT,
      intervalMs: 10,
      stream: out.stream,
      label: 'seed',
      alwaysReportOutcome: false,
    });
    progress.start();
    await until(() => out.text().includes('about 5000 of 5000 accounts present (100%)'), 'the end');
    progress.stop({ created: 0, existing: COUNT, failed: 0 });
    expect(out.text()).toMatch(
      /^(\rseed: about \d+ of 5000 accounts present \(\d+%\), \d+\.\d s\x1b\[K)+\rseed: 5000 /,
    );
    expect(out.text()).toMatch(
      /\rseed: 5000 accounts \(created 0, existing 5000, failed 0\) in \d+\.\d s\x1b\[K\n$/,
    );
  });

  it('says nothing while the API refuses the probes (the seed itself reports the error)', async () => {
    const state = { frontier: 10, probes: 0 };
    const baseUrl = await fakeAdmin(state);
    const out = sink(false);
    const progress = new SeedProgress({
      target: { baseUrl, token: 'wrong' },
      prefix: PREFIX,
      count: COUNT,
      intervalMs: 10,
      stream: out.stream,
      label: 'seed',
      alwaysReportOutcome: false,
    });
    progress.start();
    await until(() => state.probes >= 3, 'a few probes');
    progress.stop();
    expect(out.text()).toBe('');
  });

  it('reports the outcome of a seed done before the first tick only when asked to', async () => {
    const baseUrl = await fakeAdmin({ frontier: 0, probes: 0 });
    for (const alwaysReportOutcome of [false, true]) {
      const out = sink(true);
      const progress = new SeedProgress({
        target: { baseUrl, token: TOKEN },
        prefix: PREFIX,
        count: 3,
        intervalMs: 60_000,
        stream: out.stream,
        label: 'seed',
        alwaysReportOutcome,
      });
      progress.start();
      progress.stop({ created: 3, existing: 0, failed: 0 });
      if (alwaysReportOutcome)
        expect(out.text()).toMatch(/^\rseed: 3 accounts \(created 3, existing 0, failed 0\) in /);
      else expect(out.text()).toBe('');
    }
  });
});
