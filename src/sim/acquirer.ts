import { SwitchClient } from '../client/client.js';
import type { SwitchClientOptions } from '../client/options.js';
import type { SimOptions } from './args.js';
import { LeanRequestEncoder } from './lean-codec.js';
import { LeanConnection } from './lean-connection.js';
import { type LoadConnection, SdkLoadConnection } from './load-connection.js';
import { LoadDriver } from './load-driver.js';
import { generatePans, RequestFactory, STAN_MAX, skewedPanPicker } from './request-factory.js';
import { seededRandom } from './rng.js';
import { formatProgressLine, formatSummary, SimStats, type SimSummary } from './stats.js';

export { parseSimArgs, SIM_USAGE, SimArgsError, type SimOptions } from './args.js';
export type { SimSummary } from './stats.js';

const PROGRESS_INTERVAL_MS = 1_000;
const CLEAR_TO_END_OF_LINE = '\x1b[K';
const SKEW_SEED_SALT = 0x5eed_5ce7;

/**
 * The acquirer simulator: signs on `connections` times as one acquirer,
 * drives valid transactions (docs/protocol.md section 3) until --duration,
 * --count, Ctrl-C or `signal`, waits for what is still in flight, signs off,
 * prints the summary and returns it. Rejects only when it cannot start
 * (connect or sign-on failed).
 */
export async function runAcquirerSim(options: SimOptions): Promise<SimSummary> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const progressOnTty = stderr.isTTY === true;
  const cpuAtStart = process.cpuUsage();
  const random = seededRandom(options.seed);
  const pans = generatePans(options.pans, options.prefix);
  const factory = new RequestFactory({
    mti: options.mti,
    pans,
    amount: options.amount,
    currency: options.currency,
    firstStan: 1 + Math.floor(random() * STAN_MAX),
    // Its own stream, so a skew does not change the stan start or the back-off jitter of a seed.
    ...(options.skew === undefined
      ? {}
      : { pickPan: skewedPanPicker(pans.length, options.skew, seededRandom(options.seed ^ SKEW_SEED_SALT)) }),
  });

  const { connection } = options;
  const clientOptions: SwitchClientOptions = {
    transport: connection.transport,
    host: connection.host,
    port: connection.port,
    path: connection.path,
    ...(connection.tls === undefined ? {} : { tls: connection.tls }),
    institution: connection.institution,
    role: 'acquirer',
    secretKey: connection.secretKey,
    requestTimeoutMs: connection.requestTimeoutMs,
    coalesce: options.coalesce,
    random,
  };
  const note = (line: string): void => {
    if (options.progress) stderr.write(`${progressOnTty ? `\r${CLEAR_TO_END_OF_LINE}` : ''}sim: ${line}\n`);
  };
  let connections: LoadConnection[];
  let opening: Promise<void>[];
  if (options.lean === true) {
    const encoder = new LeanRequestEncoder(
      { mti: options.mti, amount: options.amount, currency: options.currency },
      pans,
    );
    const lean = Array.from(
      { length: options.connections },
      () => new LeanConnection(clientOptions, encoder),
    );
    connections = lean;
    opening = lean.map((c) => c.open());
  } else {
    const clients = Array.from({ length: options.connections }, () => new SwitchClient(clientOptions));
    clients.forEach((client, index) => {
      client.on('disconnect', (error) => note(`connection ${index}: ${error.message}`));
      client.on('reconnect', ({ attempts }) =>
        note(`connection ${index}: signed on again after ${attempts} attempt(s)`),
      );
      client.on('error', (error) => note(`connection ${index}: ${error.message}`));
    });
    connections = clients.map((client) => new SdkLoadConnection(client));
    opening = clients.map((client) => client.connect());
  }

  const connected = await Promise.allSettled(opening);
  const failure = connected.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(connections.map((c) => c.close()));
    throw failure.reason;
  }

  const stats = new SimStats();
  const driver = new LoadDriver(connections, factory, stats, options);
  let interrupts = 0;
  const onInterrupt = (): void => {
    interrupts++;
    if (interrupts === 1) {
      note('stopping: waiting for in-flight responses (Ctrl-C again to abort)');
      driver.stop();
      return;
    }
    // Second Ctrl-C: unanswered requests reject CLOSED, which drains the driver at once.
    driver.stop();
    for (const c of connections) void c.close();
  };
  const onAbort = (): void => driver.stop();
  if (options.handleSigint) process.on('SIGINT', onInterrupt);
  options.signal?.addEventListener('abort', onAbort);
  const durationTimer =
    options.durationS === undefined ? undefined : setTimeout(() => driver.stop(), options.durationS * 1000);
  let progressLines = 0;
  const progressTimer = options.progress
    ? setInterval(() => {
        const line = formatProgressLine(stats.tick());
        stderr.write(progressOnTty ? `\r${line}${CLEAR_TO_END_OF_LINE}` : `${line}\n`);
        progressLines++;
      }, options.progressIntervalMs ?? PROGRESS_INTERVAL_MS)
    : undefined;

  try {
    if (options.signal?.aborted === true) driver.stop();
    await driver.start();
  } finally {
    if (durationTimer !== undefined) clearTimeout(durationTimer);
    if (progressTimer !== undefined) clearInterval(progressTimer);
    if (options.handleSigint) process.off('SIGINT', onInterrupt);
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (progressOnTty && progressLines > 0) stderr.write('\n');
  const elapsedMs = driver.elapsedMs;

  // Polite end: sign-off lets the switch flush and close; a client that cannot (closed, reconnecting) just closes.
  await Promise.all(connections.map((c) => c.signoff()));

  const sendLagMs = stats.sendLagMs();
  const cpu = process.cpuUsage(cpuAtStart);
  const summary: SimSummary = {
    institution: connection.institution,
    transport: connection.tls === undefined ? connection.transport : `${connection.transport}+tls`,
    connections: options.connections,
    batch: options.batch,
    client: options.lean === true ? 'lean' : 'sdk',
    targetRatePerS: options.ratePerS,
    seed: options.seed,
    sent: stats.sent,
    answered: stats.answered,
    errors: stats.errors,
    errorCounts: { ...stats.errorCounts },
    rcCounts: { ...stats.rcCounts },
    elapsedMs,
    achievedRatePerS: elapsedMs > 0 ? (stats.answered * 1000) / elapsedMs : 0,
    latencyMs: stats.latencyMs(),
    ...(sendLagMs === undefined ? {} : { sendLagMs }),
    cpuMs: { user: cpu.user / 1000, system: cpu.system / 1000 },
  };
  stdout.write(options.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  return summary;
}
