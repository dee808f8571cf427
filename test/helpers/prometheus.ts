/**
 * A real Prometheus server for tests (Debian's `prometheus` package): its own config and
 * storage in a temp dir, a free loopback port, one static scrape target, and the HTTP API
 * calls the tests make. Stopped by its PID; the temp dir removed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { exitOf, removeDir, terminate, trackChild, trackDir, waitFor } from './processes.js';

/** True when an executable named `name` is on PATH. */
export function onPath(name: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

/** Both tools the Prometheus test needs: the server and promtool (the same Debian package). */
export const prometheusInstalled = (): boolean => onPath('prometheus') && onPath('promtool');

export interface PrometheusOptions {
  /** host:port of the switch's admin listener, scraped at /metrics. */
  readonly target: string;
  /** The scrape job's name (the `job` label). */
  readonly job: string;
  /** Absolute paths of rule files to load and evaluate against the live series. */
  readonly ruleFiles: readonly string[];
  /** Bound for /-/ready (default 30 s: a loaded machine starts it slowly, a broken one fails at once). */
  readonly readyTimeoutMs?: number;
}

/** One series or sample as the HTTP API gives it. */
export type Labels = Record<string, string>;

export interface InstantSample {
  readonly metric: Labels;
  /** [unix seconds, value as text] */
  readonly value: [number, string];
}

export type QueryData =
  | { readonly resultType: 'vector'; readonly result: InstantSample[] }
  | { readonly resultType: 'matrix'; readonly result: Array<{ metric: Labels; values: [number, string][] }> }
  | { readonly resultType: 'scalar' | 'string'; readonly result: [number, string] };

export interface MetricMetadata {
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

export interface RuleGroup {
  readonly name: string;
  readonly file: string;
  readonly rules: Array<{
    readonly name: string;
    /** The rule's expression. */
    readonly query: string;
    readonly type: 'alerting' | 'recording';
    readonly health: string;
    readonly lastError?: string;
    readonly lastEvaluation: string;
  }>;
}

/** An API answer that was not `status: success`: what Prometheus said (a bad query's parse error). */
export class PrometheusApiError extends Error {}

// Each scrape is one second apart, and so is each rule evaluation: the test waits seconds, not minutes.
const SCRAPE_INTERVAL = '1s';

export class PrometheusServer {
  /** Every line Prometheus logged (it logs to stderr), for failure messages. */
  readonly log: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly url: string,
  ) {}

  static async start(options: PrometheusOptions): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-prometheus-'));
    trackDir(dir);
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(configFile, configText(options));
    // The free port may be taken by another process before Prometheus binds it: then try another.
    for (let attempt = 1; ; attempt++) {
      const server = PrometheusServer.spawn(dir, configFile, await freePort());
      const outcome = await server.untilReady(options.readyTimeoutMs ?? 30_000);
      if (outcome === 'ready') return server;
      await terminate(server.child, 'SIGTERM', 10_000);
      const portTaken = server.log.some((line) => line.includes('address already in use'));
      if (portTaken && attempt < 3) continue;
      removeDir(dir);
      throw new Error(`prometheus ${outcome}:\n${server.log.slice(-30).join('\n')}`);
    }
  }

  private static spawn(dir: string, configFile: string, port: number): PrometheusServer {
    const child = spawn(
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    trackChild(child);
    const server = new PrometheusServer(child, dir, `http://127.0.0.1:${port}`);
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        server.log.push(...chunk.split('\n').filter((line) => line !== ''));
      });
    }
    return server;
  }

  /** Polls /-/ready until it answers 200, the process exits, or the deadline passes. */
  private async untilReady(timeoutMs: number): Promise<'ready' | 'exited before it was ready' | string> {
    let exited = false;
    void exitOf(this.child).then(() => {
      exited = true;
    });
    const isReady = async (): Promise<boolean> => {
      try {
        const response = await this.get('/-/ready');
        await response.text();
        return response.ok;
      } catch {
        return false;
      }
    };
    let ready = false;
    await waitFor(
      async () => {
        ready = !exited && (await isReady());
        return exited || ready;
      },
      timeoutMs,
      100,
    );
    if (ready) return 'ready';
    return exited ? 'exited before it was ready' : `not ready within ${timeoutMs} ms`;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** SIGTERM by PID (SIGKILL after 10 s), then the temp dir goes. Idempotent. */
  async stop(): Promise<void> {
    await terminate(this.child, 'SIGTERM', 10_000);
    removeDir(this.dir);
  }

  /** GET /api/v1/query at the server's now. Throws PrometheusApiError with Prometheus's message on a bad query. */
  query(expr: string): Promise<QueryData> {
    return this.api<QueryData>('/api/v1/query', { query: expr });
  }

  /** The value of each sample of an instant vector (an empty list when the vector is empty). */
  async values(expr: string): Promise<Array<{ metric: Labels; value: number }>> {
    const data = await this.query(expr);
    if (data.resultType !== 'vector') throw new Error(`${expr} gave a ${data.resultType}, not a vector`);
    return data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  }

  /** Every series matching `selector` with a sample between `startMs` and `endMs` (default: now). */
  series(selector: string, startMs: number, endMs = Date.now()): Promise<Labels[]> {
    return this.api<Labels[]>('/api/v1/series', {
      'match[]': selector,
      start: String(startMs / 1000),
      end: String(endMs / 1000),
    });
  }

  /** Resolves once a scrape of `job` taken after `afterMs` is stored; false if none by the deadline. */
  scrapedAfter(job: string, afterMs: number, timeoutMs: number): Promise<boolean> {
    return waitFor(
      async () => {
        const up = await this.values(`timestamp(up{job="${job}"})`);
        return up.some((s) => s.value * 1000 > afterMs);
      },
      timeoutMs,
      200,
    );
  }

  /** What the scrapes said of each metric family (TYPE and HELP): name to its entries. */
  metadata(): Promise<Record<string, MetricMetadata[]>> {
    return this.api<Record<string, MetricMetadata[]>>('/api/v1/metadata', {});
  }

  async ruleGroups(): Promise<RuleGroup[]> {
    return (await this.api<{ groups: RuleGroup[] }>('/api/v1/rules', {})).groups;
  }

  private async api<T>(path: string, params: Record<string, string>): Promise<T> {
    const response = await this.get(`${path}?${new URLSearchParams(params).toString()}`);
    const body = (await response.json()) as { status: string; data?: T; error?: string; errorType?: string };
    if (body.status !== 'success') {
      throw new PrometheusApiError(`${body.errorType ?? 'error'}: ${body.error ?? JSON.stringify(body)}`);
    }
    return body.data as T;
  }

  private get(pathAndQuery: string): Promise<Response> {
    return fetch(`${this.url}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
  }
}

function configText(options: PrometheusOptions): string {
  // JSON is YAML: every string quoted, nothing for a path or a name to break.
  const config = {
    global: {
      scrape_interval: SCRAPE_INTERVAL,
      scrape_timeout: SCRAPE_INTERVAL,
      evaluation_interval: SCRAPE_INTERVAL,
    },
    rule_files: options.ruleFiles,
    scrape_configs: [
      {
        job_name: options.job,
        metrics_path: '/metrics',
        static_configs: [{ targets: [options.target] }],
      },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
