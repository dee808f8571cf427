import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningIssuer, startIssuerSim } from '../procs/issuer-run.js';
import { runSim, type SimLoad } from '../procs/sim-run.js';
import { ISSUER_PREFIX, startSwitch } from '../procs/switch-proc.js';
import { renderProfiles } from './flame.js';
import { repoRoot } from './processes.js';
import { type FsyncMode, startRedis } from './redis.js';

/**
 * `npm run bench:profile -- [LOAD] [--inline] [--no-prof] [--metrics-hot-off]`: one load against
 * a fresh Redis and switch (10,000 accounts, warmed), the switch under
 * `node --cpu-prof` (one profile per thread), then per-thread CPU per
 * approval from /proc, Redis's CPU (and its AOF rewrite children's), and a
 * flame graph + summary per thread under bench/results/profiles/. This is
 * how the figures in docs/performance.md were taken.
 */

const USAGE = `usage: npm run bench:profile -- [b64|b1c64|open1k|open5k|open20k|issuer-b64|standin-b64] [--inline|--adaptive] [--no-prof] [--everysec] [--metrics-hot-off]

  b64          TCP, 4 connections, 64 msgs/frame, closed loop (default)
  b1c64        TCP, 64 connections, 1 msg/frame, closed loop
  open1k       open loop 1,000/s, 4 connections
  open5k       open loop 5,000/s, 4 connections
  open20k      open loop 20,000/s, 4 connections
  issuer-b64   b64 routed to the issuer, \`sim issuer\` (its own process, 1 connection) answering at once
  standin-b64  b64 routed to the issuer while it is away: stand-in approvals, each queueing an advice
  --inline  ledger.inline (one owner on the main thread) instead of worker threads
  --adaptive  ledger.adaptive: the owners move to the main thread at low load and back to the workers
  --no-prof no --cpu-prof (CPU figures without the profiler's own cost)
  --metrics-hot-off  the switch with its per-message metric calls as no-ops
            (SWITCHYARD_BENCH_METRICS_HOT=off): the other arm of issue 19's paired bar
            on the cost of metrics (b64 with and without it, interleaved)
`;

const ACCOUNTS = 10_000;
const DURATION_S = 10;
const WARMUP_S = 3;

const BASE = { transport: 'tcp', connections: 4, inflight: 1_024, coalesce: false, pans: ACCOUNTS } as const;
const WARMUP_LOAD: SimLoad = { ...BASE, batch: 64, durationS: WARMUP_S };
const LOADS: Readonly<Record<string, SimLoad>> = {
  b64: { ...BASE, batch: 64, durationS: DURATION_S },
  'issuer-b64': { ...BASE, batch: 64, durationS: DURATION_S, prefix: ISSUER_PREFIX },
  'standin-b64': { ...BASE, batch: 64, durationS: DURATION_S, prefix: ISSUER_PREFIX },
  b1c64: { ...BASE, connections: 64, inflight: 64, batch: 1, durationS: DURATION_S },
  open1k: { ...BASE, batch: 1, ratePerS: 1_000, inflight: 65_536, coalesce: true, durationS: DURATION_S },
  open5k: { ...BASE, batch: 1, ratePerS: 5_000, inflight: 65_536, coalesce: true, durationS: DURATION_S },
  open20k: { ...BASE, batch: 1, ratePerS: 20_000, inflight: 65_536, coalesce: true, durationS: DURATION_S },
};

