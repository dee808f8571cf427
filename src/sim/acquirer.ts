import { SwitchClient } from '../client/client.js';
import type { SimOptions } from './args.js';
import { LoadDriver } from './load-driver.js';
import { generatePans, RequestFactory, STAN_MAX } from './request-factory.js';
import { seededRandom } from './rng.js';
import { formatProgressLine, formatSummary, SimStats, type SimSummary } from './stats.js';

export { parseSimArgs, SIM_USAGE, SimArgsError, type SimOptions } from './args.js';
export type { SimSummary } from './stats.js';

const PROGRESS_INTERVAL_MS = 1_000;
const CLEAR_TO_END_OF_LINE = '\x1b[K';

/**
 * The acquirer simulator: signs on `connections` times as one acquirer,
 * drives valid transactions (PROTOCOL.md section 3) until --duration,
 * --count, Ctrl-C or `signal`, waits for what is still in flight, signs off,
 * prints the summary and returns it. Rejects only when it cannot start
 * (connect or sign-on failed).
 */
export async function runAcquirerSim(options: SimOptions): Promise<SimSummary> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const progressOnTty = stderr.isTTY === true;
  const random = seededRandom(options.seed);
  const factory = new RequestFactory({
    mti: options.mti,
    pans: generatePans(options.pans, options.prefix),
    amount: options.amount,
    currency: options.currency,
    firstStan: 1 + Math.floor(random() * STAN_MAX),
  });

  const { connection } = options;
  const clients = Array.from(
    { length: options.connections },
    () =>
      new SwitchClient({
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
      }),
  );
  const note = (line: string): void => {
    if (options.progress) stderr.write(`${progressOnTty ? `\r${CLEAR_TO_END_OF_LINE}` : ''}sim: ${line}\n`);
  };
  clients.forEach((client, index) => {
    client.on('disconnect', (error) => note(`connection ${index}: ${error.message}`));
    client.on('reconnect', ({ attempts }) =>
      note(`connection ${index}: signed on again after ${attempts} attempt(s)`),
    );
    client.on('error', (error) => note(`connection ${index}: ${error.message}`));
  });

  const connected = await Promise.allSettled(clients.map((client) => client.connect()));
  const failure = connected.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(clients.map((client) => client.close()));
    throw failure.reason;
  }

  const stats = new SimStats();
  const driver = new LoadDriver(clients, factory, stats, options);
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
    for (const client of clients) void client.close();
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
  await Promise.all(clients.map((client) => client.signoff().catch(() => client.close())));

  const summary: SimSummary = {
    institution: connection.institution,
    transport: connection.tls === undefined ? connection.transport : `${connection.transport}+tls`,
    connections: options.connections,
    batch: options.batch,
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
  };
  stdout.write(options.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  return summary;
}