/** CPU ms (user, system) per thread of a process, by "name:tid". */
function threadCpuMs(pid: number): Map<string, { user: number; system: number }> {
  const out = new Map<string, { user: number; system: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const label = tid === String(pid) ? `${name} main` : `${name} thread ${tid}`;
      out.set(label, { user: Number(f[11]) * 10, system: Number(f[12]) * 10 });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** CPU ms of a process's waited-for children (Redis's AOF rewrite forks). */
function childrenCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const name = argv.find((a) => !a.startsWith('--')) ?? 'b64';
  const load = LOADS[name];
  if (load === undefined) throw new Error(`unknown load ${name}\n${USAGE}`);
  const inline = argv.includes('--inline');
  const adaptive = argv.includes('--adaptive');
  const profiling = !argv.includes('--no-prof');
  const fsync: FsyncMode = argv.includes('--everysec') ? 'everysec' : 'always';
  const metricsHotOff = argv.includes('--metrics-hot-off');
  const label = `${name}-${inline ? 'inline' : adaptive ? 'adaptive' : 'workers'}${metricsHotOff ? '-metrics-hot-off' : ''}`;
  const outDir = join(repoRoot, 'bench', 'results', 'profiles');
  const rawDir = join(outDir, `${label}-raw`);
  rmSync(rawDir, { recursive: true, force: true });
  mkdirSync(rawDir, { recursive: true });

  const redis = await startRedis(fsync);
  try {
    const sw = await startSwitch(redis.url, {
      config: inline
        ? { workers: 1, ledger: { inline: true } }
        : adaptive
          ? { ledger: { adaptive: true } }
          : {},
      nodeArgs: profiling ? ['--cpu-prof', '--cpu-prof-dir', rawDir] : [],
      env: metricsHotOff ? { SWITCHYARD_BENCH_METRICS_HOT: 'off' } : {},
    });
    try {
      await sw.seedAccounts(ACCOUNTS);
      // The issuer answers the warm-up and the run; the warm-up takes the load's route (its PANs' actors).
      const issuer: RunningIssuer | undefined =
        name === 'issuer-b64'
          ? await startIssuerSim(sw, { connections: 1, latencyMs: 0 }, 1, label)
          : undefined;
      await runSim(
        sw,
        { ...WARMUP_LOAD, ...(load.prefix === undefined ? {} : { prefix: load.prefix }) },
        'warm-up',
        1,
        {},
      );
      const before = threadCpuMs(sw.pid);
      const redisBefore = threadCpuMs(redis.pid);
      const childrenBefore = childrenCpuMs(redis.pid);
      const watched: Record<string, number> = { switch: sw.pid, redis: redis.pid };
      if (issuer !== undefined) watched.issuer = issuer.pid;
      const run = await runSim(sw, load, label, 2, watched);
      const after = threadCpuMs(sw.pid);
      const redisAfter = threadCpuMs(redis.pid);
      const rewriteMs = childrenCpuMs(redis.pid) - childrenBefore;
      const s = run.summary;
      const perApproval = (ms: number): string => ((ms * 1000) / Math.max(1, s.answered)).toFixed(1);
      const lines = [
        `${label}: ${s.answered} answered, ${Math.round(s.achievedRatePerS)}/s, p50 ${s.latencyMs.p50} ms, p99 ${s.latencyMs.p99} ms`,
        'CPU per approval (us), user+system, over the measured run (switch: main thread; with workers the two',
        "busiest other threads are the ledger workers, the ~1 us ones V8's GC and compiler helpers):",
      ];
      const report = (who: string, b: typeof before, a: typeof after): void => {
        for (const [thread, cpu] of a) {
          const was = b.get(thread) ?? { user: 0, system: 0 };
          const user = cpu.user - was.user;
          const system = cpu.system - was.system;
          if (user + system < 50) continue;
          lines.push(
            `  ${who} ${thread.padEnd(24)} ${perApproval(user + system).padStart(6)}  (system ${perApproval(system)})`,
          );
        }
      };
      report('switch', before, after);
      report('redis ', redisBefore, redisAfter);
      lines.push(`  redis AOF rewrite children ${perApproval(rewriteMs)}`);
      lines.push(`  simulator ${perApproval(run.cpuMs['sim'] ?? 0)}`);
      if (issuer !== undefined) {
        lines.push(`  issuer simulator ${perApproval(run.cpuMs['issuer'] ?? 0)}`);
        await issuer.stop();
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    } finally {
      await sw.stop();
    }
  } finally {
    await redis.stop();
  }
  if (!profiling) return;
  // One flame graph and summary per thread's profile (written when the switch exited).
  renderProfiles(rawDir, outDir, label);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
